"""Usage sums shaped per group, the records feed (JSON or CSV), daily metrics."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from app.admin.cursors import decode_int_cursor, encode_cursor
from app.admin.deps import WorkspaceContext
from app.admin.usage.schemas import UsageGroup, UsageRecordOut, UsageRecordPage, UsageSummary
from app.models import UsageRecord
from app.usage.queries import (
    USAGE_TYPES,
    FeedPosition,
    GroupBy,
    records_page,
    repository_names,
    usage_sums,
)

CSV_COLUMNS = ("id", "run_id", "repository_id", "type", "quantity", "model", "created_at",
               "metadata")  # fmt: skip


def midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _zeros() -> dict[str, int]:
    return dict.fromkeys(USAGE_TYPES, 0)


async def summarise(
    context: WorkspaceContext, start: date, end: date, group_by: GroupBy
) -> UsageSummary:
    sums = await usage_sums(
        context.session,
        context.workspace_id,
        start=midnight_utc(start),
        end=midnight_utc(end),
        group_by=group_by,
    )
    groups: dict[str | None, dict[str, int]] = {}
    totals = _zeros()
    for row in sums:
        quantities = groups.setdefault(row.key, _zeros())
        quantities[row.type] = quantities.get(row.type, 0) + row.quantity
        totals[row.type] = totals.get(row.type, 0) + row.quantity
    labels: dict[str, str] = {}
    if group_by is GroupBy.REPOSITORY:
        ids = [uuid.UUID(key) for key in groups if key is not None]
        names = await repository_names(context.session, context.workspace_id, ids)
        labels = {str(repository_id): name for repository_id, name in names.items()}
    return UsageSummary(
        start=start,
        end=end,
        group_by=group_by,
        groups=[
            UsageGroup(key=key, label=labels.get(key) if key else None, quantities=quantities)
            for key, quantities in groups.items()
        ],
        totals=totals,
    )


def decode_position(after: str | None) -> FeedPosition | None:
    if after is None:
        return None
    xact_id, record_id = decode_int_cursor(after, 2)
    return FeedPosition(xact_id=xact_id, id=record_id)


def record_out(row: UsageRecord) -> UsageRecordOut:
    return UsageRecordOut(
        id=row.id,
        run_id=row.run_id,
        repository_id=row.repository_id,
        type=row.type,
        quantity=row.quantity,
        model=row.model,
        metadata=row.metadata_ or {},
        created_at=row.created_at,
    )


async def feed_page(
    context: WorkspaceContext, after: FeedPosition | None, limit: int
) -> UsageRecordPage:
    rows, has_more = await records_page(
        context.session, context.workspace_id, after=after, limit=limit
    )
    position = FeedPosition(rows[-1].xact_id, rows[-1].id) if rows else after
    # Before the first record there is no position yet: (0, 0) sorts before every record.
    next_cursor = encode_cursor(position.xact_id, position.id) if position else encode_cursor(0, 0)
    return UsageRecordPage(
        records=[record_out(row) for row in rows], next=next_cursor, has_more=has_more
    )


SUMMARY_CSV_COLUMNS = ("group_by", "key", "label", "type", "quantity")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """Text a spreadsheet would run as a formula is kept as text (OWASP's CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def summary_csv(summary: UsageSummary) -> str:
    """The summary as rows of one group and one usage type each, in the summary's order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SUMMARY_CSV_COLUMNS)
    for group in summary.groups:
        for kind, quantity in sorted(group.quantities.items()):
            writer.writerow(
                [
                    summary.group_by.value,
                    _cell(group.key or ""),
                    _cell(group.label or ""),
                    kind,
                    quantity,
                ]
            )
    return buffer.getvalue()


def as_csv(records: Iterable[UsageRecordOut]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow(
            [
                record.id,
                record.run_id,
                record.repository_id or "",
                record.type,
                record.quantity,
                _cell(record.model or ""),
                record.created_at.isoformat(),
                json.dumps(record.metadata, sort_keys=True, separators=(",", ":")),
            ]
        )
    return buffer.getvalue()


def wants_csv(accept: str | None) -> bool:
    """`Accept: text/csv` (before any JSON type in the header) selects CSV."""
    for media_range in (accept or "").split(","):
        media_type = media_range.split(";", 1)[0].strip().lower()
        if media_type == "text/csv":
            return True
        if media_type in ("application/json", "application/*"):
            return False
    return False
