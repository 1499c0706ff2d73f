"""Wire shapes of runs, findings and annotations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.models import RunStatus


class PolicyUsed(BaseModel):
    name: str | None
    version: int | None


class RunOut(BaseModel):
    id: uuid.UUID
    repository_id: uuid.UUID
    repository: str | None = Field(description="owner/repo")
    pull_request_number: int
    head_sha: str
    base_sha: str | None
    kind: str = Field(description="automatic or manual")
    trigger: str
    status: RunStatus
    status_reason: str | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    metrics: dict[str, Any]
    policy: PolicyUsed | None = Field(description="The policy version the run's snapshot used")


class RunPage(BaseModel):
    runs: list[RunOut]
    next: str | None = Field(description="Pass as `after` for the next page; null at the end")


class AnnotationOut(BaseModel):
    id: uuid.UUID
    type: str = Field(description="review_comment, check_annotation or summary")
    external_id: str | None = Field(
        description="The platform's id of what was posted (for review_comment: the review's id)"
    )
    created_at: datetime


class FindingOut(BaseModel):
    id: uuid.UUID
    severity: str
    category: str
    title: str
    description: str
    file_path: str
    line_start: int
    line_end: int
    confidence: float
    metadata: dict[str, Any]
    created_at: datetime
    annotations: list[AnnotationOut] = Field(description="Where the finding was posted")


class RunDetail(RunOut):
    policy_snapshot: dict[str, Any] | None
    findings: list[FindingOut]
