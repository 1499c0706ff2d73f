"""`github-app.yml` made concrete for one deployment, and where on GitHub to post it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import yaml

from app.setup.errors import SetupError

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "github-app.yml"
PLACEHOLDER = "https://sentinel.example.com"
WEBHOOK_PATH = "/webhooks/github"
CALLBACK_PATH = "/setup/github/callback"
# GitHub's rule for account names (organisations included).
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
MAX_URL_LENGTH = 1000
# What RFC 3986 allows in a URL; quotes, brackets and spaces would have to be encoded first.
URL_CHARACTERS = re.compile(r"^[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+$")


def normalise_public_url(raw: str) -> str:
    """The address GitHub reaches Sentinel at, without a trailing slash. A path is allowed
    (Sentinel behind a prefix); credentials, a query or a fragment would end up in every URL
    of the manifest, so they are refused."""
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if (
        len(value) > MAX_URL_LENGTH
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
        or not URL_CHARACTERS.match(value)
    ):
        raise SetupError(
            400,
            "Invalid public URL",
            "The public URL must be an http(s) address such as https://sentinel.example.org, "
            "without a query, fragment or credentials.",
        )
    return value


def normalise_organization(raw: str) -> str | None:
    """An organisation to own the App, or None for the signed-in person's own account."""
    value = raw.strip()
    if not value:
        return None
    if not LOGIN.match(value):
        raise SetupError(
            400,
            "Invalid organization",
            "An organization name has up to 39 letters, digits and hyphens, "
            "and does not start with a hyphen.",
        )
    return value


def build_manifest(public_url: str, path: Path = MANIFEST_PATH) -> dict[str, Any]:
    """The manifest GitHub receives: `github-app.yml` with its placeholder replaced by the
    public URL. Replaced in the parsed values, not the text, so no URL can break the YAML."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SetupError(
            500, "The App manifest cannot be read", f"{path}: {type(error).__name__}"
        ) from None
    if not isinstance(loaded, dict):
        raise SetupError(500, "The App manifest is not valid", f"{path} is not a YAML mapping")
    manifest: dict[str, Any] = _replace(loaded, public_url)
    # These must name the routes this process serves, whatever the file says.
    hook = manifest.setdefault("hook_attributes", {})
    hook["url"] = public_url + WEBHOOK_PATH
    manifest["redirect_url"] = public_url + CALLBACK_PATH
    return manifest


def _replace(value: Any, public_url: str) -> Any:
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, public_url)
    if isinstance(value, list):
        return [_replace(item, public_url) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, public_url) for key, item in value.items()}
    return value


def github_web_url(api_url: str) -> str:
    """GitHub's web address for its REST API's address: github.com for api.github.com,
    `https://SUB.ghe.com` for `https://api.SUB.ghe.com` (GHE.com), and for GitHub Enterprise
    Server (`https://HOST/api/v3`) the server itself. Anything else (a simulator) serves both
    from one address."""
    parts = urlsplit(api_url.rstrip("/"))
    host = parts.hostname or ""
    if host == "api.github.com":
        return "https://github.com"
    if host.startswith("api.") and host.endswith(".ghe.com"):
        return f"https://{host.removeprefix('api.')}"
    path = parts.path.removesuffix("/api/v3")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def new_app_url(web_url: str, organization: str | None, state: str) -> str:
    """Where the form posts the manifest; GitHub reads `state` from the query string and
    hands it back on the redirect."""
    path = "/settings/apps/new"
    if organization:
        path = f"/organizations/{organization}{path}"
    return f"{web_url}{path}?{urlencode({'state': state})}"
