"""`workspace_daily_metrics`, recomputed from the source rows (runs, findings, usage records).

Idempotent by construction: each (workspace, day) row is rebuilt from scratch and upserted,
so running it twice, late, or concurrently gives the same table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text

from app.db import SystemContext, system_session

if TYPE_CHECKING:
    from app.resources import Resources

# Recent days are recomputed on every pass: runs finish and usage lands after midnight.
DEFAULT_WINDOW_DAYS = 3

_RECOMPUTE = text(
    """
    WITH days AS (
        SELECT d::date AS day FROM generate_series(:first, :last, interval '1 day') AS d
    ),
    run_counts AS (
        SELECT workspace_id, created_at::date AS day, count(*) AS runs
        FROM runs WHERE created_at >= :first AND created_at < :after_last
        GROUP BY 1, 2
    ),
    finding_counts AS (
        SELECT workspace_id, created_at::date AS day, count(*) AS findings,
               count(*) FILTER (WHERE severity = 'critical') AS critical,
               count(*) FILTER (WHERE severity = 'warning') AS warning
        FROM findings WHERE created_at >= :first AND created_at < :after_last
        GROUP BY 1, 2
    ),
    token_sums AS (
        SELECT workspace_id, created_at::date AS day, sum(quantity) AS tokens
        FROM usage_records
        WHERE type IN ('llm_input_tokens', 'llm_output_tokens')
          AND created_at >= :first AND created_at < :after_last
        GROUP BY 1, 2
    ),
    keys AS (
        SELECT workspace_id, day FROM run_counts
        UNION SELECT workspace_id, day FROM finding_counts
        UNION SELECT workspace_id, day FROM token_sums
        UNION SELECT m.workspace_id, m.date FROM workspace_daily_metrics m
              WHERE m.date >= :first AND m.date <= :last
    )
    INSERT INTO workspace_daily_metrics AS m
        (workspace_id, date, runs_count, findings_count, critical_count, warning_count,
         tokens_estimated, updated_at)
    SELECT k.workspace_id, k.day, coalesce(r.runs, 0), coalesce(f.findings, 0),
           coalesce(f.critical, 0), coalesce(f.warning, 0), coalesce(t.tokens, 0), now()
    FROM keys k
    JOIN days USING (day)
    LEFT JOIN run_counts r USING (workspace_id, day)
    LEFT JOIN finding_counts f USING (workspace_id, day)
    LEFT JOIN token_sums t USING (workspace_id, day)
    ON CONFLICT (workspace_id, date) DO UPDATE SET
        runs_count = excluded.runs_count,
        findings_count = excluded.findings_count,
        critical_count = excluded.critical_count,
        warning_count = excluded.warning_count,
        tokens_estimated = excluded.tokens_estimated,
        updated_at = now()
    """
)


async def recompute_daily_metrics(
    resources: Resources, *, first: date | None = None, last: date | None = None
) -> None:
    today = datetime.now(UTC).date()
    last = last or today
    first = first or last - timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    async with system_session(resources.sessionmaker, SystemContext.ROLLUP) as session:
        await session.execute(
            _RECOMPUTE,
            {"first": first, "last": last, "after_last": last + timedelta(days=1)},
        )
