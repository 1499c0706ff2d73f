"""Definitions the change uses from other changed files: when a hunk calls `charge(...)` and
`charge` is defined in a changed file of the pull request, away from the hunks the call
shows, the call's prompt shows that definition too (from the new text, within the call's
budget), so the model can check the call against what it calls.

Names are read from added lines (`name(`, RE2: linear); definitions come from tree-sitter
(reviewers/scope.py). At most `MAX_PER_CALL` definitions a call, each cut to `MAX_LINES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reviewers.diff import FileDiff
from reviewers.linear import compile_linear
from reviewers.scope import Definition, definitions

MAX_PER_CALL = 5
MAX_LINES = 60
_CALL = compile_linear(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_MIN_NAME = 3
_MAX_LINE_READ = 2_000


def definition_index(new_texts: Mapping[str, str]) -> dict[str, list[Definition]]:
    """Name → its definitions in the changed files whose new text is known (the review
    fetches texts for changed files only)."""
    index: dict[str, list[Definition]] = {}
    for path, text in new_texts.items():
        for found in definitions(path, text):
            index.setdefault(found.name, []).append(found)
    return index


def called_names(files: Sequence[FileDiff]) -> list[str]:
    """Names called on added lines, first use first."""
    names: dict[str, None] = {}
    added = [
        line.text[:_MAX_LINE_READ]
        for file in files
        for hunk in file.hunks
        for line in hunk.lines
        if line.kind == "added"
    ]
    # One search over all of them (NUL-joined: `\s` cannot match across two lines).
    for match in _CALL.finditer("\0".join(added)):
        name = match.group(1) or ""
        if len(name) >= _MIN_NAME:
            names.setdefault(name, None)
    return list(names)


def used_definitions(
    chunk_files: Sequence[FileDiff], index: Mapping[str, list[Definition]]
) -> list[Definition]:
    """Definitions of the names the call's changes call, except those its own hunks touch
    (the hunk, with its enclosing definition, already shows them)."""
    shown: dict[str, list[tuple[int, int]]] = {}
    for file in chunk_files:
        spans = shown.setdefault(file.path, [])
        spans += [(h.new_start, max(h.new_start, h.new_end)) for h in file.hunks]

    def visible(found: Definition) -> bool:
        return any(
            first <= found.end_line and found.start_line <= last
            for first, last in shown.get(found.path, ())
        )

    chosen: list[Definition] = []
    for name in called_names(chunk_files):
        elsewhere = [d for d in index.get(name, ()) if not visible(d)]
        if elsewhere:
            chosen.append(elsewhere[0])
        if len(chosen) >= MAX_PER_CALL:
            break
    return chosen


def definition_lines(found: Definition, text: str) -> list[tuple[int, str]]:
    lines = text.splitlines()
    end = min(found.end_line, len(lines), found.start_line + MAX_LINES - 1)
    return [(n, lines[n - 1]) for n in range(found.start_line, end + 1)]
