from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reviewers.config import Category, Severity
from reviewers.engine import ChunkOutcome, ReviewResult
from reviewers.findings import Finding
from reviewers.report import render_report, to_json, to_markdown, to_sarif

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json").read_text())


def _finding(**kw: Any) -> Finding:
    base: dict[str, Any] = {
        "path": "src/app.py",
        "line_start": 10,
        "line_end": 12,
        "severity": Severity.WARNING,
        "category": Category.BUG,
        "title": "Unchecked None",
        "body": "`user` may be None here.",
        "confidence": 0.8,
    }
    base.update(kw)
    return Finding(**base)


RESULT = ReviewResult(
    findings=[
        _finding(),
        _finding(
            path="src/dir with space/ß.py",
            line_start=3,
            line_end=3,
            severity=Severity.CRITICAL,
            category=Category.SECURITY,
            title="Committed secret: AWS access key ID (AKIA…WXYZ)",
            body="Rotate it.",
            confidence=0.97,
            source="static",
            reviewer="static:secrets",
        ),
        _finding(
            severity=Severity.INFO,
            category=Category.STYLE,
            title="Name",
            suggestion="x = ```1```\n",
        ),
    ],
    not_reviewed=[("yarn.lock", "lock file (excluded by default)"), ("big.py", "too large")],
    chunks=[
        ChunkOutcome(
            files=("src/app.py",),
            status="ok",
            reason="",
            input_tokens=900,
            output_tokens=80,
            model_calls=1,
        ),
        ChunkOutcome(files=("src/b.py",), status="failed", reason="bad answer", model_calls=2),
    ],
    input_tokens=900,
    output_tokens=80,
    model_calls=3,
    provider="anthropic",
    model="claude-x",
)
EMPTY = ReviewResult(findings=[], not_reviewed=[])


@pytest.mark.parametrize("result", [RESULT, EMPTY])
def test_sarif_is_valid_against_the_official_schema(result: ReviewResult) -> None:
    log = to_sarif(result)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    # Also after a JSON round trip, as a consumer reads it.
    jsonschema.Draft4Validator(SCHEMA).validate(json.loads(render_report(result, "sarif")))


def test_the_schema_fixture_rejects_broken_sarif() -> None:
    """The fixture really constrains: the validity test above can fail."""
    log = to_sarif(RESULT)
    log["runs"][0]["results"][0]["level"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(log)
    del log["version"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_sarif_content() -> None:
    log = to_sarif(RESULT)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [f"sentinel/{c.value}" for c in Category]
    levels = [(r["ruleId"], r["level"]) for r in run["results"]]
    assert levels == [
        ("sentinel/bug", "warning"),
        ("sentinel/security", "error"),
        ("sentinel/style", "note"),
    ]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    location = run["results"][1]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "src/dir%20with%20space/%C3%9F.py"
    assert location["region"] == {"startLine": 3, "endLine": 3}
    first = run["results"][0]
    assert first["partialFingerprints"] == {
        "sentinelFingerprint/v1": RESULT.findings[0].fingerprint
    }
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 10, "endLine": 12}
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [
        "Not reviewed: lock file (excluded by default)",
        "Not reviewed: too large",
    ]
    assert run["invocations"][0]["executionSuccessful"] is False


def test_json_report() -> None:
    data = json.loads(to_json(RESULT))
    assert [f["path"] for f in data["findings"]] == [f.path for f in RESULT.findings]
    assert data["findings"][0]["fingerprint"] == RESULT.findings[0].fingerprint
    assert data["findings"][0]["severity"] == "warning"
    assert data["not_reviewed"][0] == {
        "path": "yarn.lock",
        "reason": "lock file (excluded by default)",
    }
    assert data["chunks"][1]["status"] == "failed"
    assert (data["model_calls"], data["prompt_version"]) == (3, RESULT.prompt_version)


def test_markdown_report() -> None:
    text = to_markdown(RESULT)
    assert "3 findings: 1 critical, 1 warning, 1 info. Reviewed by anthropic `claude-x`." in text
    # Most severe first.
    assert (
        text.index("### critical · security")
        < text.index("### warning · bug")
        < text.index("### info")
    )
    assert "`src/app.py:10-12` (confidence 0.80" in text
    assert "- `yarn.lock`: lock file (excluded by default)" in text
    assert "- a model call failed for src/b.py: bad answer" in text
    # A suggestion containing backticks gets a longer fence.
    assert "````\nx = ```1```\n````" in text


def test_markdown_without_provider() -> None:
    assert (
        "0 findings: 0 critical, 0 warning, 0 info. Reviewed by the static reviewer only."
        in to_markdown(EMPTY)
    )
