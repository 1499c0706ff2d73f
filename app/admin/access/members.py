"""The team's members: list, change a role, remove. The last owner stays an owner."""

from __future__ import annotations

import uuid

from app.admin.access.repository import MemberRepository, TeamRepository
from app.admin.access.schemas import MemberOut
from app.admin.deps import WorkspaceContext, require_may_grant
from app.audit import record_audit_event
from app.errors import ApiError
from app.models import TeamMember, User
from app.models.identity import Role
from app.tokens.service import align_member_tokens


def member_out(member: TeamMember, user: User) -> MemberOut:
    return MemberOut(
        id=member.id,
        user_id=user.id,
        name=user.name,
        github_login=user.github_login,
        email=user.email,
        role=Role(member.role),
        created_at=member.created_at,
    )


async def list_members(context: WorkspaceContext) -> list[MemberOut]:
    rows = await MemberRepository(context.session, context.workspace_id).with_users()
    return [member_out(member, user) for member, user in rows]


async def _locked_member(
    context: WorkspaceContext, member_id: uuid.UUID
) -> tuple[MemberRepository, TeamMember, User]:
    await TeamRepository(context.session, context.workspace_id).lock()
    members = MemberRepository(context.session, context.workspace_id)
    rows = await members.with_users(member_id)
    if not rows:
        raise ApiError(404, "not_found", f"no member {member_id} in this workspace")
    member, user = rows[0]
    # An admin may not act on an owner: only owners manage owners.
    require_may_grant(context, member.role)
    return members, member, user


async def _refuse_losing_last_owner(members: MemberRepository, member: TeamMember) -> None:
    if member.role == Role.OWNER.value and await members.owners() <= 1:
        raise ApiError(
            409,
            "last_owner",
            "this is the workspace's last owner; make another member an owner first",
        )


async def change_role(context: WorkspaceContext, member_id: uuid.UUID, role: Role) -> MemberOut:
    members, member, user = await _locked_member(context, member_id)
    require_may_grant(context, role)
    if member.role == role.value:
        return member_out(member, user)
    if role is not Role.OWNER:
        await _refuse_losing_last_owner(members, member)
    before = member.role
    member.role = role.value
    await context.session.flush()
    await align_member_tokens(
        context.session, context.workspace_id, user.id, role, actor=context.actor
    )
    await context.session.refresh(member, ["updated_at"])
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="member.role_changed",
        resource_type="team_member",
        resource_id=str(member.id),
        metadata={"user_id": str(user.id), "before": {"role": before}, "after": {"role": role}},
    )
    return member_out(member, user)


async def remove_member(context: WorkspaceContext, member_id: uuid.UUID) -> None:
    members, member, user = await _locked_member(context, member_id)
    await _refuse_losing_last_owner(members, member)
    await context.session.delete(member)
    await context.session.flush()
    await align_member_tokens(
        context.session, context.workspace_id, user.id, None, actor=context.actor
    )
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="member.removed",
        resource_type="team_member",
        resource_id=str(member.id),
        metadata={"user_id": str(user.id), "before": {"role": member.role}, "after": None},
    )
