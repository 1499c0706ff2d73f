"""The words Sentinel posts: inline comments, the review body, the check run, the summary."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

from app.publish.markdown import code_fence
from app.publish.sanitize import (
    ANNOTATION_MESSAGE_LIMIT,
    CHECK_OUTPUT_LIMIT,
    COMMENT_BODY_LIMIT,
    has_invisible,
    plain_text,
    sanitize_markdown,
    truncate_utf8,
)
from reviewers.findings import Finding

SUMMARY_MARKER = "<!-- sentinel:summary -->"
SEVERITY_ICONS = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def run_marker(run_id: uuid.UUID) -> str:
    return f"<!-- sentinel:run:{run_id} -->"


def finding_marker(fingerprint: str) -> str:
    return f"<!-- sentinel:finding:{fingerprint} -->"


def own_markup(run_id: uuid.UUID, placed: list[Placed]) -> frozenset[str]:
    """The raw HTML Sentinel itself puts in its bodies: markers and the footer's <sub>."""
    markers = {finding_marker(p.finding.fingerprint) for p in placed}
    return frozenset({SUMMARY_MARKER, run_marker(run_id), "<sub>", "</sub>", *markers})


@dataclass(frozen=True)
class Placed:
    """A finding with where it goes on GitHub."""

    finding_id: uuid.UUID
    finding: Finding
    inline: bool
    line: int
    start_line: int | None  # set for multi-line comments
    suggestion_allowed: bool
    reason: str  # why it is in the summary rather than inline ("" when inline)


@dataclass(frozen=True)
class RunFacts:
    run_id: uuid.UUID
    head_sha: str
    mode: str  # "full" or "incremental since <sha>"
    files_reviewed: int
    not_reviewed: list[tuple[str, str]]
    provider: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    prompt_version: str
    policy: str
    notes: list[str]  # e.g. `.sentinel.yml` problems, chunks that failed
    already_posted: int
    estimate: str = ""  # what the plan expected to send and spend, before any call
    cost: str = ""  # what the reported tokens cost at list prices ("" when unknown)


def comment_body(placed: Placed, *, allowed_host: str) -> str:
    finding = placed.finding
    icon = SEVERITY_ICONS.get(finding.severity.value, "")
    text = (
        f"**{icon} {finding.severity.value.capitalize()} · {finding.category.value}: "
        f"{finding.title}**\n\n{finding.body}"
    )
    text = sanitize_markdown(text, allowed_host=allowed_host, limit=COMMENT_BODY_LIMIT - 2000)
    if placed.suggestion_allowed and finding.suggestion is not None:
        text += "\n\n" + _suggestion_block(
            finding.suggestion, room=COMMENT_BODY_LIMIT - 400 - len(text)
        )
    return text + "\n" + finding_marker(finding.fingerprint)


def _suggestion_block(suggestion: str, *, room: int) -> str:
    """A ```suggestion block replaces the commented lines when accepted, so it is posted
    byte for byte or not at all: never cut short, never carrying invisible or bidirectional
    controls into the code, always in a fence longer than any backtick run it holds."""
    if has_invisible(suggestion):
        return "_(suggestion withheld: it contained invisible or bidirectional control characters)_"
    block = "\n".join(code_fence(suggestion.rstrip("\n") + "\n", "suggestion"))
    if len(block) > room:
        return "_(suggestion withheld: too long for a GitHub comment)_"
    return block


def review_body(facts: RunFacts, placed: list[Placed]) -> str:
    inline = sum(1 for p in placed if p.inline)
    return (
        f"Sentinel reviewed `{facts.head_sha[:12]}` ({facts.mode}): {inline} inline "
        f"comment(s). The summary comment has the details.\n{run_marker(facts.run_id)}"
    )


def _counts(placed: list[Placed]) -> str:
    counts = Counter(p.finding.severity.value for p in placed)
    parts = [f"{counts[s]} {s}" for s in ("critical", "warning", "info") if counts[s]]
    return ", ".join(parts) or "no findings"


def summary_body(facts: RunFacts, placed: list[Placed], *, allowed_host: str) -> str:
    lines = [
        "## Sentinel review",
        "",
        f"Reviewed `{facts.head_sha[:12]}` ({facts.mode}): {facts.files_reviewed} file(s), "
        f"{_counts(placed)}.",
    ]
    if facts.already_posted:
        lines.append(f"{facts.already_posted} finding(s) were already posted earlier and are "
                     "not repeated.")  # fmt: skip
    elsewhere = [p for p in placed if not p.inline]
    if elsewhere:
        lines += ["", "### Findings not placed inline", ""]
        for item in elsewhere:
            f = item.finding
            lines.append(
                f"- {SEVERITY_ICONS.get(f.severity.value, '')} **{f.title}** — `{f.path}` "
                f"line {f.line_start}"
                + (f"-{f.line_end}" if f.line_end != f.line_start else "")
                + f" ({item.reason})\n  {f.body.splitlines()[0] if f.body else ''}"
            )
    if facts.not_reviewed:
        lines += ["", "### Not reviewed", ""]
        used = sum(len(line) + 1 for line in lines)
        lines += not_reviewed_list(facts.not_reviewed, room=SUMMARY_LIST_LIMIT - used)
    if facts.notes:
        lines += ["", "### Notes", ""] + [f"- {note}" for note in facts.notes]
    model = f"{facts.provider} `{facts.model}`" if facts.provider else "static reviewers only"
    cost = f" ({facts.cost})" if facts.cost else ""
    footer = sanitize_markdown(
        f"{model} · {facts.input_tokens} input / {facts.output_tokens} output tokens{cost} · "
        f"prompt {facts.prompt_version} · policy {facts.policy} · run `{facts.run_id}`",
        allowed_host=allowed_host,
    )
    # The footer's <sub> is ours, added after sanitising (which escapes every tag).
    body = sanitize_markdown(
        "\n".join(lines), allowed_host=allowed_host, limit=COMMENT_BODY_LIMIT - len(footer) - 200
    )
    return f"{body}\n\n<sub>{footer}</sub>\n{SUMMARY_MARKER}"


# What the summary's text may take before its list of files not reviewed stops (GitHub takes
# 65,536 characters; the notes, the footer and sanitising need the rest).
SUMMARY_LIST_LIMIT = 56_000
NOT_LISTED_HERE = "listed in full in the check run's details and the run's API record"


def not_reviewed_list(items: list[tuple[str, str]], *, room: int) -> list[str]:
    """Markdown list items naming files not reviewed, one item per reason (a reason is said
    once, then its files), as many files as `room` characters take; then how many more."""
    groups: dict[str, list[str]] = {}
    for path, reason in items:
        what, split, why = reason.partition(" not reviewed: ")
        if split and what.startswith("lines "):
            # A file reviewed in part: the same reason as whole files, with its lines named.
            groups.setdefault(f"not reviewed: {why}", []).append(f"`{path}` ({what})")
        else:
            groups.setdefault(reason, []).append(f"`{path}`")
    lines: list[str] = []
    listed = 0
    for reason, entries in groups.items():
        head = f"- {reason} ({len(entries)} file{'s' if len(entries) != 1 else ''}): "
        room -= len(head)
        shown: list[str] = []
        for entry in entries:
            if room - len(entry) - 2 < 200:  # keep room for the closing line
                break
            shown.append(entry)
            room -= len(entry) + 2
        listed += len(shown)
        if shown:
            lines.append(head + ", ".join(shown))
        if len(shown) < len(entries):
            break
    if listed < len(items):
        lines.append(f"- … and {len(items) - listed} more, {NOT_LISTED_HERE}")
    return lines


def check_text(facts: RunFacts, *, allowed_host: str) -> str:
    """The check run's details: every file not reviewed, as far as GitHub's limit allows."""
    if not facts.not_reviewed:
        return ""
    lines = ["### Every file not reviewed", ""]
    for path, reason in facts.not_reviewed:
        lines.append(f"- `{path}`: {reason}")
    text = sanitize_markdown("\n".join(lines), allowed_host=allowed_host, limit=CHECK_OUTPUT_LIMIT)
    return truncate_utf8(text, CHECK_OUTPUT_LIMIT)


def estimate_output(estimate: str) -> tuple[str, str]:
    """(title, summary) of a check run while its model calls run: the plan's estimate."""
    return "Reviewing", f"Sentinel is reviewing this commit. Planned: {estimate}."


def failure_output(reason: str, *, allowed_host: str) -> tuple[str, str]:
    """(title, summary) of the check run of a run that failed: what went wrong, what to do."""
    return "Sentinel could not review this commit", truncate_utf8(
        sanitize_markdown(reason, allowed_host=allowed_host), CHECK_OUTPUT_LIMIT
    )


def check_output(facts: RunFacts, placed: list[Placed], *, allowed_host: str) -> tuple[str, str]:
    """(title, summary) of the check run of a completed review."""
    title = f"{_counts(placed)}"
    summary = summary_body(facts, placed, allowed_host=allowed_host)
    if facts.estimate:
        summary += f"\n\nEstimated before the first model call: {facts.estimate}."
    return title, truncate_utf8(summary.replace(SUMMARY_MARKER, ""), CHECK_OUTPUT_LIMIT)


def annotation_level(severity: str) -> str:
    return {"critical": "failure", "warning": "warning"}.get(severity, "notice")


def annotation(placed: Placed, *, allowed_host: str) -> dict[str, object]:
    f = placed.finding
    # Annotation messages are shown as plain text: nothing in them renders or notifies.
    message = plain_text(
        f.body or f.title, allowed_host=allowed_host, limit=ANNOTATION_MESSAGE_LIMIT
    )
    return {
        "path": f.path,
        "start_line": placed.start_line or placed.line,
        "end_line": placed.line,
        "annotation_level": annotation_level(f.severity.value),
        "title": plain_text(f.title, allowed_host=allowed_host, limit=255),
        "message": message,
    }
