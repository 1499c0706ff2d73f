"""What the web console adds to the API, over HTTP: sessions opened with an API token (the
cookie stands for the token; writes need the CSRF header; expiry, sign-out and a revoked
token end it), the usage summary as CSV, runs filtered by pull request, and verifying the
key already saved."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
from sqlalchemy import text

from app.db import SystemContext, system_session
from app.models.identity import Role
from sandbox.models.server import serve_anthropic
from sandbox.models.state import ModelFakeState
from tests.admin.conftest import World
from tests.admin.helpers import add_run, usage_record

ACME = "/v1/workspaces/acme"
COOKIE = "sentinel_console"


def _as(cookie: str, csrf: str | None = None) -> dict[str, str]:
    """A browser's request: the session cookie, and the CSRF header when given."""
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return headers


async def _signed_in(client: httpx.AsyncClient, token: str) -> tuple[str, str]:
    response = await client.post("/console/session", json={"token": token})
    assert response.status_code == 200, response.text
    cookie = response.cookies[COOKIE]
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=strict" in set_cookie
    assert token not in response.text
    client.cookies.clear()
    return cookie, response.json()["csrf_token"]


async def test_a_session_acts_as_its_token(world: World, client: httpx.AsyncClient) -> None:
    cookie, csrf = await _signed_in(client, world.tokens[Role.ADMIN])
    session = await client.get("/console/session", headers=_as(cookie))
    assert session.json()["role"] == "admin"
    assert session.json()["workspace"]["slug"] == "acme"
    assert session.json()["csrf_token"] == csrf

    repositories = await client.get(f"{ACME}/repositories", headers=_as(cookie))
    assert repositories.status_code == 200
    repository = repositories.json()["repositories"][0]["id"]
    url = f"{ACME}/repositories/{repository}"
    refused = await client.patch(url, json={"is_enabled": False}, headers=_as(cookie))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf"
    wrong = await client.patch(url, json={"is_enabled": False}, headers=_as(cookie, "0" * 64))
    assert wrong.status_code == 403
    allowed = await client.patch(url, json={"is_enabled": False}, headers=_as(cookie, csrf))
    assert allowed.status_code == 200, allowed.text
    # Tenancy is the token's: another workspace is a 404, as for the token itself.
    assert (await client.get("/v1/workspaces/globex", headers=_as(cookie))).status_code == 404
    audit = await world.rows("SELECT action FROM audit_events WHERE action = 'console.signed_in'")
    assert len(audit) == 1


async def test_a_session_ends_with_sign_out_expiry_or_its_token(
    world: World, client: httpx.AsyncClient
) -> None:
    signed_out, csrf = await _signed_in(client, world.tokens[Role.MEMBER])
    refused = await client.delete("/console/session", headers=_as(signed_out))
    assert refused.status_code == 403  # sign-out is a write too
    ended = await client.delete("/console/session", headers=_as(signed_out, csrf))
    assert ended.status_code == 204
    assert (await client.get(f"{ACME}/runs", headers=_as(signed_out))).status_code == 401

    expired, _ = await _signed_in(client, world.tokens[Role.MEMBER])
    async with system_session(world.sessionmaker, SystemContext.CONSOLE_SESSION) as session:
        await session.execute(
            text("UPDATE console_sessions SET expires_at = :t"),
            {"t": datetime(2020, 1, 1, tzinfo=UTC)},
        )
    assert (await client.get(f"{ACME}/runs", headers=_as(expired))).status_code == 401

    revoked, _ = await _signed_in(client, world.tokens[Role.OWNER])
    tokens = await client.get(f"{ACME}/tokens", headers=world.headers(Role.OWNER))
    (owner_token,) = [t for t in tokens.json()["tokens"] if t["name"] == "test owner"]
    deleted = await client.delete(
        f"{ACME}/tokens/{owner_token['id']}", headers=world.headers(Role.OWNER)
    )
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"{ACME}/runs", headers=_as(revoked))).status_code == 401


async def test_sign_in_with_a_wrong_token_opens_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    before = await world.rows("SELECT id FROM console_sessions")
    for token in ("snt_" + "x" * 40, "not a token", world.tokens[Role.ADMIN] + "x"):
        response = await client.post("/console/session", json={"token": token})
        assert response.status_code == 401
        assert COOKIE not in response.cookies
    assert (await client.get(f"{ACME}/runs", headers=_as("scs_" + "y" * 43))).status_code == 401
    assert await world.rows("SELECT id FROM console_sessions") == before


async def test_the_console_page_is_served_with_a_strict_content_security_policy(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/console", "/console/runs/1c0ffee0-0000-0000-0000-000000000000"):
        page = await client.get(path)
        assert page.status_code == 200
        assert '<script type="module" src="/console/assets/js/app.js">' in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
    script = await client.get("/console/assets/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    schema = (await client.get("/console/schemas/policy.json")).json()
    assert "min_severity" in schema["properties"]


async def test_the_usage_summary_as_csv(world: World, client: httpx.AsyncClient) -> None:
    moment = datetime(2026, 10, 5, 12, tzinfo=UTC)
    async with system_session(world.sessionmaker, SystemContext.ROLLUP) as session:
        run_id = await add_run(session, world.acme)
        session.add(usage_record(world.acme, run_id, "review", 1, created_at=moment))
        session.add(
            usage_record(
                world.acme, run_id, "llm_input_tokens", 1234, created_at=moment, model="=cmd|x"
            )
        )
    response = await client.get(
        f"{ACME}/usage",
        params={"start": "2026-10-01", "end": "2026-11-01", "group_by": "model"},
        headers={**world.headers(Role.BILLING), "Accept": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {"group_by": "model", "key": "'=cmd|x", "label": "", "type": "llm_input_tokens",
            "quantity": "1234"} in rows  # fmt: skip
    assert {"group_by": "model", "key": "", "label": "", "type": "review", "quantity": "1"} in rows


async def test_runs_are_filtered_by_pull_request(world: World, client: httpx.AsyncClient) -> None:
    async with system_session(world.sessionmaker, SystemContext.ROLLUP) as session:
        ids = [await add_run(session, world.acme) for _ in range(3)]
    numbers = await world.rows("SELECT id, pull_request_number FROM runs ORDER BY created_at")
    wanted = next(r for r in numbers if r["id"] == ids[1])["pull_request_number"]
    response = await client.get(
        f"{ACME}/runs",
        params={"pull_request_number": wanted},
        headers=world.headers(Role.MEMBER),
    )
    assert [run["id"] for run in response.json()["runs"]] == [str(ids[1])]


async def test_the_saved_key_is_verified_without_sending_it_again(
    world: World, client: httpx.AsyncClient
) -> None:
    key = "sk-ant-console-0123456789"
    state = ModelFakeState(api_keys=[key])
    async with serve_anthropic(state) as base_url:
        saved = await client.put(
            f"{ACME}/provider-keys/anthropic",
            json={"api_key": key, "base_url": base_url, "model": "claude-sonnet-5-5"},
            headers=world.headers(Role.ADMIN),
        )
        assert saved.status_code == 200, saved.text
        verified = await client.post(
            f"{ACME}/provider-keys/anthropic/verify", headers=world.headers(Role.ADMIN)
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["ok"] is True
        assert state.requests[-1].key_suffix == key[-4:]
        state.api_keys.clear()  # the provider revoked it
        revoked = await client.post(
            f"{ACME}/provider-keys/anthropic/verify", headers=world.headers(Role.ADMIN)
        )
        assert revoked.json()["ok"] is False
        assert revoked.json()["kind"] == "auth"
        member = await client.post(
            f"{ACME}/provider-keys/anthropic/verify", headers=world.headers(Role.MEMBER)
        )
        assert member.status_code == 403
    assert key not in verified.text + revoked.text
    missing = await client.post(
        f"{ACME}/provider-keys/openai/verify", headers=world.headers(Role.ADMIN)
    )
    assert missing.status_code == 404


async def test_another_site_cannot_sign_the_browser_in(
    world: World, client: httpx.AsyncClient
) -> None:
    token = world.tokens[Role.ADMIN]
    forged = await client.post(
        "/console/session", json={"token": token}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    as_form = await client.post(
        "/console/session",
        content=f'{{"token": "{token}"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert as_form.status_code in (415, 422)  # FastAPI refuses a non-JSON body first
    assert COOKIE not in forged.cookies
    assert COOKIE not in as_form.cookies
    own = await client.post(
        "/console/session", json={"token": token}, headers={"Origin": str(client.base_url)}
    )
    assert own.status_code == 200
