"""Reading usage: exact sums over a period, and the records feed a billing system pages through.

Sums are computed from `usage_records` itself, never from a rollup, so they are exact to the
record. The feed is ordered by (xact_id, id) and shows only rows whose writing transaction is
older than every transaction still open (`pg_snapshot_xmin`): a row committed later always
sorts after any cursor already handed out, so paging while records are written yields no gap
and no duplicate. The price is that a row appears only once every transaction that started
before it has ended (normally milliseconds).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, Select, Text, cast, func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Repository, UsageRecord, WorkspaceDailyMetric
from app.repository import WorkspaceRepository, scope_to_workspace

USAGE_TYPES = ("review", "llm_input_tokens", "llm_output_tokens")


class GroupBy(StrEnum):
    DAY = "day"
    REPOSITORY = "repository"
    TYPE = "type"
    MODEL = "model"


class UsageRecordRepository(WorkspaceRepository[UsageRecord]):
    model = UsageRecord


class _Repositories(WorkspaceRepository[Repository]):
    model = Repository


class _DailyMetrics(WorkspaceRepository[WorkspaceDailyMetric]):
    model = WorkspaceDailyMetric


@dataclass(frozen=True)
class UsageSum:
    key: str | None  # the group: a day, repository id, type or model (None: not recorded)
    type: str
    quantity: int


def _group_key(group_by: GroupBy) -> Any:
    if group_by is GroupBy.DAY:
        # Days are UTC days, whatever the database session's time zone.
        return cast(func.timezone("UTC", UsageRecord.created_at), Date)
    if group_by is GroupBy.REPOSITORY:
        return UsageRecord.repository_id
    if group_by is GroupBy.TYPE:
        return UsageRecord.type
    return UsageRecord.model


def usage_sums_statement(
    workspace_id: uuid.UUID, *, start: datetime, end: datetime, group_by: GroupBy
) -> Select[Any]:
    """The sums query itself (the benchmark EXPLAINs exactly this). It is scoped like every
    tenant query; the session is not needed to build it."""
    key = _group_key(group_by).label("key")
    records = scope_to_workspace(
        select(key, UsageRecord.type, func.sum(UsageRecord.quantity).label("quantity")),
        UsageRecord,
        workspace_id,
    )
    return (
        records.where(UsageRecord.created_at >= start, UsageRecord.created_at < end)
        .group_by(literal_column("1"), UsageRecord.type)
        .order_by(literal_column("1"), UsageRecord.type)
    )


async def usage_sums(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
) -> list[UsageSum]:
    """Quantities summed per group and type for records created in [start, end)."""
    UsageRecordRepository(session, workspace_id)  # refuses a session of another workspace
    statement = usage_sums_statement(workspace_id, start=start, end=end, group_by=group_by)
    rows = (await session.execute(statement)).all()
    return [
        # sum(bigint) is numeric in Postgres: int() keeps it exact, however large.
        UsageSum(key=None if row.key is None else str(row.key), type=row.type,
                 quantity=int(row.quantity))
        for row in rows
    ]  # fmt: skip


async def quantity_total(
    session: AsyncSession, workspace_id: uuid.UUID, usage_type: str, start: datetime, end: datetime
) -> int:
    records = UsageRecordRepository(session, workspace_id)
    statement = records.select(func.coalesce(func.sum(UsageRecord.quantity), 0)).where(
        UsageRecord.type == usage_type,
        UsageRecord.created_at >= start,
        UsageRecord.created_at < end,
    )
    return int((await session.execute(statement)).scalar_one())


async def repository_names(
    session: AsyncSession, workspace_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    repositories = _Repositories(session, workspace_id)
    rows = await session.execute(
        repositories.select(Repository.id, Repository.name).where(Repository.id.in_(ids))
    )
    return {row.id: row.name for row in rows}


def _oldest_open_transaction() -> Any:
    """pg_snapshot_xmin of the statement's snapshot, as a bigint: every transaction with a
    smaller id has ended, so its rows are final."""
    return cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)


@dataclass(frozen=True)
class FeedPosition:
    xact_id: int
    id: int


async def records_page(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    after: FeedPosition | None,
    limit: int,
) -> tuple[list[UsageRecord], bool]:
    """Up to `limit` final records after `after` in (xact_id, id) order, and whether more
    final records follow."""
    records = UsageRecordRepository(session, workspace_id)
    statement = records.select().where(UsageRecord.xact_id < _oldest_open_transaction())
    if after is not None:
        statement = statement.where(
            tuple_(UsageRecord.xact_id, UsageRecord.id) > tuple_(after.xact_id, after.id)
        )
    statement = statement.order_by(UsageRecord.xact_id, UsageRecord.id).limit(limit + 1)
    rows = list((await session.execute(statement)).scalars())
    return rows[:limit], len(rows) > limit


async def daily_metrics(
    session: AsyncSession, workspace_id: uuid.UUID, *, start: date, end: date
) -> list[WorkspaceDailyMetric]:
    metrics = _DailyMetrics(session, workspace_id)
    statement = (
        metrics.select()
        .where(WorkspaceDailyMetric.date >= start, WorkspaceDailyMetric.date < end)
        .order_by(WorkspaceDailyMetric.date)
    )
    return list((await session.execute(statement)).scalars())
