"""Unified-diff arithmetic as GitHub does it for pull request files: which lines of a `patch`
a review comment may address, on which side, in which hunk, and at which (legacy) position;
and patches computed from two texts when a test gives contents instead of a patch."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class DiffLine:
    """One line of a patch. `position` is GitHub's legacy review-comment position: lines
    counted from 1 below the first hunk header, later headers included; `hunk` counts hunks
    from 0. `old`/`new` are the line numbers on the LEFT/RIGHT side (None where absent)."""

    kind: str  # "@" (a hunk header), " " (context), "+", "-", "\\" (no newline marker)
    text: str
    position: int
    hunk: int
    old: int | None = None
    new: int | None = None

    def on(self, side: str) -> int | None:
        """The line number this line has on `side` ("LEFT" or "RIGHT"), if it is there."""
        if side == "RIGHT":
            return self.new if self.kind in {" ", "+"} else None
        return self.old if self.kind in {" ", "-"} else None


def parse_patch(patch: str | None) -> list[DiffLine]:
    """The lines of a GitHub `patch` (hunks only, no file headers). Empty for a file GitHub
    sends without a patch (binary, too large) or for a patch that is not a diff."""
    lines: list[DiffLine] = []
    if not patch:
        return lines
    hunk, old, new = -1, 0, 0
    position = 0
    raws = patch.split("\n")
    if raws[-1] == "":
        raws.pop()  # a trailing newline ends the last line; it is not a line of its own
    for raw in raws:
        header = HUNK_HEADER.match(raw)
        if header:
            hunk += 1
            old, new = int(header.group(1)), int(header.group(3))
            if hunk > 0:
                position += 1
            lines.append(DiffLine("@", raw, position, hunk))
            continue
        if hunk < 0:
            continue  # text before the first hunk (a file header) has no position
        position += 1
        kind = raw[:1] if raw[:1] in {"+", "-", "\\"} else " "
        text = raw[1:]
        if kind == " ":
            lines.append(DiffLine(kind, text, position, hunk, old=old, new=new))
            old, new = old + 1, new + 1
        elif kind == "+":
            lines.append(DiffLine(kind, text, position, hunk, new=new))
            new += 1
        elif kind == "-":
            lines.append(DiffLine(kind, text, position, hunk, old=old))
            old += 1
        else:
            lines.append(DiffLine(kind, text, position, hunk))
    return lines


def find_line(lines: list[DiffLine], side: str, number: int) -> DiffLine | None:
    """The diff line that is line `number` on `side`, if the diff shows it."""
    return next((d for d in lines if d.on(side) == number), None)


def at_position(lines: list[DiffLine], position: int) -> DiffLine | None:
    return next((d for d in lines if d.position == position and d.kind != "@"), None)


def diff_hunk(lines: list[DiffLine], target: DiffLine) -> str:
    """What GitHub stores as a review comment's `diff_hunk`: the hunk's header down to the
    commented line."""
    taken = [d for d in lines if d.hunk == target.hunk and d.position <= target.position]
    return "\n".join(d.text if d.kind == "@" else d.kind + d.text for d in taken)


def counts(patch: str | None) -> tuple[int, int]:
    """(additions, deletions) of a patch."""
    lines = parse_patch(patch)
    return sum(d.kind == "+" for d in lines), sum(d.kind == "-" for d in lines)


def make_patch(old: str | None, new: str | None, context: int = 3) -> str:
    """A GitHub-style patch (hunks only) turning `old` into `new`; None is an absent file."""
    before = (old or "").splitlines()
    after = (new or "").splitlines()
    diff = difflib.unified_diff(before, after, lineterm="", n=context)
    return "\n".join(line for line in diff if not line.startswith(("---", "+++")))
