"""Queries of the workspace domain: the live subscription and the enabled repositories."""

from __future__ import annotations

from sqlalchemy import func

from app.models import Repository, Subscription, Workspace
from app.repository import WorkspaceRepository

LIVE_STATUSES = ("active", "trialing", "past_due")


class WorkspaceRowRepository(WorkspaceRepository[Workspace]):
    model = Workspace

    async def lock(self) -> None:
        """Serialise plan changes of one workspace (the workspace row is the natural lock)."""
        await self.session.execute(self.select(Workspace.id).with_for_update())


class SubscriptionRepository(WorkspaceRepository[Subscription]):
    model = Subscription

    async def live(self) -> Subscription | None:
        statement = self.select().where(Subscription.status.in_(LIVE_STATUSES))
        return (await self.session.execute(statement)).scalar_one_or_none()


class EnabledRepositories(WorkspaceRepository[Repository]):
    model = Repository

    async def count(self) -> int:
        statement = self.select(func.count()).where(
            Repository.is_enabled.is_(True), Repository.deleted_at.is_(None)
        )
        return int((await self.session.execute(statement)).scalar_one())
