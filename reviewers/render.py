"""Prompts: versioned Jinja2 templates in `reviewers/prompts/`, rendered with StrictUndefined.

The model cites lines it can see: every added and context line carries its new-file number.
Everything a pull request's author controls (title, body, commit messages, paths, code) is
sanitised and held in data sections between random boundary markers; secrets the static
scanner recognises are masked, and the caller's `forbidden` strings are redacted, so no
secret leaves in a prompt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from reviewers.config import PathInstruction, ReviewConfig
from reviewers.context import hunk_context, language_of
from reviewers.crossfile import definition_lines
from reviewers.deleted import DeletedFile
from reviewers.diff import FileDiff, Hunk
from reviewers.globs import glob_match
from reviewers.output import OUTPUT_SCHEMA
from reviewers.prompts import PROMPT_VERSION, render_template
from reviewers.providers.base import ModelRequest
from reviewers.scope import (
    EDGE_LINES,
    MAX_SCOPE_LINES,
    Definition,
    Scope,
    enclosing_scope,
    parses,
)
from reviewers.static.secrets import redact_lines
from reviewers.untrusted import (
    new_boundary,
    one_line,
    redact,
    sanitize_code_lines,
    sanitize_untrusted,
)

__all__ = [
    "PROMPT_VERSION",
    "PullRequestContext",
    "build_request",
    "redact",
    "render_diff",
    "render_prompt",
    "sanitize_untrusted",
]

MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 8000
MAX_COMMITS = 50
MAX_COMMIT_CHARS = 1000
NUMBER_WIDTH = 5  # the new-line number column


@dataclass(frozen=True)
class PullRequestContext:
    title: str = ""
    body: str = ""
    commit_messages: Sequence[str] = field(default_factory=tuple)


def matching_instructions(
    paths: Iterable[str], instructions: Sequence[PathInstruction] | None
) -> list[PathInstruction]:
    """Path instructions that apply to at least one of `paths`, in configuration order."""
    wanted = list(paths)
    return [pi for pi in instructions or () if any(glob_match(pi.path, p) for p in wanted)]


def render_diff(files: Sequence[FileDiff], new_texts: Mapping[str, str] | None = None) -> str:
    """The diff section's content: files, hunks with context, numbered lines."""
    blocks: list[str] = []
    for file in files:
        blocks.append(render_file_header(file))
        source = file_source(file, new_texts)
        blocks += ["\n".join([head, *lines]) for head, lines in hunks_in_order(file, source)]
    return "\n".join(blocks)


def hunks_in_order(
    file: FileDiff,
    source: FileSource,
    *,
    for_pricing: bool = False,
    standalone: bool = False,
) -> Iterator[tuple[str, list[str]]]:
    """Each hunk of `file` rendered (`render_hunk_parts`) as the file shows them together: a
    hunk never repeats enclosing lines the one before showed, nor runs into the next one.
    `standalone`: each with all it may show on its own (what a part of the file shows)."""
    shown = 0  # the last new line shown so far
    for index, hunk in enumerate(file.hunks):
        if standalone:
            yield render_hunk_parts(hunk, source, for_pricing=for_pricing)
            continue
        following = file.hunks[index + 1] if index + 1 < len(file.hunks) else None
        head, lines = render_hunk_parts(
            hunk, source, for_pricing=for_pricing, after_line=shown,
            before_line=following.new_start if following is not None else None,
        )  # fmt: skip
        shown = max(shown, _last_new_line(hunk, lines))
        yield head, lines


def render_file_header(file: FileDiff) -> str:
    header = f"FILE: {one_line(file.path)} ({file.status}"
    if file.old_path:
        header += f" from {one_line(file.old_path)}"
    return header + ")"


@dataclass(frozen=True)
class FileSource:
    """What is known of a file beyond its diff, worked out once per file: every hunk looks
    up its enclosing definition in it."""

    path: str
    language: str | None  # for the line heuristics (reviewers/context.py)
    text: str | None  # the new file's text, when it was fetched
    lines: list[str] | None  # `text` split into lines


def file_source(file: FileDiff, new_texts: Mapping[str, str] | None) -> FileSource:
    text = (new_texts or {}).get(file.path)
    return FileSource(
        file.path, language_of(file.path), text, text.splitlines() if text is not None else None
    )


def render_hunk_parts(
    hunk: Hunk,
    source: FileSource | None = None,
    *,
    for_pricing: bool = False,
    after_line: int = 0,
    before_line: int | None = None,
) -> tuple[str, list[str]]:
    """A hunk as the prompt shows it: its head line, and its rendered lines. With the new
    file's text, the lines of the enclosing definition (reviewers/scope.py) that the hunk does
    not show come before and after it as unchanged lines, so the model sees all of it.

    `for_pricing`: the lines sanitised but not redacted, which the budget counts instead (the
    secret scan is most of the cost): a masked secret is shorter than the random text it
    replaces and costs fewer tokens, so the price is never lower.

    Lines of the definition are shown only after `after_line` and before `before_line` (the
    neighbouring hunks): the budget prices a hunk without neighbours, the most it can show."""
    head = f"@@ -{hunk.old_start},{hunk.old_length} +{hunk.new_start},{hunk.new_length} @@"
    before: list[tuple[int, str]] = []
    after: list[tuple[int, str]] = []
    scope = _scope(hunk, source)
    if scope is not None and source is not None and source.lines is not None:
        label: str | None = scope.signature
        before, after = _surrounding(hunk, scope, source.lines)
        before = [(n, t) for n, t in before if n > after_line]
        after = [(n, t) for n, t in after if before_line is None or n < before_line]
    elif source is not None and parses(source.path, source.text):
        label = None  # at module level, as the parse says
    else:
        label = hunk_context(
            source.language if source else None, hunk, source.lines if source else None
        )
    label = " ".join((label or "").split())
    if label:
        head += f" in: {one_line(label if len(label) <= 200 else label[:199] + '…')}"
    texts = [text for _, text in before]
    texts += [line.text for line in hunk.lines]
    texts += [text for _, text in after]
    texts = sanitize_code_lines(texts)
    if not for_pricing:
        texts = redact_lines(texts)
    numbers = [n for n, _ in before] + [ln.new_line for ln in hunk.lines] + [n for n, _ in after]
    kinds = ["context"] * len(before) + [ln.kind for ln in hunk.lines] + ["context"] * len(after)
    out: list[str] = []
    for number, kind, text in zip(numbers, kinds, texts, strict=True):
        if kind == "deleted":
            out.append(f"{'':>{NUMBER_WIDTH}} - {text}")
        else:
            marker = "+" if kind == "added" else " "
            out.append(f"{number:>{NUMBER_WIDTH}} {marker} {text}")
    return head, out


def _last_new_line(hunk: Hunk, rendered: Sequence[str]) -> int:
    """The highest new-line number among a rendered hunk's lines."""
    numbers = [int(text[:NUMBER_WIDTH]) for text in rendered if text[:NUMBER_WIDTH].strip()]
    return max(numbers, default=hunk.new_start)


def _scope(hunk: Hunk, source: FileSource | None) -> Scope | None:
    if source is None or source.lines is None:
        return None
    changed = [ln.new_line for ln in hunk.lines if ln.kind == "added" and ln.new_line]
    if changed:
        first, last = changed[0], changed[-1]
    else:  # a pure deletion: the line after it
        first = last = max(1, hunk.new_start)
    return enclosing_scope(source.path, source.text, source.lines, first, last)


def _surrounding(
    hunk: Hunk, scope: Scope, lines: Sequence[str]
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The new file's lines of `scope` before and after what the hunk shows, numbered; for a
    definition longer than `MAX_SCOPE_LINES`, only `EDGE_LINES` on each side."""
    shown_first = hunk.new_start
    shown_last = hunk.new_end if hunk.new_length else hunk.new_start - 1
    start, end = scope.start_line, min(scope.end_line, len(lines))
    if end - start + 1 > MAX_SCOPE_LINES:
        start = max(start, shown_first - EDGE_LINES)
        end = min(end, shown_last + EDGE_LINES)
    before = [(n, lines[n - 1]) for n in range(start, min(shown_first, end + 1))]
    after = [(n, lines[n - 1]) for n in range(max(shown_last + 1, start), end + 1)]
    return before, after


def render_definition(found: Definition, text: str, *, for_pricing: bool = False) -> str:
    """A definition from another changed file, shown for reference after the diff."""
    numbered = definition_lines(found, text)
    texts = sanitize_code_lines([code for _, code in numbered])
    if not for_pricing:
        texts = redact_lines(texts)
    head = (
        f"DEFINITION: {one_line(found.name)} in {one_line(found.path)}, lines "
        f"{found.start_line}-{numbered[-1][0] if numbered else found.end_line}"
    )
    body = [f"{n:>{NUMBER_WIDTH}}   {code}" for (n, _), code in zip(numbered, texts, strict=True)]
    return "\n".join([head, *body])


def render_path_instruction(instruction: PathInstruction) -> tuple[str, str]:
    """(path, instructions) as the prompt shows a path instruction."""
    return one_line(instruction.path), " ".join(
        sanitize_untrusted(instruction.instructions).split()
    )


def _masked(text: str) -> str:
    """Prose with every secret the scanner knows masked, as diff lines are: a token pasted into
    a PR description must not reach the customer's model provider either. Masked before it
    is clipped, so a clip can never cut a secret into a part the scanner no longer knows."""
    return "\n".join(redact_lines(text.split("\n")))


def render_prompt(
    chunk: Sequence[FileDiff],
    pr_context: PullRequestContext,
    config: ReviewConfig,
    *,
    new_texts: Mapping[str, str] | None = None,
    partial: bool = False,
    deleted: Sequence[DeletedFile] = (),
    definitions: Sequence[Definition] = (),
) -> tuple[str, str]:
    """(system, user) text for one chunk; `deleted`: the files the PR deletes, one line
    each, shown to every chunk."""
    title = _clip(_masked(sanitize_untrusted(pr_context.title)), MAX_TITLE_CHARS)
    body = _clip(_masked(sanitize_untrusted(pr_context.body)), MAX_BODY_CHARS)
    messages = [
        _clip(_masked(sanitize_untrusted(m)), MAX_COMMIT_CHARS)
        for m in list(pr_context.commit_messages)[-MAX_COMMITS:]
    ]
    commits = "\n---\n".join(messages)
    diff = render_diff(chunk, new_texts)
    shown = [
        render_definition(d, (new_texts or {})[d.path])
        for d in definitions
        if d.path in (new_texts or {})
    ]
    if shown:
        diff = "\n".join([diff, *shown])
    if deleted:
        lines = [sanitize_untrusted(one_line(d.line())) for d in deleted]
        diff = "\n".join([*lines, diff]) if diff else "\n".join(lines)
    boundary = new_boundary(title, body, commits, diff)
    instructions = sanitize_untrusted(config.instructions or "").strip()
    path_instructions = [
        dict(zip(("path", "instructions"), render_path_instruction(pi), strict=True))
        for pi in matching_instructions((f.path for f in chunk), config.path_instructions)
    ]
    system = render_template("system.j2", boundary=boundary)
    user = render_template(
        "review.j2",
        boundary=boundary,
        instructions=instructions,
        path_instructions=path_instructions,
        title=title,
        body=body,
        commits=commits,
        diff=diff,
        partial=partial,
    )
    return system, user


def build_request(
    chunk: Sequence[FileDiff],
    pr_context: PullRequestContext,
    config: ReviewConfig,
    max_output_tokens: int,
    *,
    forbidden: Iterable[str] = (),
    new_texts: Mapping[str, str] | None = None,
    partial: bool = False,
    deleted: Sequence[DeletedFile] = (),
    definitions: Sequence[Definition] = (),
) -> ModelRequest:
    system, user = render_prompt(
        chunk,
        pr_context,
        config,
        new_texts=new_texts,
        partial=partial,
        deleted=deleted,
        definitions=definitions,
    )
    forbidden = list(forbidden)
    return ModelRequest(
        system=redact(system, forbidden),
        prompt=redact(user, forbidden),
        max_output_tokens=max_output_tokens,
        output_schema=OUTPUT_SCHEMA,
    )


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "\n[truncated]"
