"""A ReviewResult as JSON, Markdown or SARIF 2.1.0 (for `sentinel review PATCH --format`).

SARIF follows the OASIS 2.1.0 schema (validated against it in the tests): one rule per
finding category, result levels from severity, `partialFingerprints` carrying the finding's
fingerprint so code-scanning tools deduplicate across runs as Sentinel does, and every file
that was not reviewed reported as a tool execution notification rather than left out.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from typing import Any, Literal
from urllib.parse import quote

from reviewers.config import Category, Severity
from reviewers.engine import ReviewResult
from reviewers.findings import Finding

Format = Literal["json", "markdown", "sarif"]

SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVEL = {Severity.CRITICAL: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_RULES = list(Category)
_RULE_TEXT = {
    Category.BUG: "Defects: wrong behaviour, crashes, data loss",
    Category.SECURITY: "Security holes and committed secrets",
    Category.PERFORMANCE: "Performance traps",
    Category.MAINTAINABILITY: "Maintainability hazards",
    Category.STYLE: "Style problems that hurt readability",
    Category.DOCS: "Missing or wrong documentation",
    Category.TEST: "Missing or wrong tests",
}


def render_report(result: ReviewResult, format: Format) -> str:
    if format == "json":
        return to_json(result)
    if format == "markdown":
        return to_markdown(result)
    return json.dumps(to_sarif(result), indent=2, ensure_ascii=False) + "\n"


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "path": finding.path,
        "line_start": finding.line_start,
        "line_end": finding.line_end,
        "severity": finding.severity.value,
        "category": finding.category.value,
        "title": finding.title,
        "body": finding.body,
        "suggestion": finding.suggestion,
        "confidence": finding.confidence,
        "source": finding.source,
        "reviewer": finding.reviewer,
        "fingerprint": finding.fingerprint,
    }


def result_to_dict(result: ReviewResult) -> dict[str, Any]:
    return {
        "findings": [finding_to_dict(f) for f in result.findings],
        "not_reviewed": [{"path": p, "reason": r} for p, r in result.not_reviewed],
        "chunks": [
            {
                "files": list(c.files),
                "status": c.status,
                "reason": c.reason,
                "input_tokens": c.input_tokens,
                "output_tokens": c.output_tokens,
                "model_calls": c.model_calls,
                "repaired": c.repaired,
            }
            for c in result.chunks
        ],
        "provider": result.provider,
        "model": result.model,
        "prompt_version": result.prompt_version,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "model_calls": result.model_calls,
        "files_reviewed": result.files_reviewed,
        "dropped_invalid": result.dropped_invalid,
        "dropped_filtered": result.dropped_filtered,
        "dropped_forbidden": result.dropped_forbidden,
    }


def to_json(result: ReviewResult) -> str:
    return json.dumps(result_to_dict(result), indent=2, ensure_ascii=False) + "\n"


def to_markdown(result: ReviewResult) -> str:
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in Severity}
    who = f"{result.provider} `{result.model}`" if result.provider else "the static reviewer only"
    out = [
        "# Sentinel review",
        "",
        f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}: "
        f"{counts[Severity.CRITICAL]} critical, {counts[Severity.WARNING]} warning, "
        f"{counts[Severity.INFO]} info. Reviewed by {who}.",
    ]
    if result.findings:
        out += ["", "## Findings"]
    for finding in sorted(result.findings, key=lambda f: (-f.severity.rank, f.path, f.line_start)):
        lines = (
            str(finding.line_start)
            if finding.line_start == finding.line_end
            else f"{finding.line_start}-{finding.line_end}"
        )
        out += [
            "",
            f"### {finding.severity.value} · {finding.category.value}: {_one_line(finding.title)}",
            "",
            f"`{finding.path}:{lines}` (confidence {finding.confidence:.2f}, {finding.reviewer})",
            "",
            finding.body,
        ]
        if finding.suggestion is not None:
            fence = _fence(finding.suggestion)
            out += ["", "Suggested replacement:", "", fence, finding.suggestion.rstrip("\n"), fence]
    if result.not_reviewed:
        out += ["", "## Not reviewed", ""]
        out += [f"- `{path}`: {reason}" for path, reason in result.not_reviewed]
    out += [
        "",
        "## Run",
        "",
        f"- prompt version {result.prompt_version}",
        f"- model calls {result.model_calls}, tokens in {result.input_tokens}, "
        f"out {result.output_tokens}",
        f"- dropped: {result.dropped_invalid} malformed, {result.dropped_filtered} below policy, "
        f"{result.dropped_forbidden} echoing a secret",
    ]
    failed = [c for c in result.chunks if not c.ok]
    out += [f"- a model call failed for {', '.join(c.files)}: {c.reason}" for c in failed]
    return "\n".join(out) + "\n"


def to_sarif(result: ReviewResult) -> dict[str, Any]:
    rules = [
        {
            "id": _rule_id(category),
            "name": category.value.capitalize(),
            "shortDescription": {"text": _RULE_TEXT[category]},
            "defaultConfiguration": {"level": "warning"},
        }
        for category in _RULES
    ]
    results = [_sarif_result(f) for f in result.findings]
    notifications = [
        {
            "level": "note",
            "message": {"text": f"Not reviewed: {reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(path)}}],
        }
        for path, reason in result.not_reviewed
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "Sentinel",
                "semanticVersion": _version(),
                "rules": rules,
            }
        },
        "invocations": [
            {
                "executionSuccessful": all(c.ok for c in result.chunks),
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": results,
        "properties": {
            "promptVersion": result.prompt_version,
            "provider": result.provider,
            "model": result.model,
            "modelCalls": result.model_calls,
            "inputTokens": result.input_tokens,
            "outputTokens": result.output_tokens,
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _sarif_result(finding: Finding) -> dict[str, Any]:
    text = f"{finding.title}\n\n{finding.body}"
    properties: dict[str, Any] = {
        "severity": finding.severity.value,
        "category": finding.category.value,
        "confidence": finding.confidence,
        "source": finding.source,
        "reviewer": finding.reviewer,
    }
    if finding.suggestion is not None:
        properties["suggestion"] = finding.suggestion
    return {
        "ruleId": _rule_id(finding.category),
        "ruleIndex": _RULES.index(finding.category),
        "level": _LEVEL[finding.severity],
        "message": {"text": text, "markdown": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": {"startLine": finding.line_start, "endLine": finding.line_end},
                }
            }
        ],
        "partialFingerprints": {"sentinelFingerprint/v1": finding.fingerprint},
        "properties": properties,
    }


def _artifact(path: str) -> dict[str, str]:
    # SARIF wants a URI reference: percent-encode spaces and the like, keep the slashes.
    return {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"}


def _rule_id(category: Category) -> str:
    return f"sentinel/{category.value}"


def _version() -> str:
    try:
        return metadata.version("sentinel")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fence(code: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)
