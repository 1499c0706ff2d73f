"""A finding of the reviewers as a `findings` row, and back (app/review/queries.py stores them)."""

from __future__ import annotations

import uuid
from typing import Any

from app.models import Finding
from reviewers.config import Category, Severity
from reviewers.findings import Finding as ReviewedFinding


def to_row(
    workspace_id: uuid.UUID, run_id: uuid.UUID, finding: ReviewedFinding, metadata: dict[str, Any]
) -> Finding:
    return Finding(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        run_id=run_id,
        severity=finding.severity.value,
        category=finding.category.value,
        title=finding.title[:500],
        description=finding.body,
        file_path=finding.path,
        line_start=finding.line_start,
        line_end=max(finding.line_end, finding.line_start),
        confidence=finding.confidence,
        metadata_={
            "fingerprint": finding.fingerprint,
            "suggestion": finding.suggestion,
            "source": finding.source,
            "reviewer": finding.reviewer,
            **metadata,
        },
    )


def from_row(row: Finding) -> ReviewedFinding:
    meta = row.metadata_ or {}
    return ReviewedFinding(
        path=row.file_path,
        line_start=row.line_start,
        line_end=row.line_end,
        severity=Severity(row.severity),
        category=Category(row.category),
        title=row.title,
        body=row.description,
        confidence=row.confidence,
        suggestion=meta.get("suggestion"),
        source=meta.get("source", "model"),
        reviewer=meta.get("reviewer", ""),
    )
