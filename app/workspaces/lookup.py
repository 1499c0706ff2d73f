"""Finding a workspace from what an operator or GitHub gives us (slug, id, installation).

These lookups cross workspaces by nature, so they take a session opened in a system context.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Workspace


async def find_workspace(session: AsyncSession, reference: str) -> Workspace | None:
    """A live workspace by slug or by id."""
    statement = select(Workspace).where(Workspace.deleted_at.is_(None))
    try:
        workspace_id = uuid.UUID(reference)
    except ValueError:
        statement = statement.where(Workspace.slug == reference.lower())
    else:
        statement = statement.where(Workspace.id == workspace_id)
    return (await session.execute(statement)).scalar_one_or_none()
