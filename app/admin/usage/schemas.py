"""Wire shapes of usage sums, usage records and daily metrics."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.usage.queries import GroupBy


class UsageGroup(BaseModel):
    key: str | None = Field(
        description="The day (YYYY-MM-DD, UTC), repository id, usage type or model; null "
        "where the records name none (e.g. the model of `review` records)"
    )
    label: str | None = Field(description="The repository's name when grouped by repository")
    quantities: dict[str, int] = Field(description="Summed quantity per usage type")


class UsageSummary(BaseModel):
    start: date = Field(description="First day included (UTC)")
    end: date = Field(description="First day not included (UTC)")
    group_by: GroupBy
    groups: list[UsageGroup]
    totals: dict[str, int] = Field(description="Summed quantity per usage type, all groups")


class UsageRecordOut(BaseModel):
    id: int
    run_id: uuid.UUID
    repository_id: uuid.UUID | None
    type: str = Field(description="review, llm_input_tokens or llm_output_tokens")
    quantity: int
    model: str | None
    metadata: dict[str, Any] = Field(description="provider, model, repository, pull_request")
    created_at: datetime


class UsageRecordPage(BaseModel):
    records: list[UsageRecordOut]
    next: str = Field(
        description="Pass as `after` to continue. Always present: at the end of the feed it "
        "marks where new records will start, so a poller never misses or repeats one."
    )
    has_more: bool = Field(description="More records are ready now")


class DailyMetricOut(BaseModel):
    date: date
    runs_count: int
    findings_count: int
    critical_count: int
    warning_count: int
    tokens_estimated: int


class DailyMetrics(BaseModel):
    start: date
    end: date
    metrics: list[DailyMetricOut]
