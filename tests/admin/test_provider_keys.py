"""Provider keys over HTTP: saved encrypted, listed masked, never echoed (responses, errors,
audit, logs); base_url limited to public https; `?verify=true` against the model fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.models.identity import Role
from sandbox.models.server import serve_anthropic, serve_openai
from sandbox.models.state import ModelFakeState
from tests.admin.conftest import World
from tests.support.redis_server import free_port

KEY = "sk-test-sentinel"
PATH = "/v1/workspaces/acme/provider-keys"


@pytest.fixture
async def strict_client(strict_api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=strict_api_url, timeout=30) as http:
        yield http


async def test_saved_key_is_listed_masked_and_stored_encrypted(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = world.headers(Role.ADMIN)
    body = {"api_key": "sk-live-0123456789wxyz", "model": "gpt-4.1"}
    response = await client.put(f"{PATH}/openai", json=body, headers=headers)
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["key_last4"] == "wxyz"
    assert saved["model"] == "gpt-4.1"
    assert saved["verification"] is None
    listed = (await client.get(PATH, headers=headers)).json()["provider_keys"]
    assert {key["provider"] for key in listed} == {"anthropic", "openai"}
    assert set(listed[1]) == {
        "provider", "model", "base_url", "key_last4", "key_version", "created_at", "updated_at",
    }  # fmt: skip
    everything = await world.rows(
        "SELECT (SELECT string_agg(t::text, '') FROM provider_keys t) AS keys,"
        " (SELECT string_agg(t::text, '') FROM audit_events t) AS audit"
    )
    assert "0123456789wxyz" not in everything[0]["keys"]
    assert "0123456789wxyz" not in everything[0]["audit"]
    assert "0123456789wxyz" not in str(listed)
    audit = await world.rows(
        "SELECT actor_type, metadata FROM audit_events WHERE action = 'provider_key.saved'"
    )
    assert audit[0]["actor_type"] == "token"
    assert audit[0]["metadata"]["after"]["key_last4"] == "wxyz"
    assert audit[0]["metadata"]["before"] is None
    # Replacing keeps one row per provider and records what it was before.
    body = {"api_key": "sk-live-another-key-9876", "base_url": "https://8.8.8.8/v1"}
    response = await client.put(f"{PATH}/openai", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["base_url"] == "https://8.8.8.8/v1"
    rows = await world.rows("SELECT metadata FROM audit_events WHERE action = 'provider_key.saved'"
                            " ORDER BY id")  # fmt: skip
    assert rows[1]["metadata"]["before"]["key_last4"] == "wxyz"
    assert len(await world.rows("SELECT 1 FROM provider_keys WHERE provider = 'openai'")) == 1


async def test_delete_removes_the_key(world: World, client: httpx.AsyncClient) -> None:
    headers = world.headers(Role.OWNER)
    assert (await client.delete(f"{PATH}/anthropic", headers=headers)).status_code == 204
    assert (await client.get(PATH, headers=headers)).json() == {"provider_keys": []}
    response = await client.delete(f"{PATH}/anthropic", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


INVALID_BODIES: list[tuple[str, dict[str, object], str]] = [
    ("openai", {}, "api_key"),
    ("openai", {"api_key": "short"}, "api_key"),
    ("openai", {"api_key": "sk-with space-1234"}, "api_key"),
    ("openai", {"api_key": "sk-trailing-newline\n"}, "api_key"),
    ("openai", {"api_key": "x" * 501}, "api_key"),
    ("openai", {"api_key": 12345678}, "api_key"),
    ("openai", {"api_key": "sk-test-abcdefgh", "model": "gpt 4"}, "model"),
    ("openai", {"api_key": "sk-test-abcdefgh", "base_url": ""}, "base_url"),
    ("openai", {"api_key": "sk-test-abcdefgh", "base_url": "ftp://x.example"}, "base_url"),
    (
        "openai",
        {"api_key": "sk-test-abcdefgh", "base_url": "https://u:p@x.example"},
        "base_url",
    ),
    ("openai", {"api_key": "sk-test-abcdefgh", "secret": "x"}, "secret"),
    ("azure", {"api_key": "sk-test-abcdefgh"}, "provider"),
]


async def test_invalid_bodies_name_the_field_and_never_echo_the_key(
    world: World, strict_client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
) -> None:
    for provider, body, field in INVALID_BODIES:
        response = await strict_client.put(
            f"{PATH}/{provider}", json=body, headers=world.headers(Role.OWNER)
        )
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        # The message opens with the field (path parameters as `path.NAME`).
        assert error["message"].split(":")[0] in (field, f"path.{field}"), error["message"]
        key = body.get("api_key")
        if isinstance(key, str) and len(key) > 4:
            assert key.strip() not in response.text
            assert key.strip() not in "".join(capfd.readouterr())
    rows = await world.rows("SELECT provider FROM provider_keys WHERE provider = 'openai'")
    assert rows == []


PRIVATE_URLS = [
    "https://127.0.0.1",
    "https://127.1.2.3:8443/v1",
    "https://10.0.0.1/v1",
    "https://172.16.5.4",
    "https://192.168.1.1",
    "https://169.254.169.254/latest",
    "https://100.64.0.1",
    "https://0.0.0.0",
    "https://[::1]/v1",
    "https://[::ffff:127.0.0.1]",
    "https://[::ffff:169.254.169.254]",
    "https://[fe80::1]",
    "https://[fd00::1]",
    "https://[64:ff9b::a00:1]",
    "https://224.0.0.1",
    "https://localhost/v1",
    "https://LOCALHOST.",
    "https://2130706433",  # 127.0.0.1 written as one number: resolves to loopback
    "http://api.openai.com/v1",  # not https
]


async def test_base_url_inside_the_network_is_rejected(
    world: World, strict_client: httpx.AsyncClient
) -> None:
    for base_url in PRIVATE_URLS:
        body = {"api_key": "sk-test-abcdefgh", "base_url": base_url}
        response = await strict_client.put(
            f"{PATH}/openai", json=body, headers=world.headers(Role.OWNER)
        )
        assert response.status_code == 422, (base_url, response.text)
        assert response.json()["error"]["message"].startswith("base_url:"), base_url
    assert await world.rows("SELECT 1 FROM provider_keys WHERE provider = 'openai'") == []


async def test_verify_reports_an_accepted_key(world: World, client: httpx.AsyncClient) -> None:
    state = ModelFakeState(api_keys=[KEY])
    async with serve_anthropic(state) as base_url:
        body = {"api_key": KEY, "base_url": base_url, "model": "claude-sonnet-5-5"}
        response = await client.put(
            f"{PATH}/anthropic", params={"verify": "true"}, json=body,
            headers=world.headers(Role.OWNER),
        )  # fmt: skip
    assert response.status_code == 200, response.text
    verification = response.json()["verification"]
    assert verification["ok"] is True, verification
    assert verification["kind"] is None
    # One minimal call, with the key, to the model asked for.
    assert len(state.calls) == 1
    assert state.calls[0].model == "claude-sonnet-5-5"
    assert state.requests[0].key_suffix == KEY[-4:]


@pytest.mark.parametrize(
    ("fault", "kind"), [(None, "auth"), (429, "rate_limited"), (500, "server")]
)
async def test_verify_reports_a_failure_and_still_saves(
    fault: int | None, kind: str, world: World, client: httpx.AsyncClient
) -> None:
    state = ModelFakeState(api_keys=[KEY])
    if fault is not None:
        state.fail_next(fault, count=10)
    api_key = KEY if fault is not None else "sk-wrong-key-1234"
    async with serve_openai(state) as base_url:
        body = {"api_key": api_key, "base_url": base_url, "model": "gpt-4.1"}
        response = await client.put(
            f"{PATH}/openai", params={"verify": "true"}, json=body,
            headers=world.headers(Role.ADMIN),
        )  # fmt: skip
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["verification"]["ok"] is False
    assert saved["verification"]["kind"] == kind, saved["verification"]
    assert api_key not in response.text
    assert saved["key_last4"] == api_key[-4:]
    audit = await world.rows(
        "SELECT metadata FROM audit_events WHERE action = 'provider_key.saved'"
    )
    assert audit[0]["metadata"]["verification"] == {"ok": False, "kind": kind}


async def test_verify_against_an_unreachable_endpoint(
    world: World, client: httpx.AsyncClient
) -> None:
    body = {"api_key": "sk-test-abcdefgh", "base_url": f"http://127.0.0.1:{free_port()}/v1"}
    response = await client.put(
        f"{PATH}/openai", params={"verify": "true"}, json=body, headers=world.headers(Role.OWNER)
    )
    assert response.status_code == 200, response.text
    verification = response.json()["verification"]
    assert verification["ok"] is False
    assert verification["kind"] == "connection", verification
