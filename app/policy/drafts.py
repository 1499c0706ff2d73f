"""Whether draft pull requests are reviewed, decided at intake.

The same resolution as a run's snapshot (app/policy/resolve.py), minus `.sentinel.yml`,
which intake does not fetch: repository settings, then the `default` policy, else off."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.policy.resolve import resolve_snapshot


async def drafts_enabled(
    session: AsyncSession, workspace_id: uuid.UUID, repository_id: uuid.UUID
) -> bool:
    snapshot = await resolve_snapshot(session, workspace_id, repository_id, None)
    return bool(snapshot.review.drafts)
