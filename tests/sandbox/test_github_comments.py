"""Issue comments (Sentinel's summary comment) against the fake with githubkit, and the
installation payload builders checked against githubkit's webhook models."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from githubkit.exception import RequestFailed
from githubkit.webhooks import parse_obj

from sandbox.github import GitHubState, installation_event, installation_repositories_event
from tests.sandbox.helpers import (
    ACME,
    NUMBER,
    OWNER,
    PR,
    REPO,
    as_installation,
    client,
    refusal,
    serve,
    world,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks"
MARKER = "<!-- sentinel:summary -->"


@pytest.fixture
def state() -> GitHubState:
    return world()


@pytest.fixture
async def url(state: GitHubState) -> AsyncIterator[str]:
    async for served in serve(state):
        yield served


@pytest.fixture
def github(state: GitHubState, url: str) -> Any:
    return as_installation(client(state, url))


async def test_the_app_writes_and_edits_its_own_comment(state: GitHubState, github: Any) -> None:
    issues = github.rest.issues
    created = await issues.async_create_comment(*PR, body=f"{MARKER}\nReviewing…")
    comment = created.parsed_data
    edited = await issues.async_update_comment(OWNER, REPO, comment.id, body=f"{MARKER}\nDone.")
    fetched = (await issues.async_get_comment(OWNER, REPO, comment.id)).parsed_data

    assert created.status_code == 201
    assert comment.user is not None
    assert (comment.user.login, comment.user.type) == ("sentinel-test[bot]", "Bot")
    assert comment.performed_via_github_app is not None
    assert comment.performed_via_github_app.slug == "sentinel-test"
    assert edited.parsed_data.body == fetched.body == f"{MARKER}\nDone."
    assert comment.html_url.endswith(f"/pull/{NUMBER}#issuecomment-{comment.id}")
    (stored,) = state.issue_comments_on(*PR)
    assert (stored.body, stored.user_type, stored.app_id) == (
        f"{MARKER}\nDone.",
        "Bot",
        state.app_id,
    )
    pull = (await github.rest.pulls.async_get(*PR)).parsed_data
    assert pull.comments == 1


async def test_comments_list_oldest_first_in_pages_of_at_most_100(
    state: GitHubState, github: Any
) -> None:
    for i in range(120):
        state.add_issue_comment(OWNER, REPO, None, f"comment {i}", "alice", NUMBER)
    listed = github.rest.issues.async_list_comments

    first = await listed(*PR, per_page=500)
    every = [
        c
        async for c in github.rest.paginate(
            listed, owner=OWNER, repo=REPO, issue_number=NUMBER, per_page=50
        )
    ]

    assert len(first.parsed_data) == 100
    pages = dict(
        (rel, httpx.URL(link).params["page"])
        for link, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["link"])
    )
    assert pages == {"next": "2", "last": "2"}
    assert [c.body for c in every] == [f"comment {i}" for i in range(120)]
    assert {c.user.login for c in every if c.user} == {"alice"}


async def test_another_authors_comment_cannot_be_edited(state: GitHubState, github: Any) -> None:
    by_user = state.add_issue_comment(OWNER, REPO, None, f"{MARKER} forged", "mallory", NUMBER)
    by_app = state.add_issue_comment(
        OWNER, REPO, None, "from another App", "other-app[bot]", NUMBER, user_type="Bot", app_id=9
    )
    for comment in (by_user, by_app):
        with pytest.raises(RequestFailed) as refused:
            await github.rest.issues.async_update_comment(OWNER, REPO, comment.id, body="mine now")
        assert refusal(refused.value)[0] == 403
        assert refusal(refused.value)[1]["message"] == "Resource not accessible by integration"
    assert [c.body for c in state.issue_comments_on(*PR)] == [
        f"{MARKER} forged",
        "from another App",
    ]
    with pytest.raises(RequestFailed) as missing:
        await github.rest.issues.async_update_comment(OWNER, REPO, 424242, body="x")
    assert refusal(missing.value)[0] == 404


async def test_bodies_longer_than_65536_characters_are_refused(
    state: GitHubState, github: Any
) -> None:
    longest = await github.rest.issues.async_create_comment(*PR, body="é" * 65536)
    with pytest.raises(RequestFailed) as on_create:
        await github.rest.issues.async_create_comment(*PR, body="x" * 65537)
    with pytest.raises(RequestFailed) as on_update:
        await github.rest.issues.async_update_comment(
            OWNER, REPO, longest.parsed_data.id, body="x" * 65537
        )

    for refused in (on_create, on_update):
        status, body = refusal(refused.value)
        assert (status, body["message"]) == (422, "Validation Failed")
        assert body["errors"] == [
            {
                "resource": "IssueComment",
                "code": "unprocessable",
                "field": "data",
                "message": "Body is too long (maximum is 65536 characters)",
            }
        ]
    assert [len(c.body) for c in state.issue_comments_on(*PR)] == [65536]


async def test_comments_need_an_issue_and_write_access(state: GitHubState, url: str) -> None:
    github = client(state, url)
    installation = as_installation(github)
    readonly = github.with_auth(
        github.auth.as_installation(ACME, permissions={"issues": "read", "pull_requests": "read"})
    )
    with pytest.raises(RequestFailed) as no_issue:
        await installation.rest.issues.async_create_comment(OWNER, REPO, 999, body="hi")
    with pytest.raises(RequestFailed) as no_write:
        await readonly.rest.issues.async_create_comment(*PR, body="hi")
    listed = await readonly.rest.issues.async_list_comments(*PR)

    assert refusal(no_issue.value)[0] == 404
    assert refusal(no_write.value)[0] == 403
    assert listed.parsed_data == []


# -- installation payloads -------------------------------------------------------------------


def _fixture(event: str, action: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / event / f"{action}.payload.json").read_text())
    return data


@pytest.mark.parametrize("action", ["created", "deleted", "suspend", "new_permissions_accepted"])
def test_installation_payloads_are_shaped_like_githubs(state: GitHubState, action: str) -> None:
    state.add_repository(ACME, OWNER, "gadgets", 9001, private=True)
    payload = installation_event(state, ACME, action, sender="alice")

    reference = _fixture("installation", action)
    assert set(payload) == set(reference)
    assert set(reference["installation"]) <= set(payload["installation"])
    event = parse_obj("installation", payload)
    assert event.action == action
    assert event.installation.id == ACME
    if "repositories" in payload:
        assert [(r["full_name"], r["private"]) for r in payload["repositories"]] == [
            ("acme/widgets", False),
            ("acme/gadgets", True),
        ]
    assert payload["sender"]["login"] == "alice"


@pytest.mark.parametrize("action", ["added", "removed"])
def test_installation_repositories_payloads_are_shaped_like_githubs(
    state: GitHubState, action: str
) -> None:
    state.add_repository(ACME, OWNER, "gadgets", 9001)
    names = {action: ["gadgets"]}
    payload = installation_repositories_event(state, ACME, **names)

    assert set(payload) == set(_fixture("installation_repositories", action))
    event = parse_obj("installation_repositories", payload)
    assert event.action == action
    changed = payload[f"repositories_{action}"]
    assert [(r["id"], r["full_name"]) for r in changed] == [(9001, "acme/gadgets")]
    with pytest.raises(KeyError):
        installation_repositories_event(state, ACME, added=["nope"])
