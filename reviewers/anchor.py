"""Where a finding can be shown: inline on the diff, or in the summary.

GitHub rejects a whole review (422) when one comment names a line outside the diff or a range
across hunks, so a finding goes inline only when every line of it lies on the new (RIGHT) side
of one hunk. Anything else goes to the summary with its file, line and the reason, never
dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from reviewers.diff import FileDiff
from reviewers.findings import Finding

Placement = Literal["inline", "summary"]


@dataclass(frozen=True)
class Anchored:
    finding: Finding
    placement: Placement
    reason: str  # why it is in the summary; "" when inline
    side: Literal["RIGHT"] = "RIGHT"
    # GitHub's multi-line comment: start_line..line. start_line is None for one line, because
    # GitHub rejects start_line == line.
    start_line: int | None = None
    line: int | None = None
    # A ```suggestion block may be posted: it replaces exactly start_line..line.
    suggestion_ok: bool = False


def index_files(files: Iterable[FileDiff]) -> dict[str, FileDiff]:
    return {file.path: file for file in files}


def anchor(finding: Finding, files: Mapping[str, FileDiff] | Sequence[FileDiff]) -> Anchored:
    by_path = files if isinstance(files, Mapping) else index_files(files)
    file = by_path.get(finding.path)
    start, end = finding.line_start, finding.line_end
    lines = f"line {start}" if start == end else f"lines {start}-{end}"
    if file is None:
        return _summary(finding, "the file is not part of this pull request's diff")
    if file.status == "removed":
        return _summary(finding, "the file is deleted in this pull request")
    if file.patch_missing or file.is_binary or not file.hunks:
        return _summary(finding, "GitHub shows no diff lines for this file")
    hunk = file.hunk_containing(start)
    if hunk is None:
        return _summary(finding, f"{lines} not among the changed lines shown in the diff")
    if not hunk.covers(end):
        if file.hunk_containing(end) is not None:
            return _summary(finding, f"{lines} span more than one hunk of the diff")
        return _summary(finding, f"{lines} extend past the changed lines shown in the diff")
    return Anchored(
        finding=finding,
        placement="inline",
        reason="",
        start_line=start if start != end else None,
        line=end,
        suggestion_ok=suggestion_applies(finding, file),
    )


def anchor_all(findings: Iterable[Finding], files: Iterable[FileDiff]) -> list[Anchored]:
    by_path = index_files(files)
    return [anchor(finding, by_path) for finding in findings]


def suggestion_applies(finding: Finding, file: FileDiff) -> bool:
    """A ```suggestion replaces exactly the commented lines, so it is offered only when they
    are all added or context lines of one hunk, and it changes something."""
    if finding.suggestion is None:
        return False
    hunk = file.hunk_containing(finding.line_start)
    if hunk is None or not hunk.covers(finding.line_end):
        return False
    current = [
        line.text
        for line in hunk.lines
        if line.new_line is not None and finding.line_start <= line.new_line <= finding.line_end
    ]
    if len(current) != finding.line_end - finding.line_start + 1:
        return False
    return finding.suggestion.rstrip("\n").splitlines() != current


def _summary(finding: Finding, reason: str) -> Anchored:
    return Anchored(finding=finding, placement="summary", reason=reason)


def cap_comments(anchored: Sequence[Anchored], max_comments: int) -> list[Anchored]:
    """At most `max_comments` inline comments: the most severe, then the most confident,
    stay inline; the rest move to the summary (same order as given, nothing dropped)."""
    inline = [i for i, a in enumerate(anchored) if a.placement == "inline"]
    if len(inline) <= max_comments:
        return list(anchored)
    ranked = sorted(
        inline,
        key=lambda i: (-anchored[i].finding.severity.rank, -anchored[i].finding.confidence, i),
    )
    keep = set(ranked[: max(max_comments, 0)])
    reason = f"over the limit of {max_comments} inline comments per review"
    return [
        a
        if a.placement != "inline" or i in keep
        else replace(
            a, placement="summary", reason=reason, start_line=None, line=None, suggestion_ok=False
        )
        for i, a in enumerate(anchored)
    ]
