"""Queries on runs and pull requests, scoped to one workspace."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from app.models import PullRequest, Run, RunStatus
from app.repository import WorkspaceRepository, scope_to_workspace

PENDING_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunRepository(WorkspaceRepository[Run]):
    model = Run

    async def status_of(self, run_id: uuid.UUID) -> RunStatus | None:
        statement = self.select(Run.status).where(Run.id == run_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def insert_automatic(self, values: dict[str, object]) -> Run | None:
        """Insert an automatic run unless one exists for the same (repository, PR, head)."""
        statement = (
            insert(Run)
            .values(workspace_id=self.workspace_id, kind="automatic", **values)
            .on_conflict_do_nothing(
                index_elements=["repository_id", "pull_request_number", "head_sha"],
                index_where=text("kind = 'automatic'"),
            )
            .returning(Run)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def end_pending(
        self,
        *,
        status: RunStatus,
        reason: str,
        repository_ids: Sequence[uuid.UUID] | None = None,
        pull_request_number: int | None = None,
        keep_run_id: uuid.UUID | None = None,
    ) -> list[uuid.UUID]:
        """Move queued and running runs (of some repositories, or one PR) to a terminal
        status with a reason. Returns the ids it ended."""
        statement = (
            self.update()
            .where(Run.status.in_(PENDING_STATUSES))
            .values(status=status, status_reason=reason, completed_at=datetime.now(UTC))
            .returning(Run.id)
        )
        if repository_ids is not None:
            statement = statement.where(Run.repository_id.in_(repository_ids))
        if pull_request_number is not None:
            statement = statement.where(Run.pull_request_number == pull_request_number)
        if keep_run_id is not None:
            statement = statement.where(Run.id != keep_run_id)
        return list((await self.session.execute(statement)).scalars())

    async def pending_for_head(
        self, repository_id: uuid.UUID, pull_request_number: int, head_sha: str
    ) -> Run | None:
        statement = (
            self.select()
            .where(
                Run.repository_id == repository_id,
                Run.pull_request_number == pull_request_number,
                Run.head_sha == head_sha,
                Run.status.in_(PENDING_STATUSES),
            )
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()


class PullRequestRepository(WorkspaceRepository[PullRequest]):
    model = PullRequest

    async def lock(self, repository_id: uuid.UUID, number: int) -> PullRequest:
        """The PR's row, created if new, locked until the transaction ends: events of one
        pull request are applied one at a time."""
        await self.session.execute(
            insert(PullRequest)
            .values(workspace_id=self.workspace_id, repository_id=repository_id, number=number)
            .on_conflict_do_nothing(index_elements=["repository_id", "number"])
        )
        statement = scope_to_workspace(
            select(PullRequest).where(
                PullRequest.repository_id == repository_id, PullRequest.number == number
            ),
            PullRequest,
            self.workspace_id,
        ).with_for_update()
        result = await self.session.execute(statement.execution_options(populate_existing=True))
        return result.scalar_one()

    async def find_by_head(self, repository_id: uuid.UUID, head_sha: str) -> PullRequest | None:
        statement = self.select().where(
            PullRequest.repository_id == repository_id, PullRequest.head_sha == head_sha
        )
        return (await self.session.execute(statement.limit(1))).scalar_one_or_none()
