"""The model fakes' default answer: a deterministic reviewer that reads the prompt.

It looks for files and added lines in the prompt and reports a finding on every added line
that carries a known defect marker, in the CONTRACT.md model output schema:

    {"findings": [{"path", "line_start", "line_end", "severity", "category", "title",
                   "body", "suggestion", "confidence"}]}

The prompt format it expects (by default; each pattern is tolerant and replaceable):

    File header — any line like one of these starts a file; added lines below belong to it:
        ### File: src/app.py          File: src/app.py          path: src/app.py
        <file path="src/app.py">      ## src/app.py
        diff --git a/src/app.py b/src/app.py                     +++ b/src/app.py
    Added line — the new-file line number, then `+`, then the code:
          12 + total = count / zero
        12 | + total = count / zero        12: +total = count / zero
        10 12 + total = count / zero       (an old-side number column before it is skipped)
    Context lines (a space or nothing instead of `+`) and removed lines (`-`) are ignored.

Markers (RULES), checked on added lines only:
    `BUG` followed by `:`              → warning / bug, confidence 0.9
    `FIXME`                           → info / maintainability, confidence 0.6
    `SECURITY:`                       → critical / security, confidence 0.8
    division by a variable named `zero` (`x / zero`, `x // zero`) → critical / bug, 0.95
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FILE_HEADER_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^\s*(?:#+\s*)?(?:file|path)\s*[:=]\s*`?(?P<path>[^\s`'\"]+)`?", re.I),
    re.compile(r"^\s*<file\b[^>]*\bpath\s*=\s*[\"'](?P<path>[^\"']+)[\"']", re.I),
    re.compile(r"^diff --git a/\S+ b/(?P<path>\S+)"),
    re.compile(r"^\+\+\+ (?:b/)?(?P<path>(?!/dev/null)\S+)"),
    re.compile(r"^#{1,6}\s+`?(?P<path>[\w.\-]+(?:/[\w.\-]+)*\.\w+)`?\s*$"),
)
ADDED_LINE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^\s*(?:\d+\s+)?(?P<line>\d+)\s*[|:]?\s*\+(?!\+\+ )\s?(?P<code>.*)$"),
)


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    severity: str
    category: str
    title: str
    body: str  # may use {note}: what follows the marker on the line
    confidence: float


RULES: tuple[Rule, ...] = (
    Rule(
        re.compile(r"[\w)\]]\s*//?\s*zero\b"),
        "critical",
        "bug",
        "Division by zero",
        "The divisor is the variable `zero`; this raises (or yields infinity) at runtime. "
        "Guard the division or use the intended divisor.",
        0.95,
    ),
    Rule(
        re.compile(r"\bSECURITY:\s*(?P<note>.*)"),
        "critical",
        "security",
        "Security problem flagged in the change",
        "The author marked this line as a security problem: {note}",
        0.8,
    ),
    Rule(
        re.compile(r"\bBUG\b\s*:\s*(?P<note>.*)"),
        "warning",
        "bug",
        "Known bug left in the change",
        "This added line is marked as a bug: {note}",
        0.9,
    ),
    Rule(
        re.compile(r"\bFIXME\b:?\s*(?P<note>.*)"),
        "info",
        "maintainability",
        "Unresolved FIXME",
        "An unresolved FIXME is being merged: {note}",
        0.6,
    ),
)

_NOTE_LIMIT = 120


class PromptReviewer:
    """Reviews a prompt into `{"findings": [...]}`. Patterns and rules are constructor
    arguments so a test can match whatever format reviewers/render.py settles on."""

    def __init__(
        self,
        *,
        file_headers: Sequence[re.Pattern[str]] = FILE_HEADER_PATTERNS,
        added_lines: Sequence[re.Pattern[str]] = ADDED_LINE_PATTERNS,
        rules: Sequence[Rule] = RULES,
    ) -> None:
        self.file_headers = tuple(file_headers)
        self.added_lines = tuple(added_lines)
        self.rules = tuple(rules)

    def review(self, prompt: str) -> dict[str, Any]:
        findings: list[dict[str, Any]] = []
        path: str | None = None
        for text in prompt.splitlines():
            header = _first_match(self.file_headers, text)
            if header is not None:
                path = header["path"]
                continue
            added = _first_match(self.added_lines, text)
            if added is None or path is None:
                continue
            line = int(added["line"])
            findings.extend(self._findings(path, line, added["code"]))
        return {"findings": findings}

    def _findings(self, path: str, line: int, code: str) -> list[dict[str, Any]]:
        found = []
        for rule in self.rules:
            match = rule.pattern.search(code)
            if match is None:
                continue
            note = (match.groupdict().get("note") or "").strip()[:_NOTE_LIMIT] or "no detail"
            found.append(
                {
                    "path": path,
                    "line_start": line,
                    "line_end": line,
                    "severity": rule.severity,
                    "category": rule.category,
                    "title": rule.title,
                    "body": rule.body.format(note=note),
                    "suggestion": None,
                    "confidence": rule.confidence,
                }
            )
        return found


def _first_match(patterns: Sequence[re.Pattern[str]], text: str) -> re.Match[str] | None:
    for pattern in patterns:
        match = pattern.match(text)
        if match is not None:
            return match
    return None
