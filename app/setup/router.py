"""`GET /setup` and `GET /setup/github/callback`, the two ends of GitHub's manifest flow.

Both answer HTML for a browser, never JSON, and every failure is a page that says what to do:
4xx for a bad link or a refusal, 500 for a local problem, 502 when GitHub fails, 503 when Redis
does. They stay out of the OpenAPI description: they are pages, not part of the API.

The page is reachable by whoever reaches Sentinel, so it starts a registration only for the
operator (who posts SENTINEL_SETUP_TOKEN), builds every URL of the manifest from
SENTINEL_PUBLIC_URL (never from the request), refuses to run while an App is configured
(unless `?force=1`) and never replaces credentials it wrote before.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import shlex
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from redis.exceptions import RedisError

from app.config import Settings
from app.resources import resources
from app.setup import credentials, states
from app.setup.conversion import START_AGAIN, exchange_code
from app.setup.errors import SetupError
from app.setup.manifest import (
    build_manifest,
    github_web_url,
    new_app_url,
    normalise_organization,
    normalise_public_url,
)
from app.setup.pages import error_page, linkable, page

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

TITLE = "Register Sentinel on GitHub"


# The sign-in form's body: the token, an organisation name and a flag.
MAX_FORM_BYTES = 4096


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(request: Request) -> HTMLResponse:
    """The sign-in form. Nothing is started until the operator's setup token is posted."""
    settings = resources(request).settings
    query = request.query_params
    force = query.get("force", "").lower() in {"1", "true", "yes"}
    try:
        _refuse_if_configured(settings, force=force, again="?force=1")
        credentials.refuse_if_written(settings.setup_output_dir)
        public_url = _configured_public_url(settings)
        _configured_setup_token(settings)
    except SetupError as error:
        return error_page(error)
    return page(
        "setup.html",
        **_values(settings, public_url, force=force, organization=query.get("organization", "")),
    )


@router.post("/setup", response_class=HTMLResponse)
async def start_registration(request: Request) -> HTMLResponse:
    """The operator signed in: the manifest form, holding a fresh one-time state."""
    shared = resources(request)
    settings = shared.settings
    try:
        form = await _read_form(request)
        force = form.get("force", "") == "1"
        _refuse_if_configured(settings, force=force, again="?force=1")
        credentials.refuse_if_written(settings.setup_output_dir)
        public_url = _configured_public_url(settings)
        _check_setup_token(settings, form.get("setup_token", ""))
    except SetupError as error:
        return error_page(error)
    values = _values(settings, public_url, force=force, organization=form.get("organization", ""))
    try:
        organization = normalise_organization(values["organization"])
    except SetupError as error:
        # The same page, so the operator can correct the field.
        return page("setup.html", 400, **{**values, "error": error.detail})
    try:
        manifest = build_manifest(public_url)
        token = await states.remember(shared.queue, force=force)
    except SetupError as error:
        return error_page(error)
    action = new_app_url(values["github_web"], organization, token)
    values.update(
        action=action,
        action_page=action.partition("?")[0],
        manifest_json=json.dumps(manifest, separators=(",", ":")),
        manifest_pretty=json.dumps(manifest, indent=2),
        webhook_url=manifest["hook_attributes"]["url"],
        redirect_url=manifest["redirect_url"],
        permissions=manifest.get("default_permissions") or {},
        events=manifest.get("default_events") or [],
        warnings=_warnings(public_url),
    )
    return page("setup.html", **values)


def _values(
    settings: Settings, public_url: str, *, force: bool, organization: str
) -> dict[str, Any]:
    return {
        "title": TITLE,
        "configured_app_id": settings.github_app_id,
        "github_web": github_web_url(settings.github_api_url),
        "output_dir": settings.setup_output_dir,
        "public_url": public_url,
        "organization": organization,
        "force": force,
        "error": None,
        "action": None,
    }


def _configured_public_url(settings: Settings) -> str:
    if not settings.public_url:
        raise SetupError(
            503,
            "The public URL is not configured",
            "Set SENTINEL_PUBLIC_URL to the address GitHub and your browser reach this "
            "Sentinel at (for example https://sentinel.example.org) and restart it. The "
            "manifest's webhook and return URLs are built from it, never from the link that "
            "opened this page.",
        )
    try:
        return normalise_public_url(settings.public_url)
    except SetupError as error:
        raise SetupError(503, "SENTINEL_PUBLIC_URL is not valid", error.detail) from None


def _configured_setup_token(settings: Settings) -> bytes:
    if settings.setup_token is None or not settings.setup_token.get_secret_value():
        raise SetupError(
            503,
            "The setup token is not configured",
            "Set SENTINEL_SETUP_TOKEN to a long random value (for example the output of "
            "`openssl rand -hex 32`) and restart Sentinel: this page asks for it, so only its "
            "operator can register an App.",
        )
    return settings.setup_token.get_secret_value().encode()


def _check_setup_token(settings: Settings, presented: str) -> None:
    expected = _configured_setup_token(settings)
    if not presented or not hmac.compare_digest(presented.encode(), expected):
        log.warning("setup.wrong_token")
        raise SetupError(
            403,
            "Wrong setup token",
            "The setup token does not match SENTINEL_SETUP_TOKEN. Nothing was started.",
            ("Try again", "/setup"),
        )


async def _read_form(request: Request) -> dict[str, str]:
    """The sign-in form, read within a small cap (the page has three fields)."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise SetupError(
            415, "Not a form", "Post the setup page's form.", ("Start again", "/setup")
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise SetupError(413, "Form too large", "Post the setup page's form.")
    try:
        fields = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise SetupError(400, "Unreadable form", "Post the setup page's form.") from None
    return {name: values[0] for name, values in fields.items()}


@router.get("/setup/github/callback", response_class=HTMLResponse)
async def setup_callback(request: Request) -> HTMLResponse:
    shared = resources(request)
    settings = shared.settings
    code = request.query_params.get("code", "")
    token = request.query_params.get("state", "")
    try:
        pending = await states.recall(shared.queue, token)
        if pending is None:
            raise SetupError(
                400,
                "Unknown registration",
                "This address does not belong to a registration started from this Sentinel's "
                "setup page in the last hour, or that registration was already completed (its "
                "page cannot be reloaded). Nothing was written this time.",
                ("Start again", START_AGAIN),
            )
        _refuse_if_configured(settings, force=pending.force, again=START_AGAIN + "?force=1")
        credentials.refuse_if_written(settings.setup_output_dir)
        credentials.prepare(settings.setup_output_dir)
        app = await exchange_code(settings.github_api_url, code)
        written = credentials.write(settings.setup_output_dir, app, settings.github_api_url)
    except SetupError as error:
        log.warning("setup.failed", status=error.status, reason=error.title)
        return error_page(error)
    try:
        await states.forget(shared.queue, token)
    except RedisError:
        # Harmless: the files now exist, so this state cannot complete another registration.
        log.warning("setup.state_not_forgotten")
    log.info("setup.registered", app_id=app.id, slug=app.slug, directory=str(written.directory))
    install_url = f"{app.html_url.rstrip('/')}/installations/new"
    return page(
        "done.html",
        title="Sentinel is registered on GitHub",
        app=app,
        written=written,
        install_url=install_url if linkable(app.html_url) else None,
        env_path_for_shell=shlex.quote(str(written.env_path)),
    )


def _refuse_if_configured(settings: Settings, *, force: bool, again: str) -> None:
    if settings.github_app_id is not None and not force:
        raise SetupError(
            409,
            "An App is already configured",
            f"Sentinel is configured for the GitHub App {settings.github_app_id} "
            "(SENTINEL_GITHUB_APP_ID), so this page will not register another one by accident. "
            "To register a new App anyway, follow the link below.",
            ("Register another App anyway", again),
        )


def _warnings(public_url: str) -> list[str]:
    host = urlsplit(public_url).hostname or ""
    warnings = []
    if public_url.startswith("http://"):
        warnings.append(
            "The public URL is plain HTTP: GitHub would send webhooks unencrypted. "
            "Use HTTPS outside a test setup."
        )
    try:
        local = ipaddress.ip_address(host).is_private
    except ValueError:
        local = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    if local:
        warnings.append(
            f"{host} is not reachable from the internet: github.com could not deliver "
            "webhooks to it (a GitHub Enterprise Server on your network may)."
        )
    return warnings
