"""Matchers on hostile input: CPU milliseconds per MB for the worst input we can construct.

Each matcher that sees pull-request content, tenant globs or model output runs over a 10 MB
"pull request" made of 64 KB lines of one attack (the repeated credential names that stalled
the old secret scanner, nested `**` globs, unclosed strings and parameter lists for the
context heuristics, ...). The figure is the worst attack's CPU time (time.process_time, so
other load on the machine counts little) divided by the megabytes scanned.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.publish.markdown import unsafe_parts
from app.publish.sanitize import COMMENT_BODY_LIMIT, sanitize_markdown
from benchmarks.support import Figure
from reviewers import context, filters, globs, output, untrusted
from reviewers.diff import parse_unified_diff
from reviewers.providers import output as provider_output
from reviewers.static import secrets

LINE_BYTES = 64 * 1024
PR_BYTES = 10 * 1024 * 1024
LINES_PER_PR = PR_BYTES // LINE_BYTES
GOAL = "< 50 ms CPU per MB"

# Units repeated to fill a 64 KB line: each drove one of the old backtracking patterns.
ATTACK_UNITS = (
    "token",
    '"token"',
    "secret_",
    "api-key.",
    "password=",
    "aws secret ",
    "Code generated ",
    "a",
    " ",
    "(",
    '"\\x',
    "/*",
    "<!--",
    "```",
    "@generated ",
    "ghp_",
    "-----BEGIN ",
)


# Units repeated to fill a comment body: each is work for a CommonMark parser (unclosed
# brackets, emphasis runs, backtick runs, entities, mentions, autolinks).
MARKDOWN_UNITS = ("[", "*a", "**_", "`a", "[a](", "<", "&#64;", "@a ", "https://e.example ")


def attack_line(unit: str) -> str:
    return (unit * (LINE_BYTES // len(unit) + 1))[:LINE_BYTES]


def attack_diff(unit: str) -> str:
    body = "".join(f"+{attack_line(unit)}\n" for _ in range(LINES_PER_PR))
    header = f"diff --git a/f.py b/f.py\n--- a/f.py\n+++ b/f.py\n@@ -0,0 +1,{LINES_PER_PR} @@\n"
    return header + body


def _ms_per_mb(work: Callable[[], object], megabytes: float) -> float:
    start = time.process_time()
    work()
    return (time.process_time() - start) * 1000 / megabytes


def _worst(measure: Callable[[str], float]) -> tuple[float, str]:
    results = [(measure(unit), unit) for unit in ATTACK_UNITS]
    return max(results)


def run() -> list[Figure]:
    megabytes = PR_BYTES / (1024 * 1024)
    lines = {unit: [attack_line(unit)] * LINES_PER_PR for unit in ATTACK_UNITS}
    diffs = {unit: attack_diff(unit) for unit in ("token", "(", "+", "@@ -1 +1 @@ ")}
    parsed = {unit: parse_unified_diff(attack_diff(unit)) for unit in ATTACK_UNITS}

    def each_line(check: Callable[[str], object]) -> Callable[[str], float]:
        return lambda unit: _ms_per_mb(lambda: [check(line) for line in lines[unit]], megabytes)

    measures: dict[str, Callable[[str], float]] = {
        "secret scan (added lines)": lambda unit: _ms_per_mb(
            lambda: secrets.scan(parsed[unit]), megabytes
        ),
        "secret redaction (prompt)": lambda unit: _ms_per_mb(
            lambda: secrets.redact_lines(lines[unit]), megabytes
        ),
        "enclosing-context heuristics": each_line(lambda line: context._signature_at([line], 0)),
        "generated-file marker": each_line(filters._GENERATED_MARKER.search),
        "untrusted-text sanitiser": each_line(untrusted.sanitize_untrusted),
        "model output JSON fence": each_line(output.extract_json),
        "provider output JSON fence": each_line(provider_output.parse_json_object),
        "tenant glob, 32 nested **": each_line(
            lambda line: globs.glob_match("/".join(["**"] * 32) + "/x.py", line.replace(" ", "/"))
        ),
    }
    figures: list[Figure] = []
    for name, measure in measures.items():
        worst, unit = _worst(measure)
        figures.append(
            Figure(
                "matchers",
                f"{name}, worst of {len(ATTACK_UNITS)} attacks ({unit!r} x 64 KB)",
                f"{worst:.1f} ms/MB",
                GOAL,
            )
        )
    for unit, diff in diffs.items():
        figures.append(
            Figure(
                "matchers",
                f"diff parsing, 10 MB of {unit!r} x 64 KB lines",
                f"{_ms_per_mb(lambda diff=diff: parse_unified_diff(diff), megabytes):.1f} ms/MB",
                GOAL,
            )
        )
    figures.extend(_markdown_figures())
    return figures


def _markdown_figures() -> list[Figure]:
    """The posting sanitiser parses Markdown in pure Python: report its worst body (GitHub's
    65,536-character limit) and how time grows when the body doubles (linear: about 2x)."""

    def seconds(unit: str, size: int) -> float:
        body = (unit * (size // len(unit) + 1))[:size]

        def once() -> float:
            start = time.process_time()
            out = sanitize_markdown(body, allowed_host="github.com", limit=4 * size)
            unsafe_parts(out, allowed_host="github.com")
            return time.process_time() - start

        return min(once() for _ in range(3))  # least disturbed of three

    size = COMMENT_BODY_LIMIT
    one, unit = max((seconds(unit, size), unit) for unit in MARKDOWN_UNITS)
    growth = seconds(unit, 2 * size) / one
    return [
        Figure(
            "matchers",
            f"posted-body sanitiser (CommonMark), worst of {len(MARKDOWN_UNITS)} attacks "
            f"({unit!r} x 64 KB body)",
            f"{one * 1000:.0f} ms per body",
            "< 2 s per body (pure-Python parser), in a worker thread",
        ),
        Figure(
            "matchers",
            "posted-body sanitiser, time for a 128 KB body / a 64 KB body (worst attack)",
            f"{growth:.2f}x",
            "linear: about 2x",
        ),
    ]
