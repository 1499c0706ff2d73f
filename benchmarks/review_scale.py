"""Scale: a pull request of 3,000 files and 300,000 changed lines, as GitHub's files API
sends it, parsed (`parse_github_file`), filtered (`filter_files`) and planned into chunks
(`plan_chunks`), as the review job does before calling a model.

The step runs in a child process of its own (`python -m benchmarks.review_scale`), so that
its peak RSS is this step's alone: the child generates the input (tests/reviewers/
bench_scale.py's generator: 100 changed lines per file in 5 hunks with context, 1 file in
~50 one the default filters drop), records its RSS, resets the kernel's high-water mark
(/proc/self/clear_refs), runs the step once cold (wall time and peak RSS), twice more (wall
time), then once under tracemalloc (peak of the step's Python allocations; tracemalloc slows
the code it watches, so that run is not timed). It prints one JSON object.
"""

# ruff: noqa: T201 - the child's answer is printed

from __future__ import annotations

import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the child imports nothing but what the step needs
    from benchmarks.support import Figure

# The model's context window, the engine's reserved output and the policy's default limits,
# as the review job plans (every hunk rendered and counted while the run has room).
CONTEXT_WINDOW = 200_000
MAX_OUTPUT_TOKENS = 4_096
MAX_CALLS = 20
MAX_INPUT_TOKENS = 400_000
TIMED_RUNS = 3


def _step(entries: list[dict[str, Any]]) -> dict[str, Any]:
    from reviewers.config import ReviewConfig
    from reviewers.diff import parse_github_file
    from reviewers.engine import PullRequestContext, plan_review
    from reviewers.filters import filter_files

    started = time.perf_counter()
    files = [parse_github_file(entry) for entry in entries]
    parsed = time.perf_counter()
    kept, skipped = filter_files(files)
    filtered = time.perf_counter()
    plan = plan_review(
        kept,
        config=ReviewConfig(),
        pr=PullRequestContext(title="Scale", body="3,000 files"),
        provider_name="anthropic",
        context_window=CONTEXT_WINDOW,
        max_output_tokens=MAX_OUTPUT_TOKENS,
        max_model_calls=MAX_CALLS,
        max_input_tokens=MAX_INPUT_TOKENS,
    )
    planned = time.perf_counter()
    return {
        "parse": parsed - started,
        "filter": filtered - parsed,
        "plan": planned - filtered,
        "total": planned - started,
        "files": len(files),
        "changed": sum(f.additions + f.deletions for f in files),
        "kept": len(kept),
        "skipped": len(skipped),
        "chunks": len(plan.chunks),
        "not_reviewed": len(plan.not_reviewed),
    }


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child() -> dict[str, Any]:
    # Imports reviewers.diff, .filters and .budget: loaded before measuring, as in a worker.
    from reviewers.tokens import load_tokenizer
    from tests.reviewers.bench_scale import github_entries

    load_tokenizer()  # as a worker does when it starts
    entries = github_entries()
    patch_bytes = sum(len(entry["patch"]) for entry in entries)
    gc.collect()
    before = _status_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    first = _step(entries)
    peak_kib = _status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runs = [first["total"]]
    for _ in range(TIMED_RUNS - 1):
        gc.collect()
        runs.append(_step(entries)["total"])
    gc.collect()
    tracemalloc.start()
    _step(entries)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        **first,
        "runs": runs,
        "patch_mb": patch_bytes / 1e6,
        "rss_before_mb": before / 1024,
        "rss_peak_mb": peak_kib / 1024,
        "hwm_reset": reset,
        "traced_peak_mb": traced_peak / 2**20,
    }


def run() -> list[Figure]:
    from benchmarks.support import Figure

    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.review_scale"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result = json.loads(completed.stdout)
    name = "review scale"
    first, runs = result["runs"][0], result["runs"]
    return [
        Figure(name, "input: files / changed lines / patch text (MB)",
               f"{result['files']} / {result['changed']} / {result['patch_mb']:.1f}"),
        Figure(name, "parse + filter + plan, first run (s)", f"{first:.2f}", "≤ 3"),
        Figure(name, f"  median / max of {len(runs)} runs (s)",
               f"{statistics.median(runs):.2f} / {max(runs):.2f}"),
        Figure(name, "  parse / filter / plan, first run (s)",
               f"{result['parse']:.2f} / {result['filter']:.2f} / {result['plan']:.2f}"),
        Figure(name, "  kept / skipped files; chunks; files not (fully) reviewed",
               f"{result['kept']} / {result['skipped']}; {result['chunks']}; "
               f"{result['not_reviewed']}"),
        Figure(name, "peak RSS of the child process during the step (MB)",
               f"{result['rss_peak_mb']:.0f}", "≤ 500"),
        Figure(name, "  of which before the step: interpreter + input (MB)",
               f"{result['rss_before_mb']:.0f}"),
        Figure(name, "  peak Python allocations of the step, tracemalloc (MB)",
               f"{result['traced_peak_mb']:.0f}"),
    ]  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(child()))
