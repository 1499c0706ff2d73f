from __future__ import annotations

from dataclasses import replace

import pytest

from reviewers.anchor import Anchored, anchor, anchor_all, cap_comments, suggestion_applies
from reviewers.config import Category, Severity
from reviewers.diff import FileDiff, parse_github_file
from reviewers.findings import Finding
from tests.reviewers.helpers import TWO_HUNKS, file_diff, github_file


def _finding(
    path: str = "src/app.py", start: int = 11, end: int | None = None, **kw: object
) -> Finding:
    base = Finding(
        path=path,
        line_start=start,
        line_end=start if end is None else end,
        severity=Severity.WARNING,
        category=Category.BUG,
        title="t",
        body="b",
        confidence=0.8,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


FILES: list[FileDiff] = [
    file_diff("src/app.py", TWO_HUNKS),
    file_diff("src/old.py", "@@ -1,2 +0,0 @@\n-a\n-b", status="removed"),
    parse_github_file(github_file("src/huge.py", None, additions=9000, deletions=1)),
]


@pytest.mark.parametrize(
    ("finding", "placement", "start_line", "line", "reason"),
    [
        (_finding(start=11), "inline", None, 11, ""),  # added line
        (_finding(start=10), "inline", None, 10, ""),  # context line: commentable too
        (_finding(start=10, end=13), "inline", 10, 13, ""),  # whole first hunk
        (_finding(start=40, end=41), "inline", 40, 41, ""),
        (
            _finding(start=12, end=40),
            "summary",
            None,
            None,
            "lines 12-40 span more than one hunk of the diff",
        ),
        (
            _finding(start=25),
            "summary",
            None,
            None,
            "line 25 not among the changed lines shown in the diff",
        ),
        (
            _finding(start=1),
            "summary",
            None,
            None,
            "line 1 not among the changed lines shown in the diff",
        ),
        (
            _finding(start=12, end=20),
            "summary",
            None,
            None,
            "lines 12-20 extend past the changed lines shown in the diff",
        ),
        (
            _finding(path="src/other.py"),
            "summary",
            None,
            None,
            "the file is not part of this pull request's diff",
        ),
        (
            _finding(path="src/old.py", start=1),
            "summary",
            None,
            None,
            "the file is deleted in this pull request",
        ),
        (
            _finding(path="src/huge.py", start=5),
            "summary",
            None,
            None,
            "GitHub shows no diff lines for this file",
        ),
    ],
)
def test_anchor_table(
    finding: Finding, placement: str, start_line: int | None, line: int | None, reason: str
) -> None:
    anchored = anchor(finding, FILES)
    assert (anchored.placement, anchored.start_line, anchored.line, anchored.reason) == (
        placement,
        start_line,
        line,
        reason,
    )
    assert anchored.side == "RIGHT"
    assert anchored.finding is finding


def test_anchor_all_keeps_every_finding() -> None:
    findings = [_finding(start=n) for n in (9, 10, 11, 12, 13, 14, 39, 40, 41, 42)]
    anchored = anchor_all(findings, FILES)
    assert [a.placement for a in anchored] == ["summary"] + ["inline"] * 4 + ["summary"] + [
        "inline"
    ] * 3 + ["summary"]


@pytest.mark.parametrize(
    ("finding", "applies"),
    [
        (_finding(start=11, end=12, suggestion="    if user:\n        log(user)"), True),
        (
            _finding(start=13, suggestion="    return None\n"),
            True,
        ),  # context line, trailing newline ok
        (_finding(start=11, suggestion=None), False),
        (_finding(start=13, suggestion="    return user"), False),  # no change: not worth a click
        (_finding(start=12, end=40, suggestion="x"), False),  # across hunks
        (_finding(start=25, suggestion="x"), False),  # outside the diff
    ],
)
def test_suggestion_applies(finding: Finding, applies: bool) -> None:
    assert suggestion_applies(finding, FILES[0]) is applies
    assert anchor(finding, FILES).suggestion_ok is applies


def _inline(severity: Severity, confidence: float, title: str) -> Anchored:
    finding = _finding(severity=severity, confidence=confidence, title=title)
    return Anchored(finding=finding, placement="inline", reason="", line=11)


def test_cap_comments_keeps_most_severe_then_most_confident() -> None:
    anchored = [
        _inline(Severity.INFO, 0.99, "info"),
        _inline(Severity.CRITICAL, 0.6, "crit-low"),
        Anchored(finding=_finding(title="summary"), placement="summary", reason="elsewhere"),
        _inline(Severity.WARNING, 0.9, "warn-high"),
        _inline(Severity.CRITICAL, 0.9, "crit-high"),
        _inline(Severity.WARNING, 0.7, "warn-low"),
    ]
    capped = cap_comments(anchored, 3)
    assert [(a.finding.title, a.placement) for a in capped] == [
        ("info", "summary"),
        ("crit-low", "inline"),
        ("summary", "summary"),
        ("warn-high", "inline"),
        ("crit-high", "inline"),
        ("warn-low", "summary"),
    ]
    demoted = capped[0]
    assert demoted.reason == "over the limit of 3 inline comments per review"
    assert (demoted.line, demoted.start_line, demoted.suggestion_ok) == (None, None, False)
    # Kept comments are the very same objects.
    assert capped[1] is anchored[1]


@pytest.mark.parametrize("limit", [0, 10])
def test_cap_comments_edges(limit: int) -> None:
    anchored = [_inline(Severity.WARNING, 0.5, str(i)) for i in range(4)]
    capped = cap_comments(anchored, limit)
    assert sum(a.placement == "inline" for a in capped) == min(limit, 4)
    assert len(capped) == 4
