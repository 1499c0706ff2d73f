"""Rebuilds Redis from Postgres: processes deliveries that are due and re-sends queued runs.

Runs when a worker starts (everything due, no grace) and periodically (with a grace period,
so it does not race the jobs the webhook receiver just sent).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import delete, or_, select, text, update

from app.db import SystemContext, system_session, unscoped_session
from app.github.processing import process_delivery
from app.models import ConsoleSession, Run, RunStatus
from app.queue import JobBuffer
from app.runs.service import REVIEW_JOB

if TYPE_CHECKING:
    from app.resources import Resources

log = structlog.get_logger(__name__)

PERIODIC_GRACE = timedelta(seconds=30)
BATCH = 500
# Console sessions that ended (signed out or expired) are kept this long, then forgotten.
ENDED_SESSIONS_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class SweepReport:
    deliveries_processed: int
    runs_enqueued: int


async def _resume_if_abandoned(
    resources: Resources, run_id: uuid.UUID, workspace_id: uuid.UUID, jobs: JobBuffer
) -> None:
    """A `running` run whose lock nobody holds lost its worker (killed, OOM, host gone).
    arq would re-run that job only after its timeout; resume it now under a new job id (the
    run lock still guarantees one executor, and the old job finds the run finished). A run
    this very process executes is not abandoned: `hold` says False for it too."""
    async with resources.run_locks.hold(run_id) as free:
        if not free:
            return
        async with system_session(resources.sessionmaker, SystemContext.SWEEPER) as session:
            resumed = await session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.RUNNING)
                .values(status=RunStatus.QUEUED, status_reason="resumed after its worker stopped")
                .returning(Run.id)
            )
            if resumed.first() is None:
                return
    log.warning("sweep.run_resumed", run_id=str(run_id))
    jobs.add(
        REVIEW_JOB, str(run_id), str(workspace_id), job_id=f"{run_id}:resumed:{int(time.time())}"
    )


async def _forget_ended_console_sessions(resources: Resources) -> int:
    """Sessions signed out or expired a day ago and more: nothing can use them again."""
    cutoff = datetime.now(UTC) - ENDED_SESSIONS_KEPT
    async with system_session(resources.sessionmaker, SystemContext.SWEEPER) as session:
        ended = (
            select(ConsoleSession.id)
            .where(or_(ConsoleSession.expires_at < cutoff, ConsoleSession.revoked_at < cutoff))
            .limit(BATCH)
        )
        result = await session.execute(
            delete(ConsoleSession).where(ConsoleSession.id.in_(ended)).returning(ConsoleSession.id)
        )
        return len(result.all())


async def sweep(resources: Resources, *, grace: timedelta = PERIODIC_GRACE) -> SweepReport:
    async with unscoped_session(resources.sessionmaker) as session:
        due = (
            await session.execute(
                text(
                    """
                    SELECT id FROM webhook_deliveries
                    WHERE processed_at IS NULL AND outcome IS NULL AND next_attempt_at <= now()
                      AND received_at <= now() - :grace
                    ORDER BY next_attempt_at, id
                    LIMIT :batch
                    """
                ),
                {"grace": grace, "batch": BATCH},
            )
        ).scalars()
        delivery_ids = list(due)
    processed = 0
    for inbox_id in delivery_ids:
        if await process_delivery(resources, inbox_id) is not None:
            processed += 1

    jobs = JobBuffer()
    async with system_session(resources.sessionmaker, SystemContext.SWEEPER) as session:
        queued = await session.execute(
            select(Run.id, Run.workspace_id)
            .where(Run.status == RunStatus.QUEUED, Run.created_at <= text("now() - :grace"))
            .order_by(Run.created_at)
            .limit(BATCH),
            {"grace": grace},
        )
        # With its workspace, as intake sends it: the job then skips the run lookup.
        for run_id, workspace_id in queued:
            jobs.add(REVIEW_JOB, str(run_id), str(workspace_id), job_id=str(run_id))
        running = list(
            await session.execute(
                select(Run.id, Run.workspace_id).where(Run.status == RunStatus.RUNNING).limit(BATCH)
            )
        )
    for run_id, workspace_id in running:
        await _resume_if_abandoned(resources, run_id, workspace_id, jobs)
    enqueued = len(await jobs.send(resources.queue))
    await _forget_ended_console_sessions(resources)
    if processed or enqueued:
        log.info("sweep.done", deliveries_processed=processed, runs_enqueued=enqueued)
    return SweepReport(deliveries_processed=processed, runs_enqueued=enqueued)
