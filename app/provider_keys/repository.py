"""Queries on provider_keys, scoped to one workspace."""

from __future__ import annotations

from app.models import ProviderKey
from app.repository import WorkspaceRepository


class ProviderKeyRepository(WorkspaceRepository[ProviderKey]):
    model = ProviderKey

    async def get_for_provider(self, provider: str) -> ProviderKey | None:
        result = await self.session.execute(self.select().where(ProviderKey.provider == provider))
        return result.scalar_one_or_none()

    async def list(self) -> list[ProviderKey]:
        result = await self.session.execute(self.select().order_by(ProviderKey.provider))
        return list(result.scalars())
