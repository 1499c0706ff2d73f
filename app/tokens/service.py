"""API tokens: minted once, stored as a hash, resolved to a workspace and role, revocable."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import Actor, record_audit_event
from app.db import SystemContext, system_session
from app.models import ApiToken, Workspace
from app.models.identity import Role
from app.repository import WorkspaceRepository
from app.security.tokens import (
    display_prefix,
    generate_token,
    hash_token,
    looks_like_api_token,
    token_matches,
)

# Writing last_used_at on every request would turn reads into writes; a minute is precise
# enough for "when was this token last used".
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenRepository(WorkspaceRepository[ApiToken]):
    model = ApiToken


@dataclass(frozen=True)
class MintedToken:
    token: str  # shown once, never stored
    row: ApiToken


@dataclass(frozen=True)
class Principal:
    workspace_id: uuid.UUID
    role: Role
    token_id: uuid.UUID
    # The member the token belongs to (tokens minted by a member's token belong to them too);
    # None for operator-minted tokens, which no membership change affects.
    user_id: uuid.UUID | None = None


async def create_api_token(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    role: Role,
    name: str,
    actor: Actor,
    created_by_user_id: uuid.UUID | None = None,
) -> MintedToken:
    token = generate_token()
    row = ApiTokenRepository(session, workspace_id).add(
        ApiToken(
            workspace_id=workspace_id,
            name=name,
            role=role.value,
            token_hash=hash_token(token),
            token_prefix=display_prefix(token),
            created_by_user_id=created_by_user_id,
        )
    )
    await session.flush()
    await record_audit_event(
        session,
        workspace_id,
        actor=actor,
        action="api_token.created",
        resource_type="api_token",
        resource_id=str(row.id),
        metadata={"name": name, "role": role.value, "prefix": row.token_prefix},
    )
    return MintedToken(token=token, row=row)


async def revoke_api_token(
    session: AsyncSession, workspace_id: uuid.UUID, token_id: uuid.UUID, *, actor: Actor
) -> bool:
    repository = ApiTokenRepository(session, workspace_id)
    result = await session.execute(
        repository.update()
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(ApiToken.id)
    )
    if result.scalar_one_or_none() is None:
        return False
    await record_audit_event(
        session,
        workspace_id,
        actor=actor,
        action="api_token.revoked",
        resource_type="api_token",
        resource_id=str(token_id),
    )
    return True


async def authenticate_api_token(
    sessionmaker: async_sessionmaker[AsyncSession], token: str
) -> Principal | None:
    """The workspace and role a bearer token grants, or None (unknown, revoked, deleted)."""
    if not looks_like_api_token(token):
        return None
    async with system_session(sessionmaker, SystemContext.TOKEN_AUTH) as session:
        row = (
            await session.execute(
                select(ApiToken)
                .join(Workspace, Workspace.id == ApiToken.workspace_id)
                .where(
                    ApiToken.token_hash == hash_token(token),
                    ApiToken.revoked_at.is_(None),
                    Workspace.deleted_at.is_(None),
                )
            )
        ).scalar_one_or_none()
        # The index lookup finds the row; the constant-time comparison decides.
        if row is None or not token_matches(token, row.token_hash):
            return None
        now = datetime.now(UTC)
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            repository = ApiTokenRepository(session, row.workspace_id)
            await session.execute(
                repository.update().where(ApiToken.id == row.id).values(last_used_at=now)
            )
        return Principal(
            workspace_id=row.workspace_id,
            role=Role(row.role),
            token_id=row.id,
            user_id=row.created_by_user_id,
        )


# Which token roles a holder of each role may keep: their own, and what they could mint.
_WITHIN = {
    Role.OWNER: frozenset(Role),
    Role.ADMIN: frozenset({Role.ADMIN, Role.MEMBER, Role.BILLING}),
    Role.MEMBER: frozenset({Role.MEMBER}),
    Role.BILLING: frozenset({Role.BILLING}),
}


async def align_member_tokens(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    role: Role | None,
    *,
    actor: Actor,
) -> None:
    """After a member's role changed (`role`) or they left (`role` None): no token of theirs
    carries more than they now hold. A token above the new role is re-scoped down to it when
    its role contains the new one (admin -> member), else revoked (billing for a member);
    every token of a removed member is revoked. Each change is audited."""
    repository = ApiTokenRepository(session, workspace_id)
    held = (
        await session.execute(
            repository.select().where(
                ApiToken.created_by_user_id == user_id, ApiToken.revoked_at.is_(None)
            )
        )
    ).scalars()
    for token in list(held):
        current = Role(token.role)
        if role is not None and current in _WITHIN[role]:
            continue
        if role is not None and role in _WITHIN[current]:
            token.role = role.value
            action, metadata = "api_token.rescoped", {"before": current.value, "after": role}
        else:
            token.revoked_at = datetime.now(UTC)
            action, metadata = "api_token.revoked", {"reason": "membership changed"}
        await record_audit_event(
            session, workspace_id, actor=actor, action=action, resource_type="api_token",
            resource_id=str(token.id), metadata=metadata,
        )  # fmt: skip
    await session.flush()
