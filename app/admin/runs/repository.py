"""Queries on runs, findings and annotations, scoped to one workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import tuple_

from app.models import Annotation, Finding, Repository, Run
from app.repository import WorkspaceRepository


@dataclass(frozen=True)
class RunFilters:
    repository_id: uuid.UUID | None = None
    status: str | None = None
    pull_request_number: int | None = None
    start: datetime | None = None
    end: datetime | None = None


class RunRepository(WorkspaceRepository[Run]):
    model = Run

    async def page(
        self, filters: RunFilters, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[tuple[Run, str | None]]:
        """Newest first by (created_at, id): a keyset, so pages neither skip nor repeat runs
        when new ones arrive between requests."""
        statement = self.select(Run, Repository.name).outerjoin(
            Repository,
            (Repository.id == Run.repository_id) & (Repository.workspace_id == Run.workspace_id),
        )
        if filters.repository_id is not None:
            statement = statement.where(Run.repository_id == filters.repository_id)
        if filters.status is not None:
            statement = statement.where(Run.status == filters.status)
        if filters.pull_request_number is not None:
            statement = statement.where(Run.pull_request_number == filters.pull_request_number)
        if filters.start is not None:
            statement = statement.where(Run.created_at >= filters.start)
        if filters.end is not None:
            statement = statement.where(Run.created_at < filters.end)
        if after is not None:
            statement = statement.where(tuple_(Run.created_at, Run.id) < tuple_(*after))
        statement = statement.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit)
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def one(self, run_id: uuid.UUID) -> tuple[Run, str | None] | None:
        statement = (
            self.select(Run, Repository.name)
            .outerjoin(
                Repository,
                (Repository.id == Run.repository_id)
                & (Repository.workspace_id == Run.workspace_id),
            )
            .where(Run.id == run_id)
        )
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row is not None else None


class FindingRepository(WorkspaceRepository[Finding]):
    model = Finding

    async def of_run(self, run_id: uuid.UUID) -> list[Finding]:
        statement = (
            self.select()
            .where(Finding.run_id == run_id)
            .order_by(Finding.file_path, Finding.line_start, Finding.id)
        )
        return list((await self.session.execute(statement)).scalars())


class AnnotationRepository(WorkspaceRepository[Annotation]):
    model = Annotation

    async def of_findings(self, finding_ids: list[uuid.UUID]) -> list[Annotation]:
        if not finding_ids:
            return []
        statement = (
            self.select()
            .where(Annotation.finding_id.in_(finding_ids))
            .order_by(Annotation.created_at, Annotation.id)
        )
        return list((await self.session.execute(statement)).scalars())
