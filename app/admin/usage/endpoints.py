"""`/v1/workspaces/{workspace}/usage`, `/usage/records` and `/metrics/daily`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from app.admin.deps import AnyRole, UsageReaders
from app.admin.usage import service
from app.admin.usage.schemas import DailyMetricOut, DailyMetrics, UsageRecordPage, UsageSummary
from app.errors import ApiError
from app.usage.queries import GroupBy, daily_metrics

router = APIRouter(tags=["usage"])

_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The records as JSON, or as CSV with `Accept: text/csv` (the next "
        "cursor then travels in the `X-Next-Cursor` header)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "headers": {
            "X-Next-Cursor": {"schema": {"type": "string"}, "description": "The `next` cursor"},
            "X-Has-More": {"schema": {"type": "string", "enum": ["true", "false"]}},
        },
    }
}


def _this_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


def _month_after(day: date) -> date:
    first = day.replace(day=1)
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )


def _out_of_range(field: str) -> ApiError:
    return ApiError(422, "invalid_request", f"{field}: is out of the supported range of dates")


def _range(start: date | None, end: date | None, default_start: date) -> tuple[date, date]:
    start = start or default_start
    try:
        end = end or _month_after(start)
    except ValueError:
        raise _out_of_range("start") from None
    if end <= start:
        raise ApiError(422, "invalid_request", "end: must be after start (end is exclusive)")
    return start, end


_SUMMARY_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The summary as JSON, or as CSV with `Accept: text/csv` (one row per "
        "group and usage type: group_by, key, label, type, quantity)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/usage",
    response_model=UsageSummary,
    summary="Usage summed per group and type",
    responses=_SUMMARY_CSV_RESPONSE,
)
async def usage(
    context: UsageReaders,
    start: Annotated[date | None, Query(description="First day (UTC); default: this month")] = None,
    end: Annotated[
        date | None,
        Query(description="Day after the last (exclusive); default: start's next month"),
    ] = None,
    group_by: GroupBy = GroupBy.DAY,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> UsageSummary | Response:
    """Quantities of `usage_records` created in [start, end), summed exactly per group and
    usage type. Owners, admins and billing."""
    start, end = _range(start, end, _this_month())
    summary = await service.summarise(context, start, end, group_by)
    if not service.wants_csv(accept):
        return summary
    filename = f"sentinel-usage-{start}-{end}-by-{group_by.value}.csv"
    return Response(
        content=service.summary_csv(summary),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/usage/records",
    response_model=UsageRecordPage,
    summary="The raw usage records feed",
    responses=_CSV_RESPONSE,
)
async def usage_records(
    context: UsageReaders,
    after: Annotated[
        str | None, Query(max_length=200, description="The `next` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> UsageRecordPage | Response:
    """Records in a stable order. Paging with `next` while new records are being written
    yields every record exactly once: a record appears once every transaction that began
    before it has ended, always after the cursors already handed out. Owners, admins and
    billing."""
    page = await service.feed_page(context, service.decode_position(after), limit)
    if not service.wants_csv(accept):
        return page
    return Response(
        content=service.as_csv(page.records),
        media_type="text/csv; charset=utf-8",
        headers={"X-Next-Cursor": page.next, "X-Has-More": str(page.has_more).lower()},
    )


@router.get(
    "/metrics/daily",
    response_model=DailyMetrics,
    tags=["metrics"],
    summary="Daily metrics rows",
)
async def metrics_daily(
    context: AnyRole,
    start: Annotated[date | None, Query(description="First day; default: 30 days ago")] = None,
    end: Annotated[date | None, Query(description="Day after the last; default: tomorrow")] = None,
) -> DailyMetrics:
    """Rows of `workspace_daily_metrics` (precomputed by a rollup) for [start, end)."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    end = end or tomorrow
    try:
        start = start or end - timedelta(days=30)
    except OverflowError:
        raise _out_of_range("end") from None
    if end <= start:
        raise ApiError(422, "invalid_request", "end: must be after start (end is exclusive)")
    rows = await daily_metrics(context.session, context.workspace_id, start=start, end=end)
    return DailyMetrics(
        start=start,
        end=end,
        metrics=[DailyMetricOut.model_validate(row, from_attributes=True) for row in rows],
    )
