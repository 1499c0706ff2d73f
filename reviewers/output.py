"""The model output schema (CONTRACT.md "Model output schema") and how answers are read.

The schema is strict, for providers that enforce it (OpenAI structured outputs, Anthropic
tool input): no extra keys, every key required, `suggestion` a string or null. Reading is
lenient where the contract says so: extra keys are ignored, and one bad finding is dropped
and counted without losing the good ones next to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import jsonschema

from reviewers.config import Category, Severity
from reviewers.findings import Finding
from reviewers.linear import compile_linear
from reviewers.prompts import render_template
from reviewers.providers.base import ModelRequest
from reviewers.untrusted import sanitize_untrusted

_FINDING_KEYS = (
    "path",
    "line_start",
    "line_end",
    "severity",
    "category",
    "title",
    "body",
    "suggestion",
    "confidence",
)
_FINDING_PROPERTIES: dict[str, Any] = {
    "path": {"type": "string", "description": "File path exactly as shown in the diff"},
    "line_start": {
        "type": "integer",
        "minimum": 1,
        "description": "First line, numbered in the new version of the file",
    },
    "line_end": {
        "type": "integer",
        "minimum": 1,
        "description": "Last line (inclusive), numbered in the new version of the file",
    },
    # Most severe first, as CONTRACT.md lists them.
    "severity": {
        "type": "string",
        "enum": [s.value for s in sorted(Severity, key=lambda s: -s.rank)],
    },
    "category": {"type": "string", "enum": [c.value for c in Category]},
    "title": {"type": "string", "description": "Short headline"},
    "body": {"type": "string", "description": "Explanation in Markdown"},
    "suggestion": {
        "type": ["string", "null"],
        "description": "Replacement code for line_start..line_end, or null",
    },
    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
}
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["findings"],
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": list(_FINDING_KEYS),
                "properties": _FINDING_PROPERTIES,
            },
        }
    },
}
# Reading: the same rules without `additionalProperties: false` (extra keys are ignored).
_ITEM_VALIDATOR = jsonschema.Draft202012Validator(
    {"type": "object", "required": list(_FINDING_KEYS), "properties": _FINDING_PROPERTIES}
)
MAX_FINDINGS_PER_ANSWER = 100
_MAX_PREVIOUS_CHARS = 6000
_BOUNDARY = compile_linear(r"\[\[(DATA-[0-9a-f]{16}) BEGIN ")
# RE2 (linear): model output is hostile input too, and `\s*` around `.*?` backtracks in `re`.
_FENCE = compile_linear(r"(?s)^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$")


@dataclass(frozen=True)
class ParsedOutput:
    findings: list[Finding] = field(default_factory=list)
    dropped: int = 0
    # What was wrong, in words that name keys and rules but never echo the model's values
    # (they end up in stored reasons and in the repair prompt).
    problems: list[str] = field(default_factory=list)

    @property
    def malformed(self) -> bool:
        """Nothing usable came back although something was wrong: worth one repair."""
        return bool(self.problems) and not self.findings


def parse_output(obj: object, *, reviewer: str = "") -> ParsedOutput:
    if not isinstance(obj, dict):
        return ParsedOutput(problems=["the answer is not a JSON object"])
    items = obj.get("findings")
    if items is None:
        return ParsedOutput(problems=["the answer has no 'findings' key"])
    if not isinstance(items, list):
        return ParsedOutput(problems=["'findings' is not an array"])
    findings: list[Finding] = []
    problems: list[str] = []
    dropped = 0
    if len(items) > MAX_FINDINGS_PER_ANSWER:
        dropped += len(items) - MAX_FINDINGS_PER_ANSWER
        problems.append(f"more than {MAX_FINDINGS_PER_ANSWER} findings; the rest were ignored")
        items = items[:MAX_FINDINGS_PER_ANSWER]
    for index, item in enumerate(items):
        finding, item_problems = _parse_finding(index, item, reviewer)
        problems.extend(item_problems)
        if finding is None:
            dropped += 1
        else:
            findings.append(finding)
    return ParsedOutput(findings=findings, dropped=dropped, problems=problems)


def _parse_finding(index: int, item: object, reviewer: str) -> tuple[Finding | None, list[str]]:
    where = f"findings[{index}]"
    if not isinstance(item, dict):
        return None, [f"{where}: not an object"]
    errors = sorted(_ITEM_VALIDATOR.iter_errors(item), key=lambda e: list(e.path))
    if errors:
        return None, [_describe(where, error) for error in errors[:3]]
    path = _normalise_path(item["path"])
    title = item["title"].strip()
    if not path:
        return None, [f"{where}.path: empty"]
    if not title:
        return None, [f"{where}.title: empty"]
    start, end = int(item["line_start"]), int(item["line_end"])
    notes: list[str] = []
    if end < start:
        # Kept, swapped: the model named a range backwards. Anchoring still checks the range
        # against the diff, so a wrong guess can only move the finding to the summary.
        start, end = end, start
        notes.append(f"{where}: line_end < line_start, swapped")
    suggestion = item["suggestion"]
    finding = Finding(
        path=path,
        line_start=start,
        line_end=end,
        severity=Severity(item["severity"]),
        category=Category(item["category"]),
        title=title,
        body=item["body"].strip(),
        confidence=float(item["confidence"]),
        suggestion=suggestion if suggestion is None or suggestion.strip() else None,
        source="model",
        reviewer=reviewer,
    )
    return finding, notes


def _describe(where: str, error: jsonschema.ValidationError) -> str:
    location = ".".join(str(p) for p in error.path)
    at = f"{where}.{location}" if location else where
    rule = error.validator
    if rule == "required":
        missing = [
            k for k in _FINDING_KEYS if isinstance(error.instance, dict) and k not in error.instance
        ]
        return f"{at}: missing {', '.join(repr(k) for k in missing)}"
    if rule == "type":
        return f"{at}: must be of type {error.validator_value}"
    if rule == "enum":
        allowed = error.validator_value if isinstance(error.validator_value, list) else []
        return f"{at}: must be one of {', '.join(map(str, allowed))}"
    if rule in ("minimum", "maximum"):
        word = "at least" if rule == "minimum" else "at most"
        return f"{at}: must be {word} {error.validator_value}"
    return f"{at}: fails '{rule}'"


def _normalise_path(path: str) -> str:
    path = path.strip()
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def extract_json(text: str) -> object | None:
    """A JSON value from a model's free text, tolerating a Markdown fence around it."""
    fenced = _FENCE.match(text)
    candidate = (fenced.group(1) or "") if fenced else text.strip()
    try:
        value: object = json.loads(candidate)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value


def repair_request(original: ModelRequest, bad_text: str, problems: list[str]) -> ModelRequest:
    """The one follow-up call for a malformed answer: the original request plus what was
    wrong and the previous answer, held as data like any other untrusted text."""
    match = _BOUNDARY.search(original.prompt)
    boundary = (match.group(1) or "DATA-previous") if match else "DATA-previous"
    previous = sanitize_untrusted(bad_text)[:_MAX_PREVIOUS_CHARS]
    # The model has seen the boundary token and could echo it to close the data section.
    previous = previous.replace(boundary, "[boundary]")
    addition = render_template(
        "repair.j2",
        boundary=boundary,
        problems=problems[:10] or ["the answer was not a JSON object"],
        previous=previous or "(empty)",
    )
    return replace(original, prompt=original.prompt + "\n" + addition)
