"""`/console`: the page, its assets, the session endpoints and the JSON Schemas it validates
with. Everything the console shows or changes goes through `/v1`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.admin.policies.schemas import PolicyConfig
from app.admin.repositories.schemas import RepositorySettingsBody
from app.audit import Actor, record_audit_event
from app.console import github_sign_in, sessions
from app.db import tenant_session
from app.errors import ApiError
from app.models import Workspace
from app.resources import resources
from app.setup.manifest import github_web_url
from app.tokens.service import Principal, authenticate_api_token

STATIC = Path(__file__).resolve().parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[2] / "console" / "node_modules"
# The front-end packages the page loads (npm, pinned by console/package-lock.json): only
# their distributed files are served.
VENDOR = {
    "chart.js": "chart.js/dist",
    "json-schema": "@cfworker/json-schema/dist/esm",
    "js-yaml": "js-yaml/dist",
    "diff": "diff/libesm",
}

# No inline script or style, nothing from elsewhere, never framed: markup injected into a
# page (from a PR title, a finding) could not run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

router = APIRouter(prefix="/console", include_in_schema=False)


class ConsoleHeaders:
    """`SECURITY_HEADERS` on every `/console` answer. Plain ASGI: other paths pay nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != "/console" and not path.startswith("/console/"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


class SignIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)


def _same_origin(request: Request) -> None:
    """Signing in only from the console's own page: a form on another site posting its own
    token would otherwise sign the browser in to the attacker's workspace (login CSRF)."""
    origin = request.headers.get("origin")
    public = str(resources(request).settings.public_url or "").rstrip("/")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin not in {own, public}:
        raise ApiError(403, "csrf", "sign in from the console's own page")
    if "application/json" not in request.headers.get("content-type", ""):
        raise ApiError(415, "unsupported_media_type", "send the token as JSON")


def _described(
    principal: Principal, workspace: Workspace, secret: str, request: Request
) -> dict[str, Any]:
    return {
        "workspace": {"id": str(workspace.id), "slug": workspace.slug, "name": workspace.name},
        "role": principal.role.value,
        "csrf_token": sessions.csrf_token(secret),
        # Where pull requests live, for links (github.com, or a GitHub Enterprise Server).
        "github_web_url": github_web_url(resources(request).settings.github_api_url),
    }


@router.post("/session")
async def sign_in(request: Request, body: Annotated[SignIn, Body()]) -> JSONResponse:
    """Open a session with an API token; the token itself never reaches the page again."""
    _same_origin(request)
    state = resources(request)
    principal = await authenticate_api_token(state.sessionmaker, body.token.strip())
    if principal is None:
        raise ApiError(401, "unauthorized", "that API token is unknown or revoked")
    async with tenant_session(state.sessionmaker, principal.workspace_id) as db:
        workspace = await db.get(Workspace, principal.workspace_id)
        if workspace is None:
            raise ApiError(401, "unauthorized", "that API token is unknown or revoked")
        opened = await sessions.open_session(db, principal)
        await record_audit_event(
            db,
            principal.workspace_id,
            actor=Actor(type="token", id=str(principal.token_id)),
            action="console.signed_in",
            resource_type="api_token",
            resource_id=str(principal.token_id),
            metadata={},
        )
    response = JSONResponse(_described(principal, workspace, opened.secret, request))
    sessions.set_session_cookie(request, response, opened)
    return response


@router.get("/session")
async def current_session(request: Request) -> JSONResponse:
    secret = request.cookies.get(sessions.COOKIE) or ""
    found = await sessions.live_session(resources(request).sessionmaker, secret)
    if found is None:
        raise ApiError(401, "unauthorized", "not signed in")
    response = JSONResponse(_described(*found, secret, request))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.delete("/session", status_code=204)
async def sign_out(request: Request) -> Response:
    secret = request.cookies.get(sessions.COOKIE) or ""
    if secret and not sessions.csrf_matches(secret, request.headers.get(sessions.CSRF_HEADER)):
        raise ApiError(403, "csrf", f"signing out needs the session's {sessions.CSRF_HEADER}")
    await sessions.close_session(resources(request).sessionmaker, secret)
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/sign-in-options")
async def sign_in_options(request: Request) -> dict[str, bool]:
    """What the sign-in page offers besides an API token."""
    return {"github": github_sign_in.configured(resources(request).settings)}


@router.get("/schemas/policy.json")
async def policy_schema() -> dict[str, Any]:
    return PolicyConfig.model_json_schema()


@router.get("/schemas/repository-settings.json")
async def repository_settings_schema() -> dict[str, Any]:
    return RepositorySettingsBody.model_json_schema()


def install_console(app: Any) -> None:
    """The page's own files, the npm packages' distributed files (absent until `npm ci` in
    console/), then the page and session routes; security headers on all of it."""

    app.add_middleware(ConsoleHeaders)
    app.mount("/console/assets", StaticFiles(directory=STATIC), name="console-assets")
    for name, folder in VENDOR.items():
        app.mount(
            f"/console/vendor/{name}",
            StaticFiles(directory=NODE_MODULES / folder, check_dir=False),
            name=f"console-vendor-{name}",
        )
    app.include_router(github_sign_in.router)
    app.include_router(router)


@router.get("")
@router.get("/{page:path}")
async def page(page: str = "") -> FileResponse:
    """Every console address is the one page; its script shows what the address names."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
