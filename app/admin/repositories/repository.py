"""Queries on repositories and repository_settings, scoped to one workspace."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from app.models import Repository, RepositorySettings
from app.repository import WorkspaceRepository


class RepositoryRepository(WorkspaceRepository[Repository]):
    model = Repository

    async def list_live(self) -> list[Repository]:
        statement = self.select().where(Repository.deleted_at.is_(None)).order_by(Repository.name)
        return list((await self.session.execute(statement)).scalars())

    async def get_live(
        self, repository_id: uuid.UUID, *, for_update: bool = False
    ) -> Repository | None:
        statement = self.select().where(
            Repository.id == repository_id, Repository.deleted_at.is_(None)
        )
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()


class RepositorySettingsRepository(WorkspaceRepository[RepositorySettings]):
    model = RepositorySettings

    async def document(self, repository_id: uuid.UUID) -> dict[str, Any] | None:
        statement = self.select(RepositorySettings.settings).where(
            RepositorySettings.repository_id == repository_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def replace(self, repository_id: uuid.UUID, document: dict[str, Any]) -> None:
        """Insert or overwrite: one statement, so two PUTs at once cannot both insert."""
        statement = (
            insert(RepositorySettings)
            .values(workspace_id=self.workspace_id, repository_id=repository_id, settings=document)
            .on_conflict_do_update(
                index_elements=["repository_id"],
                set_={"settings": document, "updated_at": datetime.now(UTC)},
                # The conflicting row must be this workspace's (it is: the repository is).
                where=RepositorySettings.workspace_id == self.workspace_id,
            )
        )
        await self.session.execute(statement)
