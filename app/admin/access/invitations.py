"""Invitations: created by owners and admins (the token shown once, its SHA-256 stored),
listed, revoked, and accepted by the invitee with the token alone.

Accepting makes the invitee a member with the invited role and mints them an API token with
that role: tokens are how people use this API, and the invitee has none yet.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.admin.access.members import member_out
from app.admin.access.repository import InvitationRepository, MemberRepository, TeamRepository
from app.admin.access.schemas import (
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    InvitationStatus,
    WorkspaceRef,
)
from app.admin.deps import WorkspaceContext, require_may_grant
from app.audit import Actor, record_audit_event
from app.db import SystemContext, system_session
from app.errors import ApiError
from app.models import Invitation, TeamMember, User, Workspace
from app.models.identity import Role
from app.repository import WorkspaceRepository
from app.security.tokens import generate_token, hash_token
from app.tokens.service import create_api_token

INVITATION_TOKEN_PREFIX = "inv_"  # noqa: S105 - a public prefix, not a secret


def status_of(row: Invitation, now: datetime) -> InvitationStatus:
    if row.accepted_at is not None:
        return "accepted"
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "pending"


def invitation_out(row: Invitation, now: datetime) -> InvitationOut:
    return InvitationOut(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        status=status_of(row, now),
        expires_at=row.expires_at,
        accepted_at=row.accepted_at,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
    )


async def list_invitations(context: WorkspaceContext) -> list[InvitationOut]:
    now = datetime.now(UTC)
    rows = await InvitationRepository(context.session, context.workspace_id).newest_first()
    return [invitation_out(row, now) for row in rows]


async def create_invitation(context: WorkspaceContext, body: InvitationCreate) -> InvitationCreated:
    require_may_grant(context, body.role)
    session, workspace_id = context.session, context.workspace_id
    team = await TeamRepository(session, workspace_id).lock()
    if team is None:
        raise ApiError(409, "conflict", "the workspace has no team to invite people to")
    if await MemberRepository(session, workspace_id).has_email(body.email):
        raise ApiError(409, "conflict", f"{body.email} is already a member")
    invitations = InvitationRepository(session, workspace_id)
    if await invitations.pending_for(body.email) is not None:
        raise ApiError(
            409, "conflict", f"{body.email} has a pending invitation; revoke it to send another"
        )
    token = generate_token(INVITATION_TOKEN_PREFIX)
    now = datetime.now(UTC)
    row = invitations.add(
        Invitation(
            workspace_id=workspace_id,
            team_id=team.id,
            email=body.email,
            role=body.role.value,
            token=hash_token(token),
            expires_at=now + timedelta(days=body.expires_in_days),
        )
    )
    await session.flush()
    await session.refresh(row, ["created_at"])
    await record_audit_event(
        session,
        workspace_id,
        actor=context.actor,
        action="invitation.created",
        resource_type="invitation",
        resource_id=str(row.id),
        metadata={"after": {"email": row.email, "role": row.role,
                            "expires_at": row.expires_at.isoformat()}},
    )  # fmt: skip
    return InvitationCreated(**invitation_out(row, now).model_dump(), token=token)


async def revoke_invitation(context: WorkspaceContext, invitation_id: uuid.UUID) -> None:
    invitations = InvitationRepository(context.session, context.workspace_id)
    row = (
        await context.session.execute(
            invitations.select().where(Invitation.id == invitation_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise ApiError(404, "not_found", f"no invitation {invitation_id} in this workspace")
    require_may_grant(context, row.role)
    if row.accepted_at is not None:
        raise ApiError(409, "conflict", "the invitation was accepted; remove the member instead")
    if row.revoked_at is not None:
        return
    row.revoked_at = datetime.now(UTC)
    await context.session.flush()
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="invitation.revoked",
        resource_type="invitation",
        resource_id=str(row.id),
        metadata={"email": row.email, "role": row.role},
    )


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "no invitation has this token")


async def invitation_workspace(
    sessionmaker: async_sessionmaker[AsyncSession], token: str
) -> uuid.UUID:
    """The workspace an invitation token belongs to. The token arrives before its workspace
    is known, like an API token, so this one lookup runs in the token-auth system context."""
    async with system_session(sessionmaker, SystemContext.TOKEN_AUTH) as session:
        workspace_id = (
            await session.execute(
                select(Invitation.workspace_id)
                .join(Workspace, Workspace.id == Invitation.workspace_id)
                .where(Invitation.token == hash_token(token), Workspace.deleted_at.is_(None))
            )
        ).scalar_one_or_none()
    if workspace_id is None:
        raise _not_found()
    return workspace_id


class _Workspaces(WorkspaceRepository[Workspace]):
    model = Workspace


async def accept_invitation(
    session: AsyncSession, workspace_id: uuid.UUID, body: InvitationAccept
) -> InvitationAccepted:
    """In the invitation's workspace: the invitee becomes a member and gets an API token."""
    invitation = await InvitationRepository(session, workspace_id).by_token_hash(
        hash_token(body.token), for_update=True
    )
    if invitation is None:
        raise _not_found()
    now = datetime.now(UTC)
    state = status_of(invitation, now)
    if state != "pending":
        raise ApiError(410, "gone", f"the invitation is {state}; ask for a new one")
    members = MemberRepository(session, workspace_id)
    if await members.has_email(invitation.email):
        raise ApiError(409, "conflict", f"{invitation.email} is already a member")
    user_id = uuid.uuid4()
    # A plain INSERT without RETURNING: the users policy shows a user only once they are a
    # member, so the ORM's RETURNING of server defaults would be refused at this point.
    await session.execute(
        insert(User).values(
            id=user_id,
            name=body.name or invitation.email,
            email=invitation.email,
            github_login=body.github_login,
        )
    )
    member = members.add(
        TeamMember(
            workspace_id=workspace_id,
            team_id=invitation.team_id,
            user_id=user_id,
            role=invitation.role,
        )
    )
    invitation.accepted_at = now
    await session.flush()
    user = (await session.execute(select(User).where(User.id == user_id))).scalar_one()
    await session.refresh(member, ["created_at"])
    actor = Actor(type="user", id=str(user_id))
    minted = await create_api_token(
        session,
        workspace_id,
        role=Role(invitation.role),
        name=f"{invitation.email} (invitation)",
        actor=actor,
        created_by_user_id=user_id,
    )
    await record_audit_event(
        session,
        workspace_id,
        actor=actor,
        action="invitation.accepted",
        resource_type="invitation",
        resource_id=str(invitation.id),
        metadata={"email": invitation.email, "role": invitation.role,
                  "member_id": str(member.id), "github_login": body.github_login},
    )  # fmt: skip
    workspace = (await session.execute(_Workspaces(session, workspace_id).select())).scalar_one()
    return InvitationAccepted(
        workspace=WorkspaceRef(id=workspace.id, slug=workspace.slug, name=workspace.name),
        member=member_out(member, user),
        token=minted.token,
    )
