"""Queries on api_tokens, teams, team_members, users and invitations, scoped to a workspace."""

from __future__ import annotations

import uuid

from sqlalchemy import func

from app.models import ApiToken, Invitation, Team, TeamMember, User
from app.models.identity import Role
from app.repository import WorkspaceRepository


class TokenRepository(WorkspaceRepository[ApiToken]):
    model = ApiToken

    async def newest_first(self) -> list[ApiToken]:
        statement = self.select().order_by(ApiToken.created_at.desc(), ApiToken.id)
        return list((await self.session.execute(statement)).scalars())


class TeamRepository(WorkspaceRepository[Team]):
    model = Team

    async def lock(self) -> Team | None:
        """The workspace's one team, locked: membership changes of a workspace take turns,
        so two demotions at once cannot leave it without an owner."""
        statement = self.select().with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()


class MemberRepository(WorkspaceRepository[TeamMember]):
    model = TeamMember

    async def with_users(self, member_id: uuid.UUID | None = None) -> list[tuple[TeamMember, User]]:
        # Users are global; their RLS policy shows only members of this workspace's team.
        statement = (
            self.select(TeamMember, User)
            .join(User, User.id == TeamMember.user_id)
            .order_by(TeamMember.created_at, TeamMember.id)
        )
        if member_id is not None:
            statement = statement.where(TeamMember.id == member_id)
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def owners(self) -> int:
        statement = self.select(func.count()).where(TeamMember.role == Role.OWNER.value)
        return int((await self.session.execute(statement)).scalar_one())

    async def has_email(self, email: str) -> bool:
        statement = (
            self.select(TeamMember.id)
            .join(User, User.id == TeamMember.user_id)
            .where(func.lower(User.email) == email.lower(), User.deleted_at.is_(None))
            .limit(1)
        )
        return (await self.session.execute(statement)).first() is not None


class InvitationRepository(WorkspaceRepository[Invitation]):
    model = Invitation

    async def newest_first(self) -> list[Invitation]:
        statement = self.select().order_by(Invitation.created_at.desc(), Invitation.id)
        return list((await self.session.execute(statement)).scalars())

    async def pending_for(self, email: str) -> Invitation | None:
        statement = self.select().where(
            func.lower(Invitation.email) == email.lower(),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > func.now(),
        )
        return (await self.session.execute(statement)).scalars().first()

    async def by_token_hash(self, token_hash: bytes, *, for_update: bool) -> Invitation | None:
        statement = self.select().where(Invitation.token == token_hash)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()
