"""Token budgeting: which changes go to the model in which call, and which cannot.

Token estimate: ASCII text at 3.5 characters per token, every other character one token.
Deterministic and cheap (no tokenizer download, same answer in tests and production), and on
the safe side for code: Claude and GPT tokenizers average about 3.5-4.5 characters per token
on source code, and CJK text or emoji cost about a token per character. On top of that only
90% of the computed room is used, for what the estimate misses.

Packing: files in priority order (earliest matching path instruction first, then the largest
change first, so a call limit spends itself on what matters most), first-fit into at most
`max_calls` chunks. A file larger than a chunk is split by hunks, a hunk larger than a chunk
by lines. Whatever does not fit is returned in `not_reviewed` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from reviewers.config import PathInstruction
from reviewers.diff import DiffLine, FileDiff, Hunk
from reviewers.globs import glob_match
from reviewers.render import FILE_OVERHEAD_CHARS, HUNK_OVERHEAD_CHARS, LINE_OVERHEAD_CHARS

CHARS_PER_TOKEN = 3.5
INPUT_SAFETY = 0.9


def estimate_tokens(text: str) -> int:
    if text.isascii():
        return math.ceil(len(text) / CHARS_PER_TOKEN)
    other = sum(1 for ch in text if ord(ch) > 0x7F)
    return math.ceil((len(text) - other) / CHARS_PER_TOKEN) + other


def _line_tokens(line: DiffLine) -> float:
    text = line.text
    if text.isascii():
        return (len(text) + LINE_OVERHEAD_CHARS) / CHARS_PER_TOKEN
    other = sum(1 for ch in text if ord(ch) > 0x7F)
    return (len(text) - other + LINE_OVERHEAD_CHARS) / CHARS_PER_TOKEN + other


def estimate_hunk_tokens(hunk: Hunk) -> int:
    return math.ceil(HUNK_OVERHEAD_CHARS / CHARS_PER_TOKEN + sum(map(_line_tokens, hunk.lines)))


def _file_base_tokens(file: FileDiff, instructions: Sequence[PathInstruction]) -> int:
    chars = FILE_OVERHEAD_CHARS + len(file.path) + len(file.old_path or "")
    # A matching path instruction is rendered once per chunk; counting it per file
    # overestimates when several files share one, which is the safe direction.
    chars += sum(len(pi.path) + len(pi.instructions) + 8 for pi in instructions)
    return math.ceil(chars / CHARS_PER_TOKEN)


def estimate_file_tokens(
    file: FileDiff, path_instructions: Sequence[PathInstruction] | None = None
) -> int:
    matching = [pi for pi in path_instructions or () if glob_match(pi.path, file.path)]
    return _file_base_tokens(file, matching) + sum(estimate_hunk_tokens(h) for h in file.hunks)


@dataclass(frozen=True)
class Chunk:
    files: tuple[FileDiff, ...]
    estimated_tokens: int
    # True when a file here is only part of its diff (split to fit): the prompt says so.
    partial: bool = False

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


@dataclass(frozen=True)
class Plan:
    chunks: list[Chunk] = field(default_factory=list)
    not_reviewed: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Bin:
    files: list[FileDiff] = field(default_factory=list)
    tokens: int = 0
    partial: bool = False

    def add(self, piece: FileDiff, tokens: int, partial: bool) -> None:
        for index, present in enumerate(self.files):
            if present.path == piece.path:
                # Two parts of one file in the same call: show them as one file.
                hunks = tuple(sorted((*present.hunks, *piece.hunks), key=_hunk_order))
                self.files[index] = replace(present, hunks=hunks)
                break
        else:
            self.files.append(piece)
        self.tokens += tokens
        self.partial = self.partial or partial


def _hunk_order(hunk: Hunk) -> tuple[int, int]:
    return hunk.new_start, hunk.old_start


def plan_chunks(
    files: Sequence[FileDiff],
    *,
    context_window: int,
    max_output_tokens: int,
    prompt_overhead_tokens: int,
    max_calls: int,
    path_instructions: Sequence[PathInstruction] | None = None,
) -> Plan:
    instructions = list(path_instructions or ())
    if max_calls <= 0:
        reason = "not reviewed by a model: the policy allows no model calls for this run"
        return Plan([], [(f.path, reason) for f in files])
    room = math.floor((context_window - max_output_tokens - prompt_overhead_tokens) * INPUT_SAFETY)
    if room <= 0:
        reason = (
            f"not reviewed: the model's context window ({context_window} tokens) leaves no room "
            "for code after the prompt and the reserved output"
        )
        return Plan([], [(f.path, reason) for f in files])

    bins: list[_Bin] = []
    not_reviewed: list[tuple[str, str]] = []
    limit_reason = f"the run's limit of {max_calls} model call{'s' if max_calls != 1 else ''}"
    for file in sorted(files, key=lambda f: _priority(f, instructions)):
        matching = [pi for pi in instructions if glob_match(pi.path, file.path)]
        base = _file_base_tokens(file, matching)
        hunk_costs = [estimate_hunk_tokens(h) for h in file.hunks]
        total = base + sum(hunk_costs)
        pieces: list[tuple[FileDiff, int]]
        unfit: list[Hunk]
        if total <= room:
            pieces, unfit = [(file, total)], []
        else:
            pieces, unfit = _split(file, base, hunk_costs, room)
        left_out: list[Hunk] = list(unfit)
        placed_any = False
        for piece, cost in pieces:
            target = next((b for b in bins if b.tokens + cost <= room), None)
            if target is None and len(bins) < max_calls:
                target = _Bin()
                bins.append(target)
            if target is None:
                left_out.extend(piece.hunks)
            else:
                target.add(piece, cost, partial=piece is not file)
                placed_any = True
        if not left_out:
            continue
        if not placed_any and not unfit:
            not_reviewed.append((file.path, f"not reviewed: over {limit_reason}"))
        else:
            why = "too large for the model's context window" if unfit else f"over {limit_reason}"
            not_reviewed.append((file.path, f"{_describe(left_out)} not reviewed: {why}"))
    chunks = [Chunk(tuple(b.files), b.tokens, b.partial) for b in bins]
    return Plan(chunks, not_reviewed)


def _priority(file: FileDiff, instructions: Sequence[PathInstruction]) -> tuple[int, int, str]:
    rank = next(
        (i for i, pi in enumerate(instructions) if glob_match(pi.path, file.path)),
        len(instructions),
    )
    return rank, -(file.additions + file.deletions), file.path


def _split(
    file: FileDiff, base: int, hunk_costs: list[int], room: int
) -> tuple[list[tuple[FileDiff, int]], list[Hunk]]:
    """Parts of `file` that each fit in `room`, and the hunks (or hunk slices) that cannot."""
    parts: list[tuple[FileDiff, int]] = []
    unfit: list[Hunk] = []
    current: list[Hunk] = []
    current_cost = base

    def close() -> None:
        nonlocal current, current_cost
        if current:
            parts.append((replace(file, hunks=tuple(current)), current_cost))
        current, current_cost = [], base

    for hunk, cost in zip(file.hunks, hunk_costs, strict=True):
        if base + cost > room:
            close()
            for piece in _slice_lines(hunk, room - base, unfit):
                parts.append((replace(file, hunks=(piece,)), base + estimate_hunk_tokens(piece)))
            continue
        if current_cost + cost > room:
            close()
        current.append(hunk)
        current_cost += cost
    close()
    return parts, unfit


def _slice_lines(hunk: Hunk, room: int, unfit: list[Hunk]) -> list[Hunk]:
    """Cut a hunk too large for one call into consecutive slices that fit; a single line
    larger than a call (minified code) goes to `unfit`."""
    slices: list[Hunk] = []
    start = 0
    cost = HUNK_OVERHEAD_CHARS / CHARS_PER_TOKEN
    lines = hunk.lines
    for index, line in enumerate(lines):
        line_cost = _line_tokens(line)
        if HUNK_OVERHEAD_CHARS / CHARS_PER_TOKEN + line_cost > room:
            if index > start:
                slices.append(_sub_hunk(hunk, start, index))
            unfit.append(_sub_hunk(hunk, index, index + 1))
            start, cost = index + 1, HUNK_OVERHEAD_CHARS / CHARS_PER_TOKEN
            continue
        if cost + line_cost > room:
            slices.append(_sub_hunk(hunk, start, index))
            start, cost = index, HUNK_OVERHEAD_CHARS / CHARS_PER_TOKEN
        cost += line_cost
    if start < len(lines):
        slices.append(_sub_hunk(hunk, start, len(lines)))
    return slices


def _sub_hunk(hunk: Hunk, start: int, end: int) -> Hunk:
    lines = hunk.lines[start:end]
    before = hunk.lines[:start]
    old_start = hunk.old_start + sum(1 for ln in before if ln.kind != "added")
    new_start = hunk.new_start + sum(1 for ln in before if ln.kind != "deleted")
    return Hunk(
        old_start=old_start,
        old_length=sum(1 for ln in lines if ln.kind != "added"),
        new_start=new_start,
        new_length=sum(1 for ln in lines if ln.kind != "deleted"),
        section_header=hunk.section_header,
        lines=lines,
    )


def _describe(hunks: Sequence[Hunk]) -> str:
    """`lines 10-40, 90-120` (new side), or old-side lines for pure deletions."""
    spans: list[str] = []
    for hunk in sorted(hunks, key=_hunk_order):
        if hunk.new_length:
            spans.append(_span(hunk.new_start, hunk.new_end))
        else:
            spans.append("deleted " + _span(hunk.old_start, hunk.old_start + hunk.old_length - 1))
    shown = ", ".join(spans[:10]) + (f" and {len(spans) - 10} more" if len(spans) > 10 else "")
    return f"lines {shown}"


def _span(first: int, last: int) -> str:
    return str(first) if first >= last else f"{first}-{last}"
