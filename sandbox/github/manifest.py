"""GitHub's "register an App from a manifest" flow: the web form that creates the App, and the
API call that hands its credentials over.

`POST /settings/apps/new` (or `/organizations/{org}/settings/apps/new`) takes what a setup page
posts: the manifest as JSON in the form field `manifest`, and `state` in the query string (where
GitHub's documentation puts it). On GitHub a signed-in person then sees a pre-filled
registration page and creates the App by confirming it. Nobody is there to click in a test, so
the fake takes the shortcut of confirming at once: it creates the App and answers as GitHub does
after the confirmation, with a 302 to `redirect_url?code=...&state=...`. Invalid manifests get
an HTML page listing the problems (422) instead of the redirect.

`POST /app-manifests/{code}/conversions` (no authentication) exchanges the code, once and
within an hour by the state's clock, for the App's id, slug, PEM, webhook secret and client
secret (201); a code that is unknown, used or expired is a 404.

A `GitHubState` is one App on one GitHub, so the App created here *becomes* the state's App:
its id, name, slug, owner, key, webhook secret and hook URL replace the previous ones, and from
then on the fake accepts JWTs signed with the PEM the conversion returns (and refuses the old
key's). Installations arranged before stay where they are; arrange them after registering.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from weakref import WeakKeyDictionary

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from sandbox.github import shapes
from sandbox.github.rest import GitHubError, api_of, state_of
from sandbox.github.state import GitHubState

CODE_LIFETIME = timedelta(hours=1)
DOCS_CONVERSION = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"
# GitHub refuses longer App names (a guess at the exact limit, from its settings form).
MAX_NAME_LENGTH = 34
LEVELS = ("read", "write")
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")

# The events an App can subscribe to. `installation` and friends reach every App unasked and
# cannot be listed; `meta`, `security_advisory` and `installation_target` are global.
KNOWN_EVENTS = frozenset(
    {
        "branch_protection_configuration", "branch_protection_rule", "check_run",
        "check_suite", "code_scanning_alert", "commit_comment", "create",
        "custom_property_values", "delete", "dependabot_alert", "deploy_key", "deployment",
        "deployment_protection_rule", "deployment_review", "deployment_status", "discussion",
        "discussion_comment", "fork", "gollum", "issue_comment", "issues", "label", "member",
        "membership", "merge_group", "milestone", "organization", "org_block", "package",
        "page_build", "project", "project_card", "project_column", "projects_v2",
        "projects_v2_item", "public", "pull_request", "pull_request_review",
        "pull_request_review_comment", "pull_request_review_thread", "push",
        "registry_package", "release", "repository", "repository_dispatch",
        "repository_ruleset", "repository_vulnerability_alert", "secret_scanning_alert",
        "secret_scanning_alert_location", "security_and_analysis", "star", "status",
        "sub_issues", "team", "team_add", "watch", "workflow_dispatch", "workflow_job",
        "workflow_run",
    }
)  # fmt: skip
# An event is only delivered to an App holding one of these permissions; GitHub's settings
# form greys the event out without it. Only events whose permission is certain are checked;
# those that need only `metadata` (e.g. `repository`) always pass, as every App has it.
EVENT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "check_run": ("checks",),
    "check_suite": ("checks",),
    "issue_comment": ("issues", "pull_requests"),
    "issues": ("issues",),
    "pull_request": ("pull_requests",),
    "pull_request_review": ("pull_requests",),
    "pull_request_review_comment": ("pull_requests",),
    "pull_request_review_thread": ("pull_requests",),
    "push": ("contents",),
}

router = APIRouter()


@dataclass(frozen=True)
class RegisteredApp:
    """An App created from a manifest, with the credentials only the conversion reveals."""

    id: int
    slug: str
    name: str
    description: str | None
    url: str
    owner_login: str
    owner_type: str
    permissions: dict[str, str]
    events: list[str]
    hook_url: str | None
    webhook_secret: str
    client_secret: str
    pem: str
    created_at: datetime


@dataclass
class ManifestFlow:
    """What the fake remembers about the flow for one `GitHubState`: the codes not yet
    exchanged (by code) and every App registered (by slug, which GitHub keeps unique)."""

    codes: dict[str, tuple[RegisteredApp, datetime]] = field(default_factory=dict)
    apps: dict[str, RegisteredApp] = field(default_factory=dict)


# Kept beside the state rather than in it, so GitHubState stays unaware of this flow.
_flows: WeakKeyDictionary[GitHubState, ManifestFlow] = WeakKeyDictionary()


def flow_of(state: GitHubState) -> ManifestFlow:
    """The manifest flow's memory for `state`, for tests to inspect (e.g. `apps`)."""
    flow = _flows.get(state)
    if flow is None:
        flow = _flows[state] = ManifestFlow()
    return flow


# -- the web form ----------------------------------------------------------------------------


@router.post("/settings/apps/new")
async def new_app(request: Request) -> Response:
    state = state_of(request)
    return await _register(request, state.owner_login, "User")


@router.post("/organizations/{org}/settings/apps/new")
async def new_org_app(request: Request, org: str) -> Response:
    if not LOGIN.match(org):
        return _page(404, "Not Found", ["There is no organization by that name."])
    return await _register(request, org, "Organization")


async def _register(request: Request, owner: str, owner_type: str) -> Response:
    state = state_of(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    raw = (form.get("manifest") or [""])[0]
    try:
        manifest = json.loads(raw)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        return _page(422, "Invalid GitHub App manifest", ["The manifest is not a JSON object."])
    problems = validate(manifest)
    slug = slug_of(str(manifest.get("name") or ""))
    if not problems and (slug in flow_of(state).apps or slug == state.slug):
        problems.append("Name is already in use")
    if problems:
        return _page(422, "Invalid GitHub App manifest", problems)

    app = _create(state, manifest, slug, owner, owner_type)
    code = secrets.token_hex(10)
    flow_of(state).codes[code] = (app, state.now() + CODE_LIFETIME)
    query = {"code": code}
    if "state" in request.query_params:
        query["state"] = request.query_params["state"]
    return RedirectResponse(_with_query(str(manifest["redirect_url"]), query), status_code=302)


def validate(manifest: dict[str, Any]) -> list[str]:
    """The problems GitHub would report for a manifest, in its settings form's words (the
    exact wording is the fake's own)."""
    problems: list[str] = []
    name = manifest.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("Name can't be blank")
    elif len(name) > MAX_NAME_LENGTH or not slug_of(name):
        problems.append(f"Name must be 1 to {MAX_NAME_LENGTH} characters with a letter or digit")
    hook = manifest.get("hook_attributes")
    hook_url = hook.get("url") if isinstance(hook, dict) else None
    for label, value in (
        ("Url", manifest.get("url")),
        ("Hook url", hook_url),
        ("Redirect url", manifest.get("redirect_url")),
    ):
        if value is None or value == "":
            problems.append(f"{label} can't be blank")
        elif not _is_http_url(value):
            problems.append(f"{label} must be an http(s) URL")
    permissions = manifest.get("default_permissions") or {}
    if not isinstance(permissions, dict):
        problems.append("Default permissions must be an object")
        permissions = {}
    for permission, level in permissions.items():
        if level not in LEVELS:
            problems.append(f"Default permission {permission} must be read or write, not {level}")
    events = manifest.get("default_events") or []
    if not isinstance(events, list):
        problems.append("Default events must be a list")
        events = []
    for event in events:
        needed = EVENT_PERMISSIONS.get(event, ())
        if event not in KNOWN_EVENTS:
            problems.append(f"Default event {event} is not a known event")
        elif needed and not any(p in permissions for p in needed):
            problems.append(f"Default event {event} needs the {' or '.join(needed)} permission")
    return problems


def slug_of(name: str) -> str:
    """GitHub's slug for an App name: lower case, each run of other characters a hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _create(
    state: GitHubState, manifest: dict[str, Any], slug: str, owner: str, owner_type: str
) -> RegisteredApp:
    """Register the App, as GitHub does when the person confirms, and make it the state's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # PKCS#1, the format GitHub hands out.
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    hook = manifest.get("hook_attributes") or {}
    active = hook.get("active", True) is not False
    # metadata:read comes with every App, asked for or not.
    permissions = {"metadata": "read", **(manifest.get("default_permissions") or {})}
    app = RegisteredApp(
        id=state.next_id(),
        slug=slug,
        name=str(manifest["name"]),
        description=manifest.get("description"),
        url=str(manifest["url"]),
        owner_login=owner,
        owner_type=owner_type,
        permissions=permissions,
        events=list(manifest.get("default_events") or []),
        hook_url=str(hook["url"]) if active else None,
        webhook_secret=secrets.token_hex(20),
        client_secret=secrets.token_hex(20),
        pem=pem,
        created_at=state.now(),
    )
    flow_of(state).apps[slug] = app
    state.app_id, state.slug, state.name = app.id, app.slug, app.name
    state.owner_login = owner
    state.private_key, state.private_key_pem, state.public_key = key, pem, key.public_key()
    state.webhook_secret, state.webhook_url = app.webhook_secret, app.hook_url
    state.hook_id = 400_000_000 + app.id
    state.created_at = app.created_at
    return app


# -- the API call ----------------------------------------------------------------------------


@router.post("/app-manifests/{code}/conversions", status_code=201)
async def convert(request: Request, code: str) -> Any:
    state = state_of(request)
    pending = flow_of(state).codes.pop(code, None)
    if pending is None or pending[1] <= state.now():
        raise GitHubError(404, "Not Found", DOCS_CONVERSION)
    app, _ = pending
    api = api_of(request)
    return {
        "id": app.id,
        "slug": app.slug,
        "node_id": shapes.node_id("App", app.id),
        "client_id": f"Iv1.{app.id:016x}",
        "owner": shapes.user(state, api, app.owner_login, app.owner_type),
        "name": app.name,
        "description": app.description,
        "external_url": app.url,
        "html_url": f"{state.html_url}/apps/{app.slug}",
        "created_at": shapes.iso(app.created_at),
        "updated_at": shapes.iso(app.created_at),
        "permissions": dict(app.permissions),
        "events": list(app.events),
        "installations_count": 0,
        "client_secret": app.client_secret,
        "webhook_secret": app.webhook_secret,
        "pem": app.pem,
    }


# -- helpers ---------------------------------------------------------------------------------


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(extra)) if q)
    return urlunsplit(parts._replace(query=query))


def _page(status: int, title: str, problems: list[str]) -> HTMLResponse:
    items = "".join(f"<li>{escape(p)}</li>" for p in problems)
    body = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><ul>{items}</ul>"
    return HTMLResponse(body, status)
