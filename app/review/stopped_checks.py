"""A run stopped while it waited for a retry (a push superseded it, the pull request closed)
may have shown a check run on its first attempt, still "in progress" on GitHub. When its
retry comes up and finds the run over, that check run is completed as cancelled, with the
run's reason; a run that never showed one gets none."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import structlog

from app.db import tenant_session
from app.models import Installation, Repository, Run
from app.publish.github_output import AppIdentity, CheckRun, Repo
from app.review.errors import PermanentError, TransientError
from app.runs.repository import RunRepository

if TYPE_CHECKING:
    from app.resources import Resources

log = structlog.get_logger(__name__)

# Statuses that stop a run from outside it (intake), possibly between two attempts.
STOPPED_FROM_OUTSIDE = frozenset({"superseded", "cancelled"})


async def close_earlier_check_run(
    resources: Resources, identity: AppIdentity, workspace_id: uuid.UUID, run_id: uuid.UUID
) -> None:
    if resources.github_app is None:
        return
    async with tenant_session(resources.sessionmaker, workspace_id) as session:
        found = (
            await session.execute(
                RunRepository(session, workspace_id)
                .select(Run.head_sha, Run.status_reason, Repository.name, Installation.external_id)
                .join(
                    Repository,
                    (Repository.id == Run.repository_id)
                    & (Repository.workspace_id == Run.workspace_id),
                )
                .join(
                    Installation,
                    (Installation.id == Repository.installation_id)
                    & (Installation.workspace_id == Run.workspace_id),
                )
                .where(Run.id == run_id)
            )
        ).first()
    if found is None:
        return
    head_sha, reason, repository, installation = found
    github = resources.github_app.for_installation(installation)
    async with github:
        check_run = CheckRun(Repo(github, repository, identity, fresh=False), head_sha, run_id)
        try:
            await check_run.close_if_shown(
                conclusion="cancelled",
                title="Sentinel stopped reviewing this commit",
                summary=reason or "the review was stopped",
            )
        except (TransientError, PermanentError) as error:
            log.warning("run.check_run_not_updated", run_id=str(run_id), error=error.reason)
