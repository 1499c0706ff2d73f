"""Keeping our copy of an installation's repositories true to GitHub."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ScalarSelect, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Installation, Repository
from app.repository import WorkspaceRepository


class RepositoryRepository(WorkspaceRepository[Repository]):
    model = Repository

    async def upsert(self, installation: Installation, repo: dict[str, Any]) -> Repository:
        """Record a repository from a payload; a repository that comes back is live again."""
        values: dict[str, Any] = {
            "name": repo["full_name"],
            "deleted_at": None,
            "updated_at": datetime.now(UTC),
        }
        if "private" in repo:
            values["is_private"] = bool(repo["private"])
        if repo.get("default_branch"):
            values["default_branch"] = repo["default_branch"]
        if "archived" in repo:
            values["archived_at"] = datetime.now(UTC) if repo["archived"] else None
        statement = (
            insert(Repository)
            .values(
                workspace_id=self.workspace_id,
                installation_id=installation.id,
                external_id=int(repo["id"]),
                **values,
            )
            .on_conflict_do_update(index_elements=["installation_id", "external_id"], set_=values)
            .returning(Repository)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one()

    async def find(self, installation: Installation, external_id: int) -> Repository | None:
        statement = self.select().where(
            Repository.installation_id == installation.id,
            Repository.external_id == external_id,
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def ids_of_installation(self, installation: Installation) -> list[uuid.UUID]:
        statement = self.select(Repository.id).where(Repository.installation_id == installation.id)
        return list((await self.session.execute(statement)).scalars())

    async def soft_delete(
        self, installation: Installation, external_ids: Iterable[int] | None = None
    ) -> list[uuid.UUID]:
        """Soft-delete some (or all) of an installation's live repositories."""
        statement = (
            self.update()
            .where(
                Repository.installation_id == installation.id,
                Repository.deleted_at.is_(None),
            )
            .values(deleted_at=datetime.now(UTC))
            .returning(Repository.id)
        )
        if external_ids is not None:
            statement = statement.where(Repository.external_id.in_(list(external_ids)))
        return list((await self.session.execute(statement)).scalars())


class InstallationRepository(WorkspaceRepository[Installation]):
    model = Installation


async def find_installation(
    session: AsyncSession, provider_id: uuid.UUID | ScalarSelect[uuid.UUID], external_id: int
) -> Installation | None:
    """Cross-workspace by nature: the session must be in a system context."""
    statement = select(Installation).where(
        Installation.provider_id == provider_id, Installation.external_id == external_id
    )
    return (await session.execute(statement)).scalar_one_or_none()
