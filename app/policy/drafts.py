"""Whether draft pull requests are reviewed: repository settings first, then the workspace's
`default` policy (newest version); off unless one of them turns it on."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Policy, RepositorySettings
from app.repository import WorkspaceRepository

DEFAULT_POLICY_NAME = "default"


class _Settings(WorkspaceRepository[RepositorySettings]):
    model = RepositorySettings


class _Policies(WorkspaceRepository[Policy]):
    model = Policy


async def drafts_enabled(
    session: AsyncSession, workspace_id: uuid.UUID, repository_id: uuid.UUID
) -> bool:
    settings_repo = _Settings(session, workspace_id)
    document = (
        await session.execute(
            settings_repo.select(RepositorySettings.settings).where(
                RepositorySettings.repository_id == repository_id
            )
        )
    ).scalar_one_or_none()
    if document is not None and isinstance(document.get("drafts"), bool):
        return bool(document["drafts"])
    policies = _Policies(session, workspace_id)
    config = (
        await session.execute(
            policies.select(Policy.config)
            .where(Policy.name == DEFAULT_POLICY_NAME)
            .order_by(Policy.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return bool(config.get("drafts", False)) if config else False
