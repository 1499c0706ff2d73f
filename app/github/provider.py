"""The `github` row of the providers reference table."""

from __future__ import annotations

import uuid

from sqlalchemy import ScalarSelect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Provider

GITHUB = "github"


async def github_provider_id(session: AsyncSession) -> uuid.UUID:
    statement = select(Provider.id).where(Provider.slug == GITHUB)
    return (await session.execute(statement)).scalar_one()


def github_provider_id_subquery() -> ScalarSelect[uuid.UUID]:
    """The same id inside another statement (one round trip fewer)."""
    return select(Provider.id).where(Provider.slug == GITHUB).scalar_subquery()
