"""What the GitHub-fake tests share: a githubkit client pointed at the fake, and a world with
one App installed on one organisation with one pull request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import RequestFailed

from sandbox.github import GitHubState, serve_github

ACME = 1001
OWNER, REPO, NUMBER = "acme", "widgets", 7
PR = (OWNER, REPO, NUMBER)
BASE = "b" * 40
HEAD = "a" * 40

# Two hunks: new-side lines 1-4 (2 and 3 added; old line 2 deleted), then new-side lines
# 19-22 (20 added; old lines 18-20 around it).
APP_PATCH = (
    "@@ -1,3 +1,4 @@\n"
    " import os\n"
    "-import sys\n"
    "+import re\n"
    "+import json\n"
    " \n"
    "@@ -18,3 +19,4 @@ def main():\n"
    "     run()\n"
    "+    report()\n"
    "     return 0\n"
    " "
)


def client(state: GitHubState, url: str, **options: Any) -> Any:
    """githubkit as the App. A private token cache per client: githubkit's default one is
    process-wide and keyed by app id, so it would hand one test's token to the next."""
    options = {"auto_retry": False, "http_cache": False, **options}
    return GitHub(
        AppAuthStrategy(state.app_id, state.private_key_pem),
        base_url=url,
        cache_strategy=MemCacheStrategy(),
        **options,
    )


def as_installation(github: Any, installation_id: int = ACME) -> Any:
    # Keep the result in a variable: the namespace only holds it weakly.
    return github.with_auth(github.auth.as_installation(installation_id))


def world() -> GitHubState:
    state = GitHubState(app_id=31337, slug="sentinel-test")
    state.add_installation(ACME, OWNER, "Organization")
    state.add_repository(ACME, OWNER, REPO, 9000)
    state.add_pull_request(
        *PR,
        head_sha=HEAD,
        base_sha=BASE,
        title="Add widgets",
        body="Adds the widgets.",
        user_login="alice",
        files=[
            {"filename": "src/app.py", "patch": APP_PATCH},
            {"filename": "README.md", "status": "added", "patch": "@@ -0,0 +1 @@\n+# Widgets"},
        ],
    )
    return state


async def serve(state: GitHubState) -> AsyncIterator[str]:
    async with serve_github(state) as url:
        yield url


def refusal(error: RequestFailed[Any]) -> tuple[int, dict[str, Any]]:
    return error.response.status_code, error.response.json()
