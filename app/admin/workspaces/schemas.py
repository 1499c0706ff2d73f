"""Wire shapes of the workspace, its plan and subscription."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.admin.schemas import StrictBody


class PlanLimits(BaseModel):
    reviews_per_month: int | None = Field(description="Reviews per calendar month; null: no limit")
    repositories: int | None = Field(description="Enabled repositories; null: no limit")
    files_per_review: int | None = Field(description="Files one review looks at; null: no limit")


class PlanOut(BaseModel):
    name: str
    limits: PlanLimits
    features: dict[str, bool]


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    status: str = Field(description="active, trialing, past_due, canceled or ended")
    started_at: datetime
    ends_at: datetime | None


class Period(BaseModel):
    start: datetime = Field(description="Start of the usage period (inclusive), UTC")
    end: datetime = Field(description="End of the usage period (exclusive), UTC")


class Allowance(BaseModel):
    used: int
    limit: int | None = Field(description="null: no limit")
    remaining: int | None = Field(description="null: no limit; never below 0")


class PeriodUsage(BaseModel):
    reviews: Allowance = Field(description="`review` usage records in the period")
    repositories: Allowance = Field(description="Repositories enabled now")


class WorkspaceOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
    plan: PlanOut | None = Field(description="null when the workspace has no live subscription")
    subscription: SubscriptionOut | None
    period: Period = Field(description="The current billing period: the calendar month, UTC")
    usage: PeriodUsage


PlanName = Annotated[str, StringConstraints(min_length=1, max_length=50)]


class PlanChange(StrictBody):
    plan: PlanName = Field(description="The plan to move to, e.g. `team`")
