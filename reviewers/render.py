"""Prompts: versioned Jinja2 templates in `reviewers/prompts/`, rendered with StrictUndefined.

The model cites lines it can see: every added and context line carries its new-file number.
Everything a pull request's author controls (title, body, commit messages, paths, code) is
sanitised and held in data sections between random boundary markers; secrets the static
scanner recognises are masked, and the caller's `forbidden` strings are redacted, so no
secret leaves in a prompt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reviewers.config import PathInstruction, ReviewConfig
from reviewers.context import hunk_context, language_of
from reviewers.deleted import DeletedFile
from reviewers.diff import FileDiff, Hunk
from reviewers.globs import glob_match
from reviewers.output import OUTPUT_SCHEMA
from reviewers.prompts import PROMPT_VERSION, render_template
from reviewers.providers.base import ModelRequest
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
        language, new_lines = file_sources(file, new_texts)
        for hunk in file.hunks:
            head, lines = render_hunk_parts(hunk, language, new_lines)
            blocks.append("\n".join([head, *lines]))
    return "\n".join(blocks)


def render_file_header(file: FileDiff) -> str:
    header = f"FILE: {one_line(file.path)} ({file.status}"
    if file.old_path:
        header += f" from {one_line(file.old_path)}"
    return header + ")"


def file_sources(
    file: FileDiff, new_texts: Mapping[str, str] | None
) -> tuple[str | None, list[str] | None]:
    """The file's language and its new text's lines (None when unknown or not needed), worked
    out once per file: every hunk looks up its enclosing definition in these lines."""
    language = language_of(file.path)
    text = (new_texts or {}).get(file.path)
    return language, text.splitlines() if text is not None and language is not None else None


def render_hunk_parts(
    hunk: Hunk, language: str | None, new_lines: Sequence[str] | None, *, for_pricing: bool = False
) -> tuple[str, list[str]]:
    """A hunk as the prompt shows it: its head line, and one rendered line per diff line.

    `for_pricing`: the lines sanitised but not redacted, which the budget counts instead (the
    secret scan is most of the cost): a masked secret is shorter than the random text it
    replaces and costs fewer tokens, so the price is never lower."""
    head = f"@@ -{hunk.old_start},{hunk.old_length} +{hunk.new_start},{hunk.new_length} @@"
    scope = hunk_context(language, hunk, new_lines)
    if scope:
        head += f" in: {one_line(scope)}"
    texts = sanitize_code_lines([line.text for line in hunk.lines])
    if not for_pricing:
        texts = redact_lines(texts)
    out: list[str] = []
    for line, text in zip(hunk.lines, texts, strict=True):
        if line.kind == "deleted":
            out.append(f"{'':>{NUMBER_WIDTH}} - {text}")
        else:
            marker = "+" if line.kind == "added" else " "
            out.append(f"{line.new_line:>{NUMBER_WIDTH}} {marker} {text}")
    return head, out


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
) -> ModelRequest:
    system, user = render_prompt(
        chunk, pr_context, config, new_texts=new_texts, partial=partial, deleted=deleted
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
