"""`GET /setup` and `GET /setup/github/callback`, the two ends of GitHub's manifest flow.

Both answer HTML for a browser, never JSON, and every failure is a page that says what to do:
4xx for a bad link or a refusal, 500 for a local problem, 502 when GitHub fails, 503 when Redis
does. They stay out of the OpenAPI description: they are pages, not part of the API.

The page is reachable by whoever reaches Sentinel, so it refuses to run while an App is
configured (unless `?force=1`) and never replaces credentials it wrote before.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
from typing import Any
from urllib.parse import urlsplit

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


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(request: Request) -> HTMLResponse:
    shared = resources(request)
    settings = shared.settings
    query = request.query_params
    force = query.get("force", "").lower() in {"1", "true", "yes"}
    values: dict[str, Any] = {
        "title": TITLE,
        "configured_app_id": settings.github_app_id,
        "github_web": github_web_url(settings.github_api_url),
        "output_dir": settings.setup_output_dir,
        "public_url": query.get("public_url") or str(request.base_url).rstrip("/"),
        "organization": query.get("organization", ""),
        "force": force,
        "error": None,
        "action": None,
    }
    try:
        _refuse_if_configured(settings, force=force, again="?force=1")
        credentials.refuse_if_written(settings.setup_output_dir)
    except SetupError as error:
        return error_page(error)
    try:
        public_url = normalise_public_url(values["public_url"])
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
