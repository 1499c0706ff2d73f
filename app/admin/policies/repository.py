"""Queries on policies, scoped to one workspace."""

from __future__ import annotations

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import distinct_on

from app.models import Policy
from app.repository import WorkspaceRepository


class PolicyRepository(WorkspaceRepository[Policy]):
    model = Policy

    async def newest_of_each_name(self) -> list[Policy]:
        statement = (
            self.select().ext(distinct_on(Policy.name)).order_by(Policy.name, Policy.version.desc())
        )
        return list((await self.session.execute(statement)).scalars())

    async def versions(self, name: str) -> list[Policy]:
        statement = self.select().where(Policy.name == name).order_by(Policy.version.desc())
        return list((await self.session.execute(statement)).scalars())

    async def version(self, name: str, version: int | None) -> Policy | None:
        statement = self.select().where(Policy.name == name)
        if version is None:
            statement = statement.order_by(Policy.version.desc()).limit(1)
        else:
            statement = statement.where(Policy.version == version)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def lock_name(self, name: str) -> None:
        """Serialise new versions of one name until the transaction ends: two POSTs at once
        then number their versions n+1 and n+2 instead of both trying n+1."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"policy:{self.workspace_id}:{name}"},
        )

    async def newest_version_number(self, name: str) -> int:
        statement = self.select(func.coalesce(func.max(Policy.version), 0)).where(
            Policy.name == name
        )
        return int((await self.session.execute(statement)).scalar_one())
