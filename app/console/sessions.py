"""Console sessions: opened with an API token, carried by an HttpOnly cookie.

The cookie holds a random secret (only its SHA-256 is stored); the session acts as the API
token it was opened with, so roles, tenancy and revocation are the REST API's own. Writes
also need `X-CSRF-Token`: a value derived from the secret that the page reads from
`GET /console/session` (a cross-site page can neither read it nor set the header, and the
cookie is SameSite=Strict besides).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import SystemContext, system_session
from app.models import ApiToken, ConsoleSession, Workspace
from app.models.identity import Role
from app.resources import resources
from app.tokens.service import Principal

COOKIE = "sentinel_console"
CSRF_HEADER = "X-CSRF-Token"
LIFETIME = timedelta(hours=12)
SECRET_PREFIX = "scs_"  # noqa: S105 - a public prefix, not a secret


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def csrf_token(secret: str) -> str:
    """Derived from the session's secret, one way: knowing it reveals nothing of the cookie."""
    return hashlib.sha256(b"sentinel-console-csrf:" + secret.encode()).hexdigest()


def csrf_matches(secret: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token(secret), presented)


def looks_like_secret(value: str) -> bool:
    return value.startswith(SECRET_PREFIX) and 20 <= len(value) <= 200


@dataclass(frozen=True)
class OpenedSession:
    secret: str  # for the cookie only
    expires_at: datetime


async def open_session(
    session: AsyncSession, principal: Principal, *, owns_token: bool = False
) -> OpenedSession:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + LIFETIME
    session.add(
        ConsoleSession(
            workspace_id=principal.workspace_id,
            api_token_id=principal.token_id,
            secret_hash=_hash(secret),
            expires_at=expires_at,
            owns_token=owns_token,
        )
    )
    await session.flush()
    return OpenedSession(secret, expires_at)


def behind_https(request: Request) -> bool:
    """Whether browsers reach the console over https (directly, or per SENTINEL_PUBLIC_URL
    behind a TLS-terminating proxy): then cookies are `Secure`."""
    public_url = str(resources(request).settings.public_url or "")
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_session_cookie(request: Request, response: Response, opened: OpenedSession) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site's request carries it),
    Secure behind https."""
    response.set_cookie(
        COOKIE,
        opened.secret,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        secure=behind_https(request),
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"


async def session_principal(
    sessionmaker: async_sessionmaker[AsyncSession], secret: str
) -> Principal | None:
    """The principal a live session acts as: not expired, not signed out, its token not
    revoked, its workspace not deleted."""
    found = await live_session(sessionmaker, secret)
    return found[0] if found is not None else None


async def live_session(
    sessionmaker: async_sessionmaker[AsyncSession], secret: str
) -> tuple[Principal, Workspace] | None:
    """`session_principal`, with the workspace it acts in (one query)."""
    if not looks_like_secret(secret):
        return None
    async with system_session(sessionmaker, SystemContext.CONSOLE_SESSION) as session:
        row = (
            await session.execute(
                select(ApiToken, Workspace)
                .join(ConsoleSession, ConsoleSession.api_token_id == ApiToken.id)
                .join(Workspace, Workspace.id == ApiToken.workspace_id)
                .where(
                    ConsoleSession.secret_hash == _hash(secret),
                    ConsoleSession.revoked_at.is_(None),
                    ConsoleSession.expires_at > datetime.now(UTC),
                    ApiToken.revoked_at.is_(None),
                    Workspace.deleted_at.is_(None),
                )
            )
        ).first()
    if row is None:
        return None
    token, workspace = row
    principal = Principal(
        workspace_id=token.workspace_id,
        role=Role(token.role),
        token_id=token.id,
        user_id=token.created_by_user_id,
    )
    return principal, workspace


async def close_session(
    sessionmaker: async_sessionmaker[AsyncSession], secret: str
) -> uuid.UUID | None:
    """Sign out: the session ends now. Its workspace, if it was live."""
    if not looks_like_secret(secret):
        return None
    now = datetime.now(UTC)
    async with system_session(sessionmaker, SystemContext.CONSOLE_SESSION) as session:
        ended = (
            await session.execute(
                update(ConsoleSession)
                .where(
                    ConsoleSession.secret_hash == _hash(secret), ConsoleSession.revoked_at.is_(None)
                )
                .values(revoked_at=now)
                .returning(
                    ConsoleSession.workspace_id,
                    ConsoleSession.api_token_id,
                    ConsoleSession.owns_token,
                )
            )
        ).first()
        if ended is None:
            return None
        workspace_id, token_id, owns_token = ended
        if owns_token:  # minted for this session alone (GitHub sign-in): it ends with it
            await session.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return workspace_id
