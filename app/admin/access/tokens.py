"""API tokens from the API: minted (shown once), listed masked, revoked. All audited by
app/tokens/service.py, with the acting token as the actor."""

from __future__ import annotations

import uuid

from app.admin.access.repository import TokenRepository
from app.admin.access.schemas import TokenCreated, TokenOut
from app.admin.deps import WorkspaceContext, require_may_grant
from app.errors import ApiError
from app.models import ApiToken
from app.models.identity import Role
from app.tokens.service import create_api_token, revoke_api_token


def token_out(row: ApiToken) -> TokenOut:
    return TokenOut(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        prefix=row.token_prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked_at is not None,
        revoked_at=row.revoked_at,
    )


async def list_tokens(context: WorkspaceContext) -> list[TokenOut]:
    rows = await TokenRepository(context.session, context.workspace_id).newest_first()
    return [token_out(row) for row in rows]


async def create_token(context: WorkspaceContext, name: str, role: Role) -> TokenCreated:
    require_may_grant(context, role)
    # A member's token mints tokens that are theirs too: removing or demoting them reaches
    # every token they hold, not only the first.
    minted = await create_api_token(
        context.session, context.workspace_id, role=role, name=name, actor=context.actor,
        created_by_user_id=context.principal.user_id,
    )  # fmt: skip
    await context.session.refresh(minted.row, ["created_at"])
    return TokenCreated(**token_out(minted.row).model_dump(), token=minted.token)


async def revoke_token(context: WorkspaceContext, token_id: uuid.UUID) -> None:
    row = await TokenRepository(context.session, context.workspace_id).get(token_id)
    if row is None:
        raise ApiError(404, "not_found", f"no API token {token_id} in this workspace")
    require_may_grant(context, row.role)
    # Revoking a revoked token changes nothing and records nothing.
    await revoke_api_token(context.session, context.workspace_id, token_id, actor=context.actor)
