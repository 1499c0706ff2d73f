"""The GitHub fake, driven by the real githubkit client over real HTTP: if githubkit can use it
the way Sentinel will use GitHub, and it refuses what GitHub refuses, tests built on it mean
something."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    SecondaryRateLimitExceeded,
)

from sandbox.github import (
    GitHubState,
    create_app_jwt,
    deliver,
    pull_request_event,
    serve_github,
    sign,
    signed_headers,
)
from sandbox.github.server import free_port
from tests.support.live_server import serve

ACME, GLOBEX = 1001, 2002
WIDGETS_ID = 9000
PR = ("acme", "widgets", 7)


def _files(count: int) -> list[dict[str, Any]]:
    return [
        {
            "filename": f"src/module_{i:04d}.py",
            "status": "modified",
            "additions": 2,
            "deletions": 1,
            "patch": "@@ -1,2 +1,3 @@\n-old\n+new\n+more\n context",
        }
        for i in range(count)
    ]


@pytest.fixture
def state() -> GitHubState:
    state = GitHubState(app_id=31337, slug="sentinel-test", webhook_secret="hook-secret")
    state.add_installation(ACME, "acme", "Organization")
    state.add_repository(ACME, "acme", "widgets", WIDGETS_ID)
    state.add_repository(ACME, "acme", "gadgets", 9001, private=True)
    state.add_installation(GLOBEX, "globex", "User")
    state.add_repository(GLOBEX, "globex", "secret", 9002, private=True)
    state.add_repository(GLOBEX, "globex", "open-source", 9003)
    state.add_pull_request(
        *PR,
        head_sha="a" * 40,
        base_sha="b" * 40,
        title="Add widgets",
        body="Adds the widgets.",
        user_login="alice",
        files=_files(250),
    )
    state.add_issue_comment("acme", "widgets", 555, "@sentinel review", "alice", issue_number=7)
    return state


@pytest.fixture
async def github_url(state: GitHubState) -> AsyncIterator[str]:
    async with serve_github(state) as url:
        yield url


def _client(state: GitHubState, url: str, private_key: str | None = None, **options: Any) -> Any:
    # A private cache per client: githubkit's default token cache is process-wide and keyed
    # by app id, so it would hand one test's token to the next test's fake.
    options = {"auto_retry": False, "http_cache": False, **options}
    return GitHub(
        AppAuthStrategy(state.app_id, private_key or state.private_key_pem),
        base_url=url,
        cache_strategy=MemCacheStrategy(),
        **options,
    )


@pytest.fixture
def app_github(state: GitHubState, github_url: str) -> Any:
    return _client(state, github_url)


def as_installation(github: Any, installation_id: int) -> Any:
    return github.with_auth(github.auth.as_installation(installation_id))


def token_refusal(error: RequestError[Any]) -> int:
    """githubkit mints the token inside httpx's auth flow, so GitHub refusing to mint it
    reaches the caller as a RequestError wrapping the RequestFailed."""
    assert isinstance(error.exc, RequestFailed)
    return error.exc.response.status_code


class Receiver:
    """A webhook endpoint that records what arrives and checks the signature itself."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.app = FastAPI()
        self.app.post("/webhooks/github")(self.receive)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        expected = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        self.received.append(
            {
                "headers": dict(request.headers),
                "payload": json.loads(body),
                "signature_ok": hmac.compare_digest(
                    request.headers.get("x-hub-signature-256", ""), f"sha256={expected}"
                ),
            }
        )
        return Response(status_code=self.status)


@pytest.fixture
async def receiver(state: GitHubState) -> AsyncIterator[Receiver]:
    receiver = Receiver(state.webhook_secret)
    async with serve(receiver.app) as url:
        state.webhook_url = f"{url}/webhooks/github"
        yield receiver


# -- installation tokens and pull requests ---------------------------------------------------


async def test_an_installation_token_is_minted_once_and_reads_the_pull_request(
    state: GitHubState, app_github: Any
) -> None:
    github = as_installation(app_github, ACME)

    pull = (await github.rest.pulls.async_get(*PR)).parsed_data
    files = [
        f
        async for f in github.rest.paginate(
            github.rest.pulls.async_list_files,
            owner="acme",
            repo="widgets",
            pull_number=7,
            per_page=100,
        )
    ]

    assert (pull.number, pull.head.sha, pull.base.ref, pull.user.login) == (
        7,
        "a" * 40,
        "main",
        "alice",
    )
    assert (pull.draft, pull.changed_files, pull.head.repo.full_name) == (
        False,
        250,
        "acme/widgets",
    )
    assert [f.filename for f in files] == [f"src/module_{i:04d}.py" for i in range(250)]
    assert (files[0].patch, files[0].changes) == (_files(1)[0]["patch"], 3)
    assert state.tokens_issued(ACME) == 1
    token_requests = [r for r in state.requests if r.path.endswith("/access_tokens")]
    assert [r.headers["authorization"] for r in token_requests] == ["Bearer ***"]
    file_pages = [r for r in state.requests if r.path.endswith("/files")]
    assert len(file_pages) == 3
    assert {r.headers["authorization"] for r in file_pages} == {"token ***"}


async def test_githubkits_http_cache_revalidates_with_etags_for_free(
    state: GitHubState, github_url: str
) -> None:
    github = as_installation(_client(state, github_url, http_cache=True), ACME)
    first = await github.rest.pulls.async_get(*PR)
    again = await github.rest.pulls.async_get(*PR)
    state.update_pull_request(*PR, head_sha="c" * 40)
    pushed = await github.rest.pulls.async_get(*PR)

    pulls = [r for r in state.requests if r.path == "/repos/acme/widgets/pulls/7"]
    assert "if-none-match" in pulls[1].headers  # hishel revalidated instead of refetching
    assert again.parsed_data.head.sha == first.parsed_data.head.sha == "a" * 40
    assert pushed.parsed_data.head.sha == "c" * 40
    assert state.installation_rate_limit(ACME).used == 2  # the 304 was not charged


async def test_the_files_list_pages_with_link_headers_and_stops_at_3000_files(
    state: GitHubState, app_github: Any
) -> None:
    github = as_installation(app_github, ACME)
    second = await github.rest.pulls.async_list_files(*PR, per_page=100, page=2)
    pages = {
        rel: httpx.URL(url).params["page"]
        for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', second.headers["link"])
    }
    assert pages == {"prev": "1", "next": "3", "last": "3", "first": "1"}
    clamped = await github.rest.pulls.async_list_files(*PR, per_page=500)
    assert len(clamped.parsed_data) == 100

    state.update_pull_request(*PR, files=_files(3005))
    listed = [
        f
        async for f in github.rest.paginate(
            github.rest.pulls.async_list_files,
            owner="acme",
            repo="widgets",
            pull_number=7,
            per_page=100,
        )
    ]
    assert len(listed) == 3000
    assert (await github.rest.pulls.async_get(*PR)).parsed_data.changed_files == 3005


async def test_a_token_does_not_reach_another_installations_private_repository(
    app_github: Any,
) -> None:
    acme, globex = as_installation(app_github, ACME), as_installation(app_github, GLOBEX)

    with pytest.raises(RequestFailed) as refused:
        await acme.rest.repos.async_get("globex", "secret")

    assert refused.value.response.status_code == 404
    assert refused.value.response.json()["message"] == "Not Found"
    assert (await globex.rest.repos.async_get("globex", "secret")).parsed_data.private
    # Public data is public to every token, but writing to it is not.
    assert (await acme.rest.repos.async_get("globex", "open-source")).status_code == 200


async def test_a_token_narrowed_to_some_repositories_sees_only_those(
    state: GitHubState, app_github: Any
) -> None:
    github = app_github.with_auth(app_github.auth.as_installation(ACME, repositories=["widgets"]))
    assert (await github.rest.repos.async_get("acme", "widgets")).status_code == 200
    with pytest.raises(RequestFailed) as hidden:
        await github.rest.repos.async_get("acme", "gadgets")
    assert hidden.value.response.status_code == 404

    outsider = app_github.with_auth(app_github.auth.as_installation(ACME, repositories=["nope"]))
    with pytest.raises(RequestError) as refused:
        await outsider.rest.repos.async_get("acme", "widgets")
    assert token_refusal(refused.value) == 422


async def test_tokens_expire_after_an_hour(
    state: GitHubState, github_url: str, app_github: Any
) -> None:
    github = as_installation(app_github, ACME)
    await github.rest.repos.async_get("acme", "widgets")
    token = state.issued_tokens[0].token
    async with httpx.AsyncClient(base_url=github_url) as http:
        fresh = await http.get("/repos/acme/gadgets", headers={"Authorization": f"token {token}"})
        state.advance_clock(3601)
        stale = await http.get("/repos/acme/gadgets", headers={"Authorization": f"token {token}"})
    assert fresh.status_code == 200
    assert (stale.status_code, stale.json()["message"]) == (401, "Bad credentials")


async def test_a_suspended_installation_gets_no_token(state: GitHubState, app_github: Any) -> None:
    state.suspend_installation(ACME)
    github = as_installation(app_github, ACME)
    with pytest.raises(RequestError) as refused:
        await github.rest.repos.async_get("acme", "widgets")
    assert token_refusal(refused.value) == 403
    with pytest.raises(RequestFailed) as unknown:
        await app_github.rest.apps.async_get_installation(4040)
    assert unknown.value.response.status_code == 404


# -- App JWTs --------------------------------------------------------------------------------


async def test_a_jwt_signed_with_another_key_is_refused(
    state: GitHubState, github_url: str
) -> None:
    impostor = _client(state, github_url, private_key=GitHubState().private_key_pem)
    with pytest.raises(RequestFailed) as refused:
        await impostor.rest.apps.async_get_installation(ACME)
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["message"] == "A JSON web token could not be decoded"


@pytest.mark.parametrize(
    ("lifetime", "age", "status", "message"),
    [
        (timedelta(minutes=9), timedelta(seconds=30), 200, None),
        (timedelta(minutes=11), timedelta(seconds=30), 401, "is too far in the future"),
        (
            timedelta(minutes=5),
            timedelta(minutes=6),
            401,
            "must be a numeric value representing the future",
        ),
        (timedelta(minutes=5), -timedelta(minutes=3), 401, "'Issued at' claim ('iat')"),
    ],
)
async def test_jwt_time_claims_are_checked(
    state: GitHubState,
    github_url: str,
    lifetime: timedelta,
    age: timedelta,
    status: int,
    message: str | None,
) -> None:
    token = create_app_jwt(state, issued_at=state.now() - age, lifetime=lifetime)
    async with httpx.AsyncClient(base_url=github_url) as http:
        response = await http.get(
            f"/app/installations/{ACME}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == status
    if message:
        assert message in response.json()["message"]


async def test_an_integer_issuer_is_accepted_and_no_jwt_is_refused(
    state: GitHubState, github_url: str
) -> None:
    token = create_app_jwt(state, issuer=state.app_id)  # int, as some clients send it
    async with httpx.AsyncClient(base_url=github_url) as http:
        accepted = await http.get("/app", headers={"Authorization": f"Bearer {token}"})
        anonymous = await http.get("/app/hook/deliveries")
    assert accepted.json()["slug"] == "sentinel-test"
    assert anonymous.status_code == 401


# -- webhooks --------------------------------------------------------------------------------


async def test_deliveries_are_listed_newest_first_and_a_redelivery_keeps_the_guid(
    state: GitHubState, app_github: Any, receiver: Receiver
) -> None:
    sent = [
        await deliver(state, "pull_request", pull_request_event(state, *PR, action=action))
        for action in ("opened", "edited", "synchronize")
    ]
    first_page = await app_github.rest.apps.async_list_webhook_deliveries(per_page=2)
    listed = [
        d
        async for d in app_github.rest.paginate(
            app_github.rest.apps.async_list_webhook_deliveries, per_page=2
        )
    ]

    assert [d.id for d in first_page.parsed_data] == [sent[2].id, sent[1].id]
    assert f"cursor=v1_{sent[0].id}" in first_page.headers["link"]
    assert [(d.action, d.status, d.installation_id, d.repository_id) for d in listed] == [
        (action, "OK", ACME, WIDGETS_ID) for action in ("synchronize", "edited", "opened")
    ]

    redelivered = await app_github.rest.apps.async_redeliver_webhook_delivery(sent[0].id)

    assert redelivered.status_code == 202
    assert len(receiver.received) == 4
    original, again = receiver.received[0], receiver.received[3]
    assert again["headers"]["x-github-delivery"] == original["headers"]["x-github-delivery"]
    assert again["payload"] == original["payload"]
    assert all(r["signature_ok"] for r in receiver.received)
    newest = (await app_github.rest.apps.async_list_webhook_deliveries(per_page=1)).parsed_data[0]
    assert (newest.guid, newest.redelivery) == (sent[0].guid, True)
    detail = (await app_github.rest.apps.async_get_webhook_delivery(newest.id)).parsed_data
    assert detail.request.payload is not None
    assert detail.request.headers is not None


async def test_a_delivery_carries_hookshots_headers(state: GitHubState, receiver: Receiver) -> None:
    record = await deliver(state, "ping", {"zen": "Keep it logically awesome."}, guid="fixed-guid")
    headers = receiver.received[0]["headers"]
    body = json.dumps({"zen": "Keep it logically awesome."}, separators=(",", ":")).encode()

    assert headers["x-github-event"] == "ping"
    assert headers["x-github-delivery"] == "fixed-guid"
    assert headers["x-github-hook-installation-target-type"] == "integration"
    assert headers["x-github-hook-installation-target-id"] == str(state.app_id)
    assert headers["user-agent"].startswith("GitHub-Hookshot/")
    assert headers["x-hub-signature"].startswith("sha1=")
    assert headers["x-hub-signature-256"] == sign("hook-secret", body)
    assert signed_headers("hook-secret", "ping", body, "fixed-guid")["X-Hub-Signature-256"] == sign(
        "hook-secret", body
    )
    assert (record.status, record.status_code, record.action) == ("OK", 200, None)


async def test_failed_deliveries_are_recorded_not_retried(
    state: GitHubState, receiver: Receiver
) -> None:
    receiver.status = 500
    refused = await deliver(state, "ping", {"zen": "x"})
    state.webhook_url = f"http://127.0.0.1:{free_port()}/webhooks/github"
    unreachable = await deliver(state, "ping", {"zen": "x"})

    assert (refused.status, refused.status_code) == ("Invalid HTTP Response: 500", 500)
    assert (unreachable.status, unreachable.status_code) == ("failed to connect", 0)
    assert len(receiver.received) == 1
    assert len(state.deliveries) == 2


async def test_redelivering_an_unknown_delivery_is_404(app_github: Any) -> None:
    with pytest.raises(RequestFailed) as missing:
        await app_github.rest.apps.async_redeliver_webhook_delivery(123)
    assert missing.value.response.status_code == 404


# -- reactions -------------------------------------------------------------------------------


async def test_a_reaction_is_created_once(state: GitHubState, github_url: str) -> None:
    # Body validation off, so that githubkit sends what GitHub must refuse.
    github = as_installation(_client(state, github_url, rest_api_validate_body=False), ACME)
    react = github.rest.reactions.async_create_for_issue_comment

    created = await react("acme", "widgets", 555, content="eyes")
    repeated = await react("acme", "widgets", 555, content="eyes")
    with pytest.raises(RequestFailed) as invalid:
        await react("acme", "widgets", 555, content="thumbsup")
    with pytest.raises(RequestFailed) as missing:
        await react("acme", "widgets", 999, content="eyes")

    assert (created.status_code, repeated.status_code) == (201, 200)
    assert repeated.parsed_data.id == created.parsed_data.id
    assert created.parsed_data.user.login == "sentinel-test[bot]"
    assert invalid.value.response.status_code == 422
    error = invalid.value.response.json()
    assert error["message"] == "Validation Failed"
    assert error["errors"][0]["field"] == "content"
    assert missing.value.response.status_code == 404
    assert [(r["repository"], r["comment_id"], r["content"]) for r in state.reactions] == [
        ("acme/widgets", 555, "eyes")
    ]


async def test_reacting_outside_the_installation_is_refused(
    state: GitHubState, app_github: Any
) -> None:
    state.add_issue_comment("globex", "open-source", 777)
    github = as_installation(app_github, ACME)
    with pytest.raises(RequestFailed) as refused:
        await github.rest.reactions.async_create_for_issue_comment(
            "globex", "open-source", 777, content="+1"
        )
    assert refused.value.response.status_code == 403
    assert state.reactions == []


# -- faults, rate limits, and the rules every request meets ----------------------------------


async def test_an_injected_server_error_fails_once(state: GitHubState, app_github: Any) -> None:
    github = as_installation(app_github, ACME)
    state.fail_next("/repos/acme/widgets/pulls/7", 500)

    with pytest.raises(RequestFailed) as failed:
        await github.rest.pulls.async_get(*PR)
    assert failed.value.response.status_code == 500
    assert (await github.rest.pulls.async_get(*PR)).status_code == 200


async def test_rate_limits_surface_as_githubkits_rate_limit_errors(
    state: GitHubState, app_github: Any
) -> None:
    github = as_installation(app_github, ACME)
    await github.rest.repos.async_get("acme", "widgets")  # mint the token first

    state.fail_next_secondary_rate_limit("/repos/acme/widgets", retry_after=30)
    with pytest.raises(SecondaryRateLimitExceeded) as secondary:
        await github.rest.pulls.async_get(*PR)
    assert secondary.value.retry_after == timedelta(seconds=30)
    assert "secondary rate limit" in secondary.value.response.json()["message"]

    state.fail_next_primary_rate_limit("/repos/acme/widgets")
    with pytest.raises(PrimaryRateLimitExceeded) as primary:
        await github.rest.pulls.async_get(*PR)
    assert f"installation ID {ACME}" in primary.value.response.json()["message"]

    bucket = state.installation_rate_limit(ACME)
    bucket.used = bucket.limit
    with pytest.raises(PrimaryRateLimitExceeded):
        await github.rest.pulls.async_get(*PR)


async def test_too_many_writes_a_minute_hit_the_secondary_limit(
    state: GitHubState, app_github: Any
) -> None:
    state.secondary_writes_per_minute = 2
    github = as_installation(app_github, ACME)  # the namespace only holds it weakly
    react = github.rest.reactions.async_create_for_issue_comment
    await react("acme", "widgets", 555, content="eyes")
    await react("acme", "widgets", 555, content="rocket")
    with pytest.raises(SecondaryRateLimitExceeded):
        await react("acme", "widgets", 555, content="heart")
    state.advance_clock(61)
    assert (await react("acme", "widgets", 555, content="heart")).status_code == 201


async def test_every_response_carries_rate_limit_headers_and_unknown_routes_are_404(
    state: GitHubState, app_github: Any, github_url: str
) -> None:
    github = as_installation(app_github, ACME)
    first = await github.rest.repos.async_get("acme", "widgets")
    second = await github.rest.repos.async_get("acme", "widgets")
    async with httpx.AsyncClient(base_url=github_url) as http:
        unknown = await http.get("/repos/acme/widgets/nonsense")

    assert first.headers["x-ratelimit-limit"] == "5000"
    assert int(first.headers["x-ratelimit-remaining"]) - 1 == int(
        second.headers["x-ratelimit-remaining"]
    )
    assert second.headers["x-ratelimit-used"] == "2"
    assert second.headers["x-ratelimit-resource"] == "core"
    assert second.headers["x-github-request-id"]
    assert unknown.status_code == 404
    assert unknown.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
    }
    assert unknown.headers["x-ratelimit-limit"] == "60"  # unauthenticated budget


async def test_only_api_versions_github_serves_are_accepted(
    state: GitHubState, github_url: str
) -> None:
    token = create_app_jwt(state)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=github_url) as http:
        old = await http.get("/app", headers={**auth, "X-GitHub-Api-Version": "2022-11-28"})
        bogus = await http.get("/app", headers={**auth, "X-GitHub-Api-Version": "2021-01-01"})
        bad_credential_wins = await http.get(
            "/app", headers={"Authorization": "Bearer x.y.z", "X-GitHub-Api-Version": "2021-01-01"}
        )

    assert old.status_code == 200
    assert old.headers["x-github-api-version-selected"] == "2022-11-28"
    assert bogus.status_code == 400
    assert "2021-01-01" in bogus.json()["message"]
    assert bad_credential_wins.status_code == 401


def test_the_hourly_write_limit_counts_the_last_hour_only(state: GitHubState) -> None:
    state.secondary_writes_per_hour = 3
    for _ in range(3):
        assert state.allow_write("installation:1")
        state.advance_clock(61)  # past the per-minute limit
    assert not state.allow_write("installation:1")
    assert state.allow_write("installation:2")  # per caller
    state.advance_clock(3600 - 3 * 61 + 1)  # the first write is now an hour old
    assert state.allow_write("installation:1")
    assert not state.allow_write("installation:1")
