"""Who is asking and in which workspace: the bearer token, the `{workspace}` in the path, the
role, and the one tenant transaction every /v1 workspace request runs in.

The transaction is opened here and committed here when the endpoint succeeds (rolled back when
it raises): the only place API code commits. Services and repositories only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Actor
from app.config import Settings
from app.console import sessions as console
from app.db import tenant_session
from app.errors import ApiError
from app.models import Workspace
from app.models.identity import Role
from app.repository import WorkspaceRepository
from app.resources import resources
from app.tokens.service import Principal, authenticate_api_token

# Postgres SQLSTATEs for "another transaction got in the way; the same request may succeed".
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `sentinel token create` or `POST .../tokens`",
)


@dataclass(frozen=True)
class WorkspaceContext:
    """What an endpoint gets: the open tenant session, the caller, the workspace."""

    session: AsyncSession
    principal: Principal
    workspace: Workspace
    settings: Settings

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.workspace.id

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def actor(self) -> Actor:
        """Audit events name the token that acted (tokens are not tied to a person)."""
        return Actor(type="token", id=str(self.principal.token_id))


class _Workspaces(WorkspaceRepository[Workspace]):
    model = Workspace


def names_workspace(reference: str, workspace: Workspace) -> bool:
    """`{workspace}` is the slug (any case) or the id."""
    try:
        return uuid.UUID(reference) == workspace.id
    except ValueError:
        return reference.lower() == workspace.slug


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        cookie = request.cookies.get(console.COOKIE)
        if cookie is not None:
            return await _console_principal(request, cookie)
        raise ApiError(401, "unauthorized", "send an API token as `Authorization: Bearer <token>`")
    principal = await authenticate_api_token(
        resources(request).sessionmaker, credentials.credentials
    )
    if principal is None:
        raise ApiError(401, "unauthorized", "the API token is unknown or revoked")
    return principal


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _console_principal(request: Request, secret: str) -> Principal:
    """The web console's session cookie stands for its API token; a write must also carry
    the session's CSRF token in a header (a cross-site form or script cannot)."""
    principal = await console.session_principal(resources(request).sessionmaker, secret)
    if principal is None:
        raise ApiError(401, "unauthorized", "the console session has ended; sign in again")
    if request.method not in _SAFE_METHODS and not console.csrf_matches(
        secret, request.headers.get(console.CSRF_HEADER)
    ):
        raise ApiError(403, "csrf", f"a console write needs the session's {console.CSRF_HEADER}")
    return principal


def database_error(error: DBAPIError) -> ApiError | None:
    """The 4xx a database error means for the client, or None for a server-side fault."""
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    if sqlstate.startswith("22"):
        # Data exceptions: a value Postgres cannot take (a NUL byte, an out-of-range date).
        # Validation should have caught it; this net keeps it a 4xx if it did not.
        return ApiError(
            422, "invalid_request", "a value in the request cannot be stored or compared"
        )
    if isinstance(error, IntegrityError):
        return ApiError(
            409, "conflict", "the change conflicts with another one made at the same time; retry"
        )
    if sqlstate in _RETRYABLE_SQLSTATES:
        return ApiError(409, "conflict", "the resource is busy with another change; retry")
    return None


async def workspace_context(
    request: Request,
    workspace: Annotated[str, Path(description="The workspace's slug or id", max_length=200)],
    principal: Annotated[Principal, Depends(authenticate)],
) -> AsyncIterator[WorkspaceContext]:
    """Open the request's tenant transaction for the token's workspace.

    A `{workspace}` that is not the token's own answers 404 whether or not it exists: a token
    learns nothing about other workspaces, not even their names.
    """
    state = resources(request)
    try:
        async with tenant_session(state.sessionmaker, principal.workspace_id) as session:
            repository = _Workspaces(session, principal.workspace_id)
            row = (
                await session.execute(repository.select().where(Workspace.deleted_at.is_(None)))
            ).scalar_one_or_none()
            if row is None or not names_workspace(workspace, row):
                raise ApiError(404, "not_found", f"no workspace {workspace!r}")
            yield WorkspaceContext(session, principal, row, state.settings)
    except DBAPIError as error:
        client_error = database_error(error)
        if client_error is None:
            raise
        raise client_error from None


def allow(*roles: Role) -> Callable[[WorkspaceContext], Awaitable[WorkspaceContext]]:
    """A dependency admitting only `roles` (403 for the others, after the workspace check)."""
    allowed = frozenset(roles)

    async def dependency(
        # scope="function": commit before the response is sent, so a client that saw 2xx
        # reads its own write, and a failed commit is never reported as a success.
        context: Annotated[WorkspaceContext, Depends(workspace_context, scope="function")],
    ) -> WorkspaceContext:
        if context.role not in allowed:
            needed = " or ".join(sorted(role.value for role in allowed))
            raise ApiError(
                403,
                "forbidden",
                f"this needs the {needed} role; the token's role is {context.role.value}",
            )
        return context

    return dependency


# The roles of the CONTRACT table. Billing reads usage (and what "any role" may read).
AnyRole = Annotated[WorkspaceContext, Depends(allow(*Role))]
Readers = Annotated[WorkspaceContext, Depends(allow(Role.OWNER, Role.ADMIN, Role.MEMBER))]
Managers = Annotated[WorkspaceContext, Depends(allow(Role.OWNER, Role.ADMIN))]
Owners = Annotated[WorkspaceContext, Depends(allow(Role.OWNER))]
UsageReaders = Annotated[WorkspaceContext, Depends(allow(Role.OWNER, Role.ADMIN, Role.BILLING))]

# Who may hand out which role: an admin cannot create (or act on) an owner, so no one can
# raise a token's or a person's privileges above their own.
_GRANTABLE = {
    Role.OWNER: frozenset(Role),
    Role.ADMIN: frozenset({Role.ADMIN, Role.MEMBER, Role.BILLING}),
}


def require_may_grant(context: WorkspaceContext, role: Role | str) -> None:
    target = Role(role)
    if target not in _GRANTABLE.get(context.role, frozenset()):
        raise ApiError(
            403,
            "forbidden",
            f"a token with the {context.role.value} role cannot grant or manage the "
            f"{target.value} role",
        )
