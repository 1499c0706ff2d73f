"""`python -m benchmarks [NAME ...]`: run the benchmarks, print one table of figures."""

# ruff: noqa: T201 - printing figures is the point

from __future__ import annotations

import sys
from collections.abc import Callable

from benchmarks import budget, console, ingest, matchers, review, usage
from benchmarks.support import Figure, machine

BENCHMARKS: dict[str, Callable[[], list[Figure]]] = {
    "ingest": ingest.run,
    "usage": usage.run,
    "review": review.run,
    "matchers": matchers.run,
    "budget": budget.run,
    "console": console.run,
}


def main(names: list[str]) -> int:
    chosen = names or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    figures: list[Figure] = []
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        figures.extend(BENCHMARKS[name]())
    print(f"\nMachine: {machine()}\n")
    widths = [max(len(row[i]) for row in _rows(figures)) for i in range(4)]
    for row in _rows(figures):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


def _rows(figures: list[Figure]) -> list[tuple[str, str, str, str]]:
    header = ("benchmark", "metric", "value", "goal")
    return [header] + [(f.benchmark, f.metric, f.value, f.goal) for f in figures]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
