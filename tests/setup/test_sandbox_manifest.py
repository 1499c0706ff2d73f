"""The GitHub simulator's side of the manifest flow, over real HTTP: what it accepts and
refuses on the "new App" form, and the one-time, one-hour code exchange that hands out a new
App the simulator then authenticates."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy

from sandbox.github import GitHubState, create_app_jwt, serve_github
from sandbox.github.manifest import flow_of

REDIRECT = "https://sentinel.acme.test/setup/github/callback"


def _manifest(**changes: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "name": "Sentinel",
        "url": "https://sentinel.acme.test",
        "hook_attributes": {"url": "https://sentinel.acme.test/webhooks/github"},
        "redirect_url": REDIRECT,
        "public": False,
        "default_permissions": {"pull_requests": "write", "checks": "write", "issues": "write"},
        "default_events": ["pull_request", "issue_comment", "check_run", "repository"],
    }
    manifest.update(changes)
    return manifest


@pytest.fixture
async def github() -> AsyncIterator[GitHubState]:
    state = GitHubState()
    async with serve_github(state):
        yield state


@pytest.fixture
async def client(github: GitHubState) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=github.base_url, follow_redirects=False) as client:
        yield client


async def _register(
    client: httpx.AsyncClient, manifest: Any, path: str = "/settings/apps/new", **query: str
) -> httpx.Response:
    body = manifest if isinstance(manifest, str) else json.dumps(manifest)
    return await client.post(path, params=query, data={"manifest": body})


def _code(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


async def test_the_form_redirects_with_a_code_and_the_state(client: httpx.AsyncClient) -> None:
    response = await _register(client, _manifest(redirect_url=REDIRECT + "?from=gh"), state="s1")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location._replace(query="").geturl() == REDIRECT
    query = parse_qs(location.query)
    assert query["from"] == ["gh"]
    assert query["state"] == ["s1"]
    assert query["code"][0]


async def test_without_a_state_the_redirect_carries_none(client: httpx.AsyncClient) -> None:
    response = await _register(client, _manifest())
    assert "state" not in parse_qs(urlsplit(response.headers["location"]).query)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"name": ""}, "Name can&#x27;t be blank"),
        ({"url": None}, "Url can&#x27;t be blank"),
        ({"hook_attributes": {"active": True}}, "Hook url can&#x27;t be blank"),
        ({"redirect_url": "not a url"}, "Redirect url must be an http(s) URL"),
        ({"default_permissions": {"issues": "admin"}}, "issues must be read or write"),
        ({"default_events": ["pull_request", "bogus"]}, "bogus is not a known event"),
        (
            {"default_permissions": {"issues": "write"}},
            "pull_request needs the pull_requests permission",
        ),
    ],
)
async def test_invalid_manifests_get_a_page_listing_the_problem(
    client: httpx.AsyncClient, changes: dict[str, Any], problem: str
) -> None:
    response = await _register(client, _manifest(**changes), state="s1")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert problem in response.text


async def test_a_manifest_that_is_not_json_is_refused(client: httpx.AsyncClient) -> None:
    response = await _register(client, "{not json")
    assert response.status_code == 422


async def test_a_name_in_use_is_refused(client: httpx.AsyncClient) -> None:
    _code(await _register(client, _manifest(name="Sentinel")))
    response = await _register(client, _manifest(name="sentinel!"))
    assert response.status_code == 422
    assert "Name is already in use" in response.text


async def test_the_conversion_hands_out_a_working_app_once(
    github: GitHubState, client: httpx.AsyncClient
) -> None:
    old_jwt = create_app_jwt(github)
    code = _code(await _register(client, _manifest(name="Sentinel Review")))

    response = await client.post(f"/app-manifests/{code}/conversions")
    assert response.status_code == 201
    app = response.json()
    assert app["slug"] == "sentinel-review"
    assert app["name"] == "Sentinel Review"
    assert app["owner"]["login"] == github.owner_login
    assert app["owner"]["type"] == "User"
    assert app["permissions"]["metadata"] == "read"  # granted to every App
    assert app["events"] == ["pull_request", "issue_comment", "check_run", "repository"]
    assert app["html_url"].endswith("/apps/sentinel-review")
    assert {"pem", "webhook_secret", "client_id", "client_secret"} <= app.keys()
    assert github.app_id == app["id"]
    assert github.webhook_secret == app["webhook_secret"]
    assert github.webhook_url == "https://sentinel.acme.test/webhooks/github"
    assert flow_of(github).apps["sentinel-review"].id == app["id"]

    # A cache of its own: githubkit's shared one may hold a JWT of another test's App 1000.
    gh = GitHub(
        AppAuthStrategy(app["id"], app["pem"]),
        base_url=github.base_url,
        cache_strategy=MemCacheStrategy(),
    )
    me = (await gh.rest.apps.async_get_authenticated()).parsed_data
    assert me is not None
    assert (me.id, me.slug) == (app["id"], "sentinel-review")
    # The App the state had before is gone: its key no longer signs for anyone.
    stale = await client.get("/app", headers={"Authorization": f"Bearer {old_jwt}"})
    assert stale.status_code == 401

    again = await client.post(f"/app-manifests/{code}/conversions")
    assert again.status_code == 404


async def test_codes_expire_after_an_hour(github: GitHubState, client: httpx.AsyncClient) -> None:
    code = _code(await _register(client, _manifest()))
    github.advance_clock(3601)
    response = await client.post(f"/app-manifests/{code}/conversions")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"


async def test_the_organization_variant_makes_the_organization_the_owner(
    client: httpx.AsyncClient,
) -> None:
    code = _code(await _register(client, _manifest(), "/organizations/acme/settings/apps/new"))
    app = (await client.post(f"/app-manifests/{code}/conversions")).json()
    assert app["owner"]["login"] == "acme"
    assert app["owner"]["type"] == "Organization"
