"""The diff model every reviewer works on, built with `unidiff`.

Two sources feed it: one entry of GitHub's pull request files / compare API (whose `patch` is
bare hunks, or absent when the file is too large), and a whole `git diff` for the offline CLI.
Line numbers are what GitHub's review API speaks: `new_line` is the line in the new file, the
RIGHT side of a review comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, NamedTuple

from unidiff import PatchSet
from unidiff.constants import RE_HUNK_HEADER
from unidiff.errors import UnidiffParseError

LineKind = Literal["added", "context", "deleted"]
FileStatus = Literal["added", "modified", "removed", "renamed", "copied", "changed"]

_KIND = {"+": "added", " ": "context", "-": "deleted"}
_GITHUB_STATUSES = frozenset({"added", "modified", "removed", "renamed", "copied", "changed"})


class DiffParseError(ValueError):
    """The text is not a diff we can trust line numbers from."""


class DiffLine(NamedTuple):
    # A NamedTuple rather than a frozen dataclass: a large diff has hundreds of thousands of
    # lines, and tuple construction is several times cheaper than a frozen __init__.
    kind: LineKind
    old_line: int | None  # None for added lines
    new_line: int | None  # None for deleted lines
    text: str  # without the +/-/space marker and the line ending


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_length: int
    new_start: int
    new_length: int
    section_header: str  # git's funcname context after the second @@, may be ""
    lines: tuple[DiffLine, ...]

    @property
    def new_end(self) -> int:
        """The last new-side line of the hunk; new_start - 1 when it adds nothing."""
        return self.new_start + self.new_length - 1

    def covers(self, new_line: int) -> bool:
        return self.new_length > 0 and self.new_start <= new_line <= self.new_end


@dataclass(frozen=True)
class FileDiff:
    path: str
    old_path: str | None  # set for renames and copies
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    is_binary: bool = False
    # GitHub sends no patch for files whose diff is too large: they cannot be reviewed.
    patch_missing: bool = False
    additions: int = 0
    deletions: int = 0

    @property
    def changes(self) -> int:
        return self.additions + self.deletions

    @cached_property
    def _right_side(self) -> frozenset[int]:
        return frozenset(
            line.new_line for hunk in self.hunks for line in hunk.lines if line.new_line
        )

    def right_side_lines(self) -> frozenset[int]:
        """New-side line numbers GitHub accepts a RIGHT comment on: added and context lines."""
        return self._right_side

    def hunk_containing(self, new_line: int) -> Hunk | None:
        for hunk in self.hunks:
            if hunk.covers(new_line):
                return hunk
        return None

    def added_lines(self) -> list[DiffLine]:
        return [line for hunk in self.hunks for line in hunk.lines if line.kind == "added"]

    def new_side_text(self) -> Mapping[int, str]:
        """The new-side lines the diff shows, by line number."""
        return {
            line.new_line: line.text
            for hunk in self.hunks
            for line in hunk.lines
            if line.new_line is not None
        }


def parse_github_file(file: Mapping[str, Any]) -> FileDiff:
    """One entry of GitHub's `GET /pulls/{n}/files` or compare API `files`."""
    path = str(file["filename"])
    raw_status = str(file.get("status") or "modified")
    # "unchanged" appears in compare responses; nothing to review, treat as a plain change.
    status: FileStatus = raw_status if raw_status in _GITHUB_STATUSES else "changed"  # type: ignore[assignment]
    additions = int(file.get("additions") or 0)
    deletions = int(file.get("deletions") or 0)
    previous = file.get("previous_filename")
    old_path = str(previous) if previous and status in ("renamed", "copied") else None
    patch = file.get("patch")
    if patch is None or patch == "":
        # Absent for binaries (GitHub reports 0/0 for them), empty files, mode-only changes and
        # pure renames; and for text diffs too large to send, which do have counts. Only the
        # last is a file we failed to see.
        return FileDiff(
            path=path,
            old_path=old_path,
            status=status,
            patch_missing=additions + deletions > 0,
            additions=additions,
            deletions=deletions,
        )
    text = str(patch)
    hunks = _read_plain_patch(text)
    if hunks is None:
        hunks = _parse_patch_with_unidiff(path, text)
    return FileDiff(
        path=path,
        old_path=old_path,
        status=status,
        hunks=hunks,
        additions=additions,
        deletions=deletions,
    )


def _parse_patch_with_unidiff(path: str, text: str) -> tuple[Hunk, ...]:
    # GitHub's patch is hunks without ---/+++ headers; unidiff needs them. Fixed names keep
    # odd paths (tabs, quotes) away from unidiff's header parsing: the path comes from GitHub.
    header = "--- a/file\n+++ b/file\n"
    if not text.endswith("\n"):
        text += "\n"
    try:
        patched = PatchSet(header + text)
    except UnidiffParseError as exc:
        raise DiffParseError(f"{path}: {exc}") from exc
    return tuple(_convert_hunk(hunk) for pf in patched for hunk in pf)


# The fast path below reads what GitHub actually sends: hunk headers, each followed by exactly
# the lines its counts promise, and "\ No newline at end of file" markers. unidiff builds two
# objects per line (its Line, then our DiffLine) and runs a regex on each; for the few hundred
# lines of a typical pull request that was most of the review's parsing time. Anything else
# (counts that do not add up, text between hunks, stray headers) returns None and goes to
# unidiff, which stays the authority on odd input and on the error a bad patch gets. For input
# the fast path accepts, the result is the one unidiff's path gives (tests/reviewers/test_diff.py
# compares them).
_NO_NEWLINE_MARKER = "\\ No newline at end of file"


def _read_plain_patch(patch: str) -> tuple[Hunk, ...] | None:
    """The hunks of a well-formed GitHub patch, or None to leave the patch to unidiff."""
    rows = patch.split("\n")
    if rows[-1] == "":
        rows.pop()  # the newline ending the last line
    hunks: list[Hunk] = []
    index = 0
    while index < len(rows):
        row = rows[index]
        header = RE_HUNK_HEADER.match(row)
        if header is not None:
            read = _read_plain_hunk(header, rows, index + 1)
            if read is None:
                return None
            hunk, index = read
            hunks.append(hunk)
        elif hunks and (row == "" or row.startswith(_NO_NEWLINE_MARKER)):
            index += 1  # a blank separator or the marker after a hunk: no code
        else:
            return None
    return tuple(hunks)


def _read_plain_hunk(header: re.Match[str], rows: list[str], index: int) -> tuple[Hunk, int] | None:
    """The hunk whose header is `header` and its lines from rows[index:], and the index after
    it; None when its lines do not match its counts or are not plain diff lines."""
    old_from, old_count, new_from, new_count, section = header.groups()
    old_start, new_start = int(old_from), int(new_from)
    # An omitted count means one line, as in unidiff's Hunk.
    old_length = 1 if old_count is None else int(old_count)
    new_length = 1 if new_count is None else int(new_count)
    old_end, new_end = old_start + old_length, new_start + new_length
    old, new = old_start, new_start
    lines: list[DiffLine] = []
    # Like unidiff: at least one row is read, even for a hunk that counts no lines.
    while index < len(rows):
        row = rows[index]
        index += 1
        marker = row[:1]
        if marker == "+":
            lines.append(DiffLine("added", None, new, row[1:].removesuffix("\r")))
            new += 1
        elif marker == "-":
            lines.append(DiffLine("deleted", old, None, row[1:].removesuffix("\r")))
            old += 1
        elif marker == " ":
            lines.append(DiffLine("context", old, new, row[1:].removesuffix("\r")))
            old, new = old + 1, new + 1
        elif row in ("", "\r"):
            # An empty context line whose leading space was lost (editors strip it).
            lines.append(DiffLine("context", old, new, ""))
            old, new = old + 1, new + 1
        elif marker != "\\":  # "\ No newline at end of file" inside a hunk carries no code
            return None
        if old > old_end or new > new_end:
            return None
        if old == old_end and new == new_end:
            break
    if old < old_end or new < new_end:
        return None
    hunk = Hunk(
        old_start=old_start,
        old_length=old_length,
        new_start=new_start,
        new_length=new_length,
        section_header=section.rstrip("\n").strip(),
        lines=tuple(lines),
    )
    return hunk, index


def parse_unified_diff(text: str) -> list[FileDiff]:
    """A whole `git diff` (or plain `diff -u`) into FileDiffs, in order."""
    # Parse file by file so unidiff's per-line objects for one file are freed before the next:
    # a 300,000-line diff would otherwise hold two object graphs at once.
    files: list[FileDiff] = []
    for segment in _split_files(text):
        try:
            patched = PatchSet(segment)
        except UnidiffParseError as exc:
            raise DiffParseError(str(exc)) from exc
        files.extend(_convert_file(pf) for pf in patched)
    return files


_GIT_HEADER = re.compile(r"^diff --git ", re.MULTILINE)


def _split_files(text: str) -> Iterator[str]:
    starts = [m.start() for m in _GIT_HEADER.finditer(text)]
    if not starts:
        yield text
        return
    # Text before the first header (a `git format-patch` commit message) belongs to no file.
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        yield text[begin:end]


def _convert_file(pf: Any) -> FileDiff:
    hunks = tuple(_convert_hunk(hunk) for hunk in pf)
    info = "".join(pf.patch_info or ())
    old_path = _unquote(_strip_prefix(pf.source_file))
    new_path = _unquote(_strip_prefix(pf.target_file))
    status: FileStatus
    if pf.source_file == "/dev/null":
        status, path, old = "added", new_path, None
    elif pf.target_file == "/dev/null":
        status, path, old = "removed", old_path, None
    elif "\ncopy from " in "\n" + info:
        status, path, old = "copied", new_path, old_path
    elif old_path != new_path:
        status, path, old = "renamed", new_path, old_path
    elif not hunks and pf.source_mode != pf.target_mode:
        status, path, old = "changed", new_path, None
    else:
        status, path, old = "modified", new_path, None
    additions = sum(1 for h in hunks for line in h.lines if line.kind == "added")
    deletions = sum(1 for h in hunks for line in h.lines if line.kind == "deleted")
    return FileDiff(
        path=path,
        old_path=old,
        status=status,
        hunks=hunks,
        is_binary=bool(pf.is_binary_file),
        additions=additions,
        deletions=deletions,
    )


def _convert_hunk(hunk: Any) -> Hunk:
    lines = tuple(
        DiffLine(
            _KIND[line.line_type],  # type: ignore[arg-type]
            line.source_line_no,
            line.target_line_no,
            line.value.rstrip("\n").removesuffix("\r"),
        )
        for line in hunk
        # "\ No newline at end of file" and trailing blank separators carry no code.
        if line.line_type in _KIND
    )
    return Hunk(
        old_start=hunk.source_start,
        old_length=hunk.source_length,
        new_start=hunk.target_start,
        new_length=hunk.target_length,
        section_header=hunk.section_header.rstrip("\n").strip(),
        lines=lines,
    )


def _strip_prefix(name: str) -> str:
    quoted = name.startswith('"') and name.endswith('"') and len(name) >= 2
    inner = name[1:-1] if quoted else name
    if inner[:2] in ("a/", "b/"):
        inner = inner[2:]
    return f'"{inner}"' if quoted else inner


_C_ESCAPE = re.compile(r"\\([0-7]{3}|.)")
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13}


def _unquote(name: str) -> str:
    """Git C-quotes paths with special or non-ASCII bytes: "caf\\303\\251.txt" is café.txt."""
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name

    out = bytearray()
    pos = 0
    body = name[1:-1]
    for match in _C_ESCAPE.finditer(body):
        out += body[pos : match.start()].encode()
        code = match.group(1)
        # Octal escapes are raw bytes of a UTF-8 sequence: decode them together, at the end.
        out.append(int(code, 8) if len(code) == 3 else _C_ESCAPES.get(code, ord(code) & 0xFF))
        pos = match.end()
    out += body[pos:].encode()
    return out.decode("utf-8", errors="replace")
