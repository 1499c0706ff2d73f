"""Exchanging the code of GitHub's redirect for the new App's credentials:
`POST /app-manifests/{code}/conversions`, unauthenticated, once, within an hour."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from githubkit import GitHub
from githubkit.exception import RequestError, RequestFailed
from pydantic import ValidationError

from app.setup.errors import SetupError

REQUEST_TIMEOUT_SECONDS = 30.0
# The first dated REST version, which every GitHub Enterprise Server still serves (githubkit
# would send its newest); the conversion's shape is the same in all of them.
API_VERSION = "2022-11-28"
# githubkit puts the code into the path unescaped: anything but these could leave it.
CODE_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# Relative to /setup/github/callback, so it also works behind a proxy's path prefix.
START_AGAIN = "../../setup"


@dataclass(frozen=True)
class NewApp:
    id: int
    slug: str
    name: str
    owner: str
    html_url: str
    # Secrets stay out of repr, hence out of logs and tracebacks.
    pem: str = field(repr=False)
    webhook_secret: str | None = field(repr=False)
    # The App's OAuth client, for the web console's "Sign in with GitHub".
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)


async def exchange_code(api_url: str, code: str) -> NewApp:
    """The App GitHub created, or a `SetupError` saying why not: 400 when GitHub refuses the
    code (expired or already used), 502 when GitHub fails or cannot be reached."""
    if not CODE_FORMAT.match(code):
        raise SetupError(400, "Invalid code", "The code in the address is not one GitHub sends.")
    github = GitHub(
        base_url=api_url,
        auto_retry=False,  # the code is single-use: a blind retry cannot help
        http_cache=False,
        timeout=REQUEST_TIMEOUT_SECONDS,
        user_agent="Sentinel",
    )
    try:
        response = await github.rest.apps.async_create_from_manifest(
            code, headers={"X-GitHub-Api-Version": API_VERSION}
        )
        data = response.parsed_data
    except RequestFailed as error:
        raise _refused(error.response.status_code) from None
    except RequestError as error:
        raise SetupError(
            502,
            "GitHub is unreachable",
            f"Sentinel could not reach {api_url} ({type(error.exc).__name__}). The code stays "
            "valid for an hour from the registration: reload this page to try again.",
        ) from None
    except ValidationError:
        raise SetupError(
            502,
            "Unexpected answer from GitHub",
            f"{api_url} answered the code exchange with something that is not a GitHub App.",
        ) from None
    owner = getattr(data.owner, "login", None) or getattr(data.owner, "slug", "")
    return NewApp(
        id=data.id,
        slug=data.slug if isinstance(data.slug, str) else "",
        name=data.name,
        owner=str(owner),
        html_url=data.html_url,
        pem=data.pem,
        webhook_secret=data.webhook_secret,
        client_id=data.client_id,
        client_secret=data.client_secret,
    )


def _refused(status: int) -> SetupError:
    if status in {404, 422}:
        return SetupError(
            400,
            "GitHub did not accept the code",
            "The code GitHub sent back has expired (codes last an hour) or was already "
            "exchanged, so no credentials were written. If GitHub created the App, its "
            "settings page can generate a new private key, or delete the App and start again.",
            ("Start again", START_AGAIN),
        )
    return SetupError(
        502,
        "GitHub refused the code exchange",
        f"GitHub answered HTTP {status}. The code stays valid for an hour from the "
        "registration: reload this page to try again.",
    )
