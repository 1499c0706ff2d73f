"""Token budgeting: which changes go to the model in which call, and which cannot.

Prices are exact, not guessed: every file header and hunk is rendered as the prompt will show
it (reviewers/render.py) and counted with cl100k_base (reviewers/tokens.py), scaled by the
provider's factor. Only `INPUT_SAFETY` of the computed room is used, for what joins the pieces
and what redaction changes.

Limits, all enforced before any call:
- the model's context window, per call (what is left after the prompt and reserved output);
- `max_calls`, the run's model calls;
- `max_input_tokens`, the run's input tokens over all its calls, prompt included (the policy's
  per-run limit, or less when the workspace's monthly token budget has less left).

Packing: files in priority order (earliest matching path instruction first, then the largest
change first, so a limit spends itself on what matters most), first-fit into chunks. A file
larger than a chunk is split by hunks, a hunk larger than a chunk by lines. Whatever does not
fit is returned in `not_reviewed` with the reason. Once the room left is smaller than a file
could possibly need (`_MAX_CHARS_PER_TOKEN`), the file is named without being rendered, so a
3,000-file pull request costs little past the budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from reviewers.config import PathInstruction
from reviewers.crossfile import definition_index, used_definitions
from reviewers.diff import FileDiff, Hunk
from reviewers.globs import glob_match
from reviewers.render import (
    file_source,
    hunks_in_order,
    render_definition,
    render_file_header,
    render_hunk_parts,
    render_path_instruction,
)
from reviewers.scope import Definition
from reviewers.tokens import count_line_tokens

INPUT_SAFETY = 0.97
# Source code runs at most ~5.4 characters per cl100k token (the densest stdlib module): a
# file whose smallest hunk has more characters than this many per token of room cannot fit.
_MAX_CHARS_PER_TOKEN = 6
# Characters of a rendered diff line beyond its code (number column, marker, spaces, newline).
_LINE_CHARS = 9


@dataclass(frozen=True)
class Chunk:
    files: tuple[FileDiff, ...]
    estimated_tokens: int  # the diff section's tokens (the prompt's fixed part not included)
    # True when a file here is only part of its diff (split to fit): the prompt says so.
    partial: bool = False
    # Definitions from other changed files that the changes here call (reviewers/crossfile.py).
    definitions: tuple[Definition, ...] = ()

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


@dataclass(frozen=True)
class Plan:
    chunks: list[Chunk] = field(default_factory=list)
    not_reviewed: list[tuple[str, str]] = field(default_factory=list)
    prompt_overhead_tokens: int = 0  # the fixed part of every call's prompt

    @property
    def estimated_input_tokens(self) -> int:
        """What the planned calls send, fixed prompt parts included (repairs not counted)."""
        return sum(c.estimated_tokens + self.prompt_overhead_tokens for c in self.chunks)


@dataclass
class _Bin:
    files: list[FileDiff] = field(default_factory=list)
    tokens: int = 0
    partial: bool = False
    definitions: list[Definition] = field(default_factory=list)
    # What each file of the call is charged.
    costs: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        piece: FileDiff,
        tokens: int,
        partial: bool,
        reprice: Callable[[FileDiff], int] | None = None,
    ) -> int:
        """Add a file or a part of one; the tokens saved (0 but when a part joins another
        part of its file: shown as one file, they share enclosing lines, and `reprice`
        gives the merged file's price)."""
        self.partial = self.partial or partial
        for index, present in enumerate(self.files):
            if present.path == piece.path:
                hunks = tuple(sorted((*present.hunks, *piece.hunks), key=_hunk_order))
                merged = replace(present, hunks=hunks)
                self.files[index] = merged
                had = self.costs[piece.path]
                before = had + tokens
                after = min(before, reprice(merged)) if reprice is not None else before
                self.costs[piece.path] = after
                self.tokens += after - had
                return before - after
        self.files.append(piece)
        self.costs[piece.path] = tokens
        self.tokens += tokens
        return 0


def _hunk_order(hunk: Hunk) -> tuple[int, int]:
    return hunk.new_start, hunk.old_start


@dataclass
class _Pricer:
    """Tokens of the rendered prompt pieces, as the provider's model counts them."""

    factor: float
    new_texts: Mapping[str, str] | None

    def tokens(self, text: str) -> int:
        # +1: the newline that joins this piece to the next one. Counted by line (cached):
        # a prompt repeats lines, and the count by line is never lower.
        return math.ceil((count_line_tokens(text) + 1) * self.factor)

    def file_base(self, file: FileDiff, instructions: Sequence[PathInstruction]) -> int:
        # A matching path instruction is shown once per chunk; counting it per file
        # overestimates when several files share one, which is the safe direction.
        texts = [render_file_header(file)]
        texts += ["- `{}`: {}".format(*render_path_instruction(pi)) for pi in instructions]
        return sum(self.tokens(text) for text in texts)

    def hunks(
        self, file: FileDiff, stop_above: int | None = None, *, standalone: bool = False
    ) -> list[int] | None:
        """The price of each hunk of `file`, head line and lines; None as soon as they add up
        to more than `stop_above` (the rest is not rendered).

        By default as the whole file is shown (reviewers/render.py's `render_diff`): a hunk
        does not repeat the enclosing lines the one before it showed. `standalone`: each hunk
        with all of its enclosing definition, the most it shows in any part of the file."""
        source = file_source(file, self.new_texts)
        prices: list[int] = []
        total = 0
        rendered = hunks_in_order(file, source, for_pricing=True, standalone=standalone)
        for head, lines in rendered:
            prices.append(self.tokens("\n".join([head, *lines])))
            total += prices[-1]
            if stop_above is not None and total > stop_above:
                return None
        return prices


@dataclass
class _Limits:
    room: int  # per call
    max_calls: int
    run_left: int | None  # input tokens the run may still spend; None: no limit
    overhead: int  # what opening another call costs the run
    call_reason: str
    input_reason: str

    def most_a_piece_can_get(self, bins: Sequence[_Bin]) -> tuple[int, str]:
        """The largest piece some call could still take, and the limit that makes it smaller
        than a whole call's room ("" when nothing but the context window limits it)."""
        in_open = max((self.room - b.tokens for b in bins), default=0)
        in_new = self.room if len(bins) < self.max_calls else 0
        best = max(in_open, in_new)
        reason = "" if best == self.room else self.call_reason
        if self.run_left is None:
            return best, reason
        capped = max(min(in_open, self.run_left), min(in_new, self.run_left - self.overhead))
        return (capped, self.input_reason) if capped < best else (best, reason)

    def place(self, bins: list[_Bin], cost: int) -> tuple[_Bin | None, str]:
        """The call a piece of `cost` tokens goes into (opened if need be), or why none."""
        if self.run_left is not None and cost > self.run_left:
            return None, self.input_reason
        target = next((b for b in bins if b.tokens + cost <= self.room), None)
        if target is not None:
            self.spend(cost)
            return target, ""
        if len(bins) >= self.max_calls:
            return None, self.call_reason
        if self.run_left is not None and self.overhead + cost > self.run_left:
            return None, self.input_reason
        target = _Bin()
        bins.append(target)
        self.spend(self.overhead + cost)
        return target, ""

    def spend(self, tokens: int) -> None:
        if self.run_left is not None:
            self.run_left -= tokens

    def refund(self, tokens: int) -> None:
        """A placed piece turned out to cost less than spent (parts of a file sharing lines)."""
        if self.run_left is not None:
            self.run_left += tokens


def plan_chunks(
    files: Sequence[FileDiff],
    *,
    context_window: int,
    max_output_tokens: int,
    prompt_overhead_tokens: int,
    max_calls: int,
    path_instructions: Sequence[PathInstruction] | None = None,
    max_input_tokens: int | None = None,
    input_limit_reason: str | None = None,
    new_texts: Mapping[str, str] | None = None,
    token_factor: float = 1.0,
) -> Plan:
    """`prompt_overhead_tokens`: the fixed part of each call's prompt, already in the
    provider's tokens; `token_factor`: the provider's tokens per cl100k token."""
    instructions = list(path_instructions or ())
    if max_calls <= 0:
        reason = "not reviewed by a model: the policy allows no model calls for this run"
        return Plan([], [(f.path, reason) for f in files], prompt_overhead_tokens)
    room = math.floor((context_window - max_output_tokens - prompt_overhead_tokens) * INPUT_SAFETY)
    if room <= 0:
        reason = (
            f"not reviewed: the model's context window ({context_window} tokens) leaves no room "
            "for code after the prompt and the reserved output"
        )
        return Plan([], [(f.path, reason) for f in files], prompt_overhead_tokens)
    limits = _Limits(
        room=room,
        max_calls=max_calls,
        run_left=max_input_tokens,
        overhead=prompt_overhead_tokens,
        call_reason=f"the run's limit of {max_calls} model call{'s' if max_calls != 1 else ''}",
        input_reason=input_limit_reason
        or f"the run's limit of {max_input_tokens or 0:,} input tokens",
    )
    pricer = _Pricer(token_factor, new_texts)
    bins: list[_Bin] = []
    not_reviewed: list[tuple[str, str]] = []
    for file in sorted(files, key=lambda f: _priority(f, instructions)):
        available, limit = limits.most_a_piece_can_get(bins)
        if limit and (not file.hunks or _least_tokens(file) * token_factor > available):
            not_reviewed.append((file.path, f"not reviewed: over {limit}"))
            continue
        matching = [pi for pi in instructions if glob_match(pi.path, file.path)]
        base = pricer.file_base(file, matching)
        # Past a limit other than the window, a file is taken whole or not at all: pricing
        # stops at the first hunk that makes it too large for what is left.
        hunk_costs = pricer.hunks(file, stop_above=available - base if limit else None)
        if hunk_costs is None:
            not_reviewed.append((file.path, f"not reviewed: over {limit}"))
            continue
        total = base + sum(hunk_costs)
        pieces: list[tuple[FileDiff, int]]
        unfit: list[Hunk]
        if total <= room:
            pieces, unfit = [(file, total)], []
        else:
            # Parts are shown apart: each hunk priced with all it may show on its own.
            standalone = pricer.hunks(file, standalone=True) or []
            pieces, unfit = _split(file, base, standalone, room, pricer)

        def price_as_shown(part: FileDiff, base: int = base) -> int:
            return base + sum(pricer.hunks(part) or [])

        left_out: list[Hunk] = list(unfit)
        why = "too large for the model's context window" if unfit else ""
        placed_any = False
        for piece, cost in pieces:
            target, refused = limits.place(bins, cost)
            if target is None:
                left_out.extend(piece.hunks)
                why = why or f"over {refused}"
            else:
                saved = target.add(piece, cost, partial=piece is not file, reprice=price_as_shown)
                limits.refund(saved)
                placed_any = True
        if not left_out:
            continue
        if not placed_any and not unfit:
            not_reviewed.append((file.path, f"not reviewed: {why}"))
        else:
            not_reviewed.append((file.path, f"{_describe(left_out)} not reviewed: {why}"))
    if new_texts:
        _add_definitions(bins, new_texts, pricer, limits)
    chunks = [Chunk(tuple(b.files), b.tokens, b.partial, tuple(b.definitions)) for b in bins]
    return Plan(chunks, not_reviewed, prompt_overhead_tokens)


def _add_definitions(
    bins: Sequence[_Bin],
    new_texts: Mapping[str, str],
    pricer: _Pricer,
    limits: _Limits,
) -> None:
    """Within each call's room and the run's, the definitions its changes call from other
    changed files; what does not fit is left out (context, never a reason to skip code)."""
    index = definition_index(new_texts)
    if not index:
        return
    for target in bins:
        for found in used_definitions(target.files, index):
            cost = pricer.tokens(render_definition(found, new_texts[found.path], for_pricing=True))
            if target.tokens + cost > limits.room:
                continue
            if limits.run_left is not None and cost > limits.run_left:
                continue
            target.definitions.append(found)
            target.tokens += cost
            limits.spend(cost)


def split_chunk(chunk: Chunk) -> tuple[Chunk, Chunk] | None:
    """Two halves of a chunk (by files, else by hunks, else by lines), or None for a single
    line, which cannot be split."""
    files = chunk.files
    half_tokens = chunk.estimated_tokens // 2 + 1
    if len(files) > 1:
        middle = len(files) // 2
        return (
            Chunk(files[:middle], half_tokens, chunk.partial),
            Chunk(files[middle:], half_tokens, chunk.partial),
        )
    (file,) = files
    if len(file.hunks) > 1:
        middle = len(file.hunks) // 2
        parts = file.hunks[:middle], file.hunks[middle:]
    elif file.hunks and len(file.hunks[0].lines) > 1:
        hunk = file.hunks[0]
        middle = len(hunk.lines) // 2
        parts = (_sub_hunk(hunk, 0, middle),), (_sub_hunk(hunk, middle, len(hunk.lines)),)
    else:
        return None
    first, second = (replace(file, hunks=hunks) for hunks in parts)
    return Chunk((first,), half_tokens, True), Chunk((second,), half_tokens, True)


def _least_tokens(file: FileDiff) -> int:
    """Fewer tokens than the smallest piece of `file` (its smallest hunk) can cost: a file
    past this is named without being rendered."""
    smallest = min(sum(len(ln.text) + _LINE_CHARS for ln in h.lines) for h in file.hunks)
    return smallest // _MAX_CHARS_PER_TOKEN


def _priority(file: FileDiff, instructions: Sequence[PathInstruction]) -> tuple[int, int, str]:
    rank = next(
        (i for i, pi in enumerate(instructions) if glob_match(pi.path, file.path)),
        len(instructions),
    )
    return rank, -(file.additions + file.deletions), file.path


def _split(
    file: FileDiff, base: int, hunk_costs: list[int], room: int, pricer: _Pricer
) -> tuple[list[tuple[FileDiff, int]], list[Hunk]]:
    """Parts of `file` that each fit in `room`, and the hunks (or hunk slices) that cannot."""
    parts: list[tuple[FileDiff, int]] = []
    unfit: list[Hunk] = []
    current: list[Hunk] = []
    current_cost = base

    def close() -> None:
        nonlocal current, current_cost
        if current:
            part = replace(file, hunks=tuple(current))
            # Packed by each hunk's standalone price (the most it can show); once the part
            # is known, its price as rendered, where neighbouring hunks share the enclosing
            # lines, is what the call is charged. The room left goes to other files.
            exact = base + sum(pricer.hunks(part) or [])
            parts.append((part, min(exact, current_cost)))
        current, current_cost = [], base

    for hunk, cost in zip(file.hunks, hunk_costs, strict=True):
        if base + cost > room:
            close()
            for piece, piece_cost in _slice_lines(file, hunk, room - base, unfit, pricer):
                parts.append((replace(file, hunks=(piece,)), base + piece_cost))
            continue
        if current_cost + cost > room:
            close()
        current.append(hunk)
        current_cost += cost
    close()
    return parts, unfit


def _slice_lines(
    file: FileDiff, hunk: Hunk, room: int, unfit: list[Hunk], pricer: _Pricer
) -> list[tuple[Hunk, int]]:
    """Cut a hunk too large for one call into consecutive slices that fit, with their prices;
    a single line larger than a call (minified code) goes to `unfit`."""
    source = file_source(file, pricer.new_texts)
    head, rendered = render_hunk_parts(hunk, source, for_pricing=True)
    # Every slice repeats the head line (its numbers change by a few digits at most).
    head_cost = pricer.tokens(head) + 2
    line_costs = [pricer.tokens(text) for text in rendered]
    slices: list[tuple[Hunk, int]] = []
    start, cost = 0, head_cost
    for index, line_cost in enumerate(line_costs):
        if head_cost + line_cost > room:
            if index > start:
                slices.append((_sub_hunk(hunk, start, index), cost))
            unfit.append(_sub_hunk(hunk, index, index + 1))
            start, cost = index + 1, head_cost
            continue
        if cost + line_cost > room:
            slices.append((_sub_hunk(hunk, start, index), cost))
            start, cost = index, head_cost
        cost += line_cost
    if start < len(line_costs):
        slices.append((_sub_hunk(hunk, start, len(line_costs)), cost))
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


def file_tokens(
    file: FileDiff,
    path_instructions: Sequence[PathInstruction] | None = None,
    *,
    token_factor: float = 1.0,
    new_texts: Mapping[str, str] | None = None,
) -> tuple[int, list[int]]:
    """What the plan charges for `file`: its header (with matching path instructions) and
    each of its hunks, in the provider's tokens."""
    pricer = _Pricer(token_factor, new_texts)
    matching = [pi for pi in path_instructions or () if glob_match(pi.path, file.path)]
    return pricer.file_base(file, matching), pricer.hunks(file) or []
