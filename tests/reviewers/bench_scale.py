"""Scale benchmark for the pure review core (not a test; run it by hand or from `make bench`):

    .venv/bin/python -m tests.reviewers.bench_scale

A pull request of 3,000 files and 300,000 changed lines (100 per file in 5 hunks, with
context), parsed from GitHub's files API shape and from one `git diff`, filtered and planned
into chunks. Goal (issue 4, section 11): at most 3 s and 500 MB peak.
"""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, TypeVar

from reviewers.budget import plan_chunks
from reviewers.diff import FileDiff, parse_github_file, parse_unified_diff
from reviewers.filters import filter_files

FILES = 3_000
HUNKS = 5
CHANGED_PER_HUNK = 20  # 10 deleted + 10 added: 100 changed lines per file
T = TypeVar("T")


def _hunks(file_index: int) -> str:
    out: list[str] = []
    start = 10
    for h in range(HUNKS):
        out.append(f"@@ -{start},16 +{start},16 @@ def function_{h}(arg):")
        out += [f"     context = compute(value_{c}, other_{file_index})" for c in range(3)]
        out += [f"-    removed = old_call(argument_{c}, keyword=True)" for c in range(10)]
        out += [f"+    added = new_call(argument_{c}, False)  # {file_index}" for c in range(10)]
        out += [f"     context = compute(value_{c}, other_{file_index})" for c in range(3)]
        start += 40
    return "\n".join(out)


def _path(i: int) -> str:
    # A realistic mix: some files the default filters drop.
    if i % 100 == 0:
        return f"web/pkg{i}/package-lock.json"
    if i % 101 == 0:
        return f"vendor/lib{i}/x.go"
    return f"src/pkg{i % 50}/module_{i}.py"


def github_entries() -> list[dict[str, Any]]:
    return [
        {
            "filename": _path(i),
            "status": "modified",
            "additions": HUNKS * 10,
            "deletions": HUNKS * 10,
            "patch": _hunks(i),
        }
        for i in range(FILES)
    ]


def unified_diff() -> str:
    parts = []
    for i in range(FILES):
        p = _path(i)
        parts.append(f"diff --git a/{p} b/{p}\nindex 1111111..2222222 100644\n")
        parts.append(f"--- a/{p}\n+++ b/{p}\n")
        parts.append(_hunks(i) + "\n")
    return "".join(parts)


def _timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {elapsed * 1000:8.0f} ms")  # noqa: T201
    return value, elapsed


def _pipeline(files: list[FileDiff]) -> None:
    kept, skipped = filter_files(files, ["!docs/**"])
    plan = plan_chunks(
        kept,
        context_window=200_000,
        max_output_tokens=4_096,
        prompt_overhead_tokens=1_500,
        max_calls=20,
    )
    changed = sum(f.additions + f.deletions for f in files)
    print(  # noqa: T201
        f"  files {len(files)}, changed lines {changed}, kept {len(kept)}, skipped {len(skipped)}, "
        f"chunks {len(plan.chunks)}, not reviewed {len(plan.not_reviewed)}"
    )


def main() -> None:
    entries = github_entries()
    text = unified_diff()
    print(f"input: {FILES} files, {len(text) / 1e6:.1f} MB of diff text")  # noqa: T201

    for source, parse in (
        ("GitHub files API", lambda: [parse_github_file(e) for e in entries]),
        ("git diff", lambda: parse_unified_diff(text)),
    ):
        print(f"{source}:")  # noqa: T201
        files, t_parse = _timed("parse", parse)
        _, t_rest = _timed("filter + plan", lambda files=files: _pipeline(files))  # type: ignore[misc]
        print(f"  {'total':<34} {(t_parse + t_rest) * 1000:8.0f} ms")  # noqa: T201
        del files

    # Memory, measured separately: tracemalloc slows the code it watches.
    gc.collect()
    tracemalloc.start()
    files = parse_unified_diff(text)
    _pipeline(files)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak Python allocations (parse+filter+plan): {peak / 2**20:.0f} MB")  # noqa: T201
    print(f"peak RSS of this process (includes the diff text and fixtures): {rss:.0f} MB")  # noqa: T201


if __name__ == "__main__":
    main()
