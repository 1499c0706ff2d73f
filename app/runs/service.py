"""The run lifecycle at intake: create review runs, supersede and stop pending ones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import PullRequest, Repository, Run, RunKind, RunStatus
from app.queue import JobBuffer
from app.runs.repository import RunRepository

REVIEW_JOB = "review_run"


def external_reference(repository: Repository, number: int, head_sha: str) -> str:
    return f"{repository.name}#{number}@{head_sha}"


def enqueue_review(jobs: JobBuffer, run: Run) -> None:
    # The job id is the run id: a run is queued at most once however often it is sent. The
    # workspace comes along to spare the job a lookup; the job reads the run in it only.
    jobs.add(REVIEW_JOB, str(run.id), str(run.workspace_id), job_id=str(run.id))


@dataclass(frozen=True)
class ReviewRequest:
    repository: Repository
    pull_request: PullRequest
    head_sha: str
    base_sha: str | None
    kind: RunKind
    trigger: str
    # When GitHub last changed the PR (for ordering heads of automatic runs).
    seen_at: datetime | None = None


async def start_review(
    session: AsyncSession, workspace_id: uuid.UUID, request: ReviewRequest, jobs: JobBuffer
) -> Run | None:
    """Create the run for a head and supersede the PR's other pending runs.

    The caller holds the PR's row lock. An automatic run for a head already seen returns
    None (the database's unique index makes this idempotent).
    """
    runs = RunRepository(session, workspace_id)
    values: dict[str, object] = {
        "repository_id": request.repository.id,
        "external_reference": external_reference(
            request.repository, request.pull_request.number, request.head_sha
        ),
        "trigger": request.trigger,
        "pull_request_number": request.pull_request.number,
        "head_sha": request.head_sha,
        "base_sha": request.base_sha,
        "status": RunStatus.QUEUED,
    }
    if request.kind is RunKind.AUTOMATIC:
        run = await runs.insert_automatic(values)
        if run is None:
            return None
    else:
        run = runs.add(Run(workspace_id=workspace_id, kind=request.kind, **values))
        await session.flush()
    await runs.end_pending(
        status=RunStatus.SUPERSEDED,
        reason=f"superseded by a newer review of {request.head_sha[:12]} (run {run.id})",
        repository_ids=[request.repository.id],
        pull_request_number=request.pull_request.number,
        keep_run_id=run.id,
    )
    enqueue_review(jobs, run)
    return run


async def record_stale_head(
    session: AsyncSession, workspace_id: uuid.UUID, request: ReviewRequest, newer_head: str
) -> Run | None:
    """An event about an older head arrived after a newer one: keep a record of it, already
    superseded, so nothing about the PR's history is silently dropped."""
    runs = RunRepository(session, workspace_id)
    return await runs.insert_automatic(
        {
            "repository_id": request.repository.id,
            "external_reference": external_reference(
                request.repository, request.pull_request.number, request.head_sha
            ),
            "trigger": request.trigger,
            "pull_request_number": request.pull_request.number,
            "head_sha": request.head_sha,
            "base_sha": request.base_sha,
            "status": RunStatus.SUPERSEDED,
            "completed_at": datetime.now(UTC),
            "status_reason": f"a newer commit ({newer_head[:12]}) was pushed before this one "
            "was reviewed",
        }
    )


async def stop_pending_runs(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    reason: str,
    repository_ids: Sequence[uuid.UUID] | None = None,
    pull_request_number: int | None = None,
) -> list[uuid.UUID]:
    return await RunRepository(session, workspace_id).end_pending(
        status=RunStatus.CANCELLED,
        reason=reason,
        repository_ids=repository_ids,
        pull_request_number=pull_request_number,
    )
