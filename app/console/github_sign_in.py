"""Signing in to the console with GitHub: the App's user-to-server OAuth flow.

  /console/oauth/github → GitHub's authorize page (a random `state` in a short-lived cookie)
  → /console/oauth/github/callback?code&state → the code exchanged for a user token (with
  the App's client secret, server to server) → `GET /user` → the Sentinel member with that
  GitHub account → a console session, as if they had signed in with an API token of their
  role: the session gets a token of its own (never shown to anyone), revoked at sign-out, so
  the member's role changes and removal reach it as they reach their other tokens.

The GitHub user token is used for that one `GET /user` and then dropped. Where GitHub sends
the browser back is `SENTINEL_PUBLIC_URL`, never the request's Host header.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_, select

from app.audit import Actor, record_audit_event
from app.config import Settings
from app.console import sessions
from app.db import SystemContext, system_session, tenant_session
from app.errors import ApiError
from app.models import TeamMember, User, Workspace
from app.models.identity import Role
from app.resources import resources
from app.setup.manifest import github_web_url
from app.tokens.service import Principal, create_api_token

log = structlog.get_logger(__name__)

STATE_COOKIE = "sentinel_github_sign_in"
STATE_LIFETIME_SECONDS = 600
CALLBACK = "/console/oauth/github/callback"
GITHUB_TIMEOUT = httpx.Timeout(10.0)

router = APIRouter(prefix="/console/oauth/github", include_in_schema=False)


def configured(settings: Settings) -> bool:
    return bool(settings.github_client_id) and settings.github_client_secret is not None


def _callback_url(settings: Settings) -> str | None:
    """The console's callback at SENTINEL_PUBLIC_URL; None lets GitHub use the App's own."""
    return f"{settings.public_url.rstrip('/')}{CALLBACK}" if settings.public_url else None


# What went wrong travels to the sign-in page as one of these codes, never as text (a crafted
# link could otherwise put any words on Sentinel's page); the page words each.
PROBLEMS = frozenset({"expired", "denied", "github_refused", "github_unreachable", "not_member"})


def _back_to_sign_in(problem: str) -> RedirectResponse:
    response = RedirectResponse(f"/console/sign-in?{urlencode({'problem': problem})}", 303)
    response.delete_cookie(STATE_COOKIE, path="/console/oauth")
    return response


@router.get("")
async def start(request: Request, workspace: str | None = None) -> Response:
    settings = resources(request).settings
    if not configured(settings):
        raise ApiError(404, "not_found", "GitHub sign-in is not configured")
    state = secrets.token_urlsafe(32)
    params = {"client_id": settings.github_client_id or "", "state": state, "allow_signup": "false"}
    callback = _callback_url(settings)
    if callback is not None:
        params["redirect_uri"] = callback
    target = f"{github_web_url(settings.github_api_url)}/login/oauth/authorize?{urlencode(params)}"
    response = RedirectResponse(target, 302)
    # Lax, not Strict: the browser comes back from GitHub, another site, by a top-level GET.
    response.set_cookie(
        STATE_COOKIE,
        f"{state}.{workspace or ''}",
        max_age=STATE_LIFETIME_SECONDS,
        path="/console/oauth",
        secure=sessions.behind_https(request),
        httponly=True,
        samesite="lax",
    )
    return response


@dataclass(frozen=True)
class _GitHubUser:
    id: int
    login: str


async def _github_user(settings: Settings, code: str) -> _GitHubUser | str:
    """The GitHub account that authorised the code, or the problem's code (logged)."""
    secret = (
        settings.github_client_secret.get_secret_value() if settings.github_client_secret else ""
    )
    form = {"client_id": settings.github_client_id or "", "client_secret": secret, "code": code}
    callback = _callback_url(settings)
    if callback is not None:
        form["redirect_uri"] = callback
    try:
        async with httpx.AsyncClient(timeout=GITHUB_TIMEOUT) as client:
            exchanged = await client.post(
                f"{github_web_url(settings.github_api_url)}/login/oauth/access_token",
                data=form,
                headers={"Accept": "application/json"},
            )
            answer: dict[str, Any] = exchanged.json() if exchanged.status_code == 200 else {}
            token = answer.get("access_token")
            if not token:
                log.warning(
                    "console.github_sign_in_refused",
                    status=exchanged.status_code,
                    error=str(answer.get("error") or ""),
                )
                return "github_refused"
            user = await client.get(
                f"{settings.github_api_url.rstrip('/')}/user",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/vnd.github+json",
                },
            )
    except (httpx.HTTPError, ValueError) as error:
        log.warning("console.github_sign_in_unreachable", error=type(error).__name__)
        return "github_unreachable"
    if user.status_code != 200:
        log.warning("console.github_user_unread", status=user.status_code)
        return "github_refused"
    body = user.json()
    return _GitHubUser(int(body["id"]), str(body["login"]))


async def _memberships(request: Request, user: _GitHubUser) -> list[tuple[TeamMember, Workspace]]:
    """The Sentinel memberships of that GitHub account (by its id, else its login)."""
    async with system_session(resources(request).sessionmaker, SystemContext.CONSOLE_SESSION) as db:
        rows = await db.execute(
            select(TeamMember, Workspace)
            .join(User, User.id == TeamMember.user_id)
            .join(Workspace, Workspace.id == TeamMember.workspace_id)
            .where(
                User.deleted_at.is_(None),
                Workspace.deleted_at.is_(None),
                or_(
                    User.github_id == user.id,
                    (User.github_id.is_(None))
                    & (func.lower(User.github_login) == user.login.lower()),
                ),
            )
            .order_by(Workspace.slug)
        )
        return [(member, workspace) for member, workspace in rows.all()]


@router.get("/callback")
async def callback(request: Request, code: str = "", state: str = "") -> Response:
    settings = resources(request).settings
    if not configured(settings):
        raise ApiError(404, "not_found", "GitHub sign-in is not configured")
    expected, _, wanted_workspace = (request.cookies.get(STATE_COOKIE) or "").partition(".")
    if not expected or not state or not hmac.compare_digest(expected, state):
        return _back_to_sign_in("expired")
    if not code:
        return _back_to_sign_in("denied")
    user = await _github_user(settings, code)
    if isinstance(user, str):
        return _back_to_sign_in(user)
    memberships = await _memberships(request, user)
    if wanted_workspace:
        memberships = [(m, w) for m, w in memberships if w.slug == wanted_workspace]
    if not memberships:
        log.info("console.github_sign_in_not_member", login=user.login)
        return _back_to_sign_in("not_member")
    if len(memberships) > 1:
        choices = ",".join(w.slug for _, w in memberships)
        return RedirectResponse(f"/console/sign-in?{urlencode({'workspaces': choices})}", 303)
    member, workspace = memberships[0]
    opened = await _open_member_session(request, member, workspace, user)
    response = RedirectResponse("/console", 303)
    response.delete_cookie(STATE_COOKIE, path="/console/oauth")
    sessions.set_session_cookie(request, response, opened)
    return response


async def _open_member_session(
    request: Request, member: TeamMember, workspace: Workspace, user: _GitHubUser
) -> sessions.OpenedSession:
    actor = Actor(type="user", id=str(member.user_id))
    async with tenant_session(resources(request).sessionmaker, workspace.id) as db:
        minted = await create_api_token(
            db,
            workspace.id,
            role=Role(member.role),
            name=f"console session (GitHub @{user.login})",
            actor=actor,
            created_by_user_id=member.user_id,
        )
        principal = Principal(workspace.id, Role(member.role), minted.row.id, member.user_id)
        opened = await sessions.open_session(db, principal, owns_token=True)
        await record_audit_event(
            db,
            workspace.id,
            actor=actor,
            action="console.signed_in",
            resource_type="api_token",
            resource_id=str(minted.row.id),
            metadata={"via": "github", "login": user.login},
        )
    return opened
