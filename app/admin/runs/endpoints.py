"""`/v1/workspaces/{workspace}/runs`: review runs (any role)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.admin.cursors import decode_time_cursor
from app.admin.deps import AnyRole
from app.admin.runs import service
from app.admin.runs.preview import RunPreview, run_preview
from app.admin.runs.repository import RunFilters
from app.admin.runs.schemas import RunDetail, RunPage
from app.models import RunStatus
from app.resources import resources

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("", response_model=RunPage, summary="Runs, newest first")
async def list_runs(
    context: AnyRole,
    repository_id: Annotated[uuid.UUID | None, Query(description="Only this repository")] = None,
    status: Annotated[RunStatus | None, Query(description="Only runs in this status")] = None,
    pull_request_number: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only runs of this pull request number")
    ] = None,
    start: Annotated[
        datetime | None, Query(description="Created at or after (ISO 8601; no zone means UTC)")
    ] = None,
    end: Annotated[datetime | None, Query(description="Created before (exclusive)")] = None,
    after: Annotated[
        str | None, Query(max_length=200, description="The `next` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RunPage:
    filters = RunFilters(
        repository_id=repository_id,
        status=status.value if status is not None else None,
        pull_request_number=pull_request_number,
        start=_aware(start),
        end=_aware(end),
    )
    position = decode_time_cursor(after, uuid.UUID) if after is not None else None
    return await service.list_runs(context, filters, position, limit)


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone (or a bare date) is taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get("/{run_id}", response_model=RunDetail, summary="A run with findings and annotations")
async def get_run(run_id: uuid.UUID, context: AnyRole) -> RunDetail:
    """The run, its policy snapshot (naming the policy version), its findings and where each
    was posted."""
    return await service.run_detail(context, run_id)


@router.get(
    "/{run_id}/preview",
    response_model=RunPreview,
    summary="What reviewing the run's commit would cost, planned without calling a model",
)
async def preview_run(run_id: uuid.UUID, context: AnyRole, request: Request) -> RunPreview:
    """The calls the review would make, the files in each, estimated input tokens, the most
    output and cost it could reach at list prices, and what it would leave out and why."""
    return await run_preview(context, run_id, resources(request).github_app)
