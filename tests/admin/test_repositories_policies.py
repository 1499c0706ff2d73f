"""Repositories (enable/disable), their settings documents, and versioned policies."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.models.identity import Role
from tests.admin.conftest import World

WS = "/v1/workspaces/acme"


async def test_disable_and_enable_are_audited(world: World, client: httpx.AsyncClient) -> None:
    path = f"{WS}/repositories/{world.acme.repository_id}"
    headers = world.headers(Role.ADMIN)
    response = await client.patch(path, json={"is_enabled": False}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["is_enabled"] is False
    listed = (await client.get(f"{WS}/repositories", headers=headers)).json()["repositories"]
    assert [repo["is_enabled"] for repo in listed] == [False]
    # The same value again changes nothing and records nothing.
    await client.patch(path, json={"is_enabled": False}, headers=headers)
    await client.patch(path, json={"is_enabled": True}, headers=headers)
    events = await world.rows(
        "SELECT action, resource_id, metadata FROM audit_events "
        "WHERE resource_type = 'repository' ORDER BY id"
    )
    assert [event["action"] for event in events] == ["repository.disabled", "repository.enabled"]
    assert events[0]["resource_id"] == str(world.acme.repository_id)
    assert events[0]["metadata"]["after"] == {"is_enabled": False}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "is_enabled"),
        ({"is_enabled": "yes"}, "is_enabled"),
        ({"is_enabled": 1}, "is_enabled"),
        ({"is_enabled": True, "name": "x"}, "name"),
    ],
)
async def test_patch_repository_validation(
    body: dict[str, Any], field: str, world: World, client: httpx.AsyncClient
) -> None:
    response = await client.patch(
        f"{WS}/repositories/{world.acme.repository_id}", json=body,
        headers=world.headers(Role.OWNER),
    )  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(f"{field}:")


async def test_settings_round_trip_and_audit(world: World, client: httpx.AsyncClient) -> None:
    path = f"{WS}/repositories/{world.acme.repository_id}/settings"
    document = {
        "min_severity": "critical",
        "path_filters": ["src/**", "!src/vendor/**"],
        "path_instructions": [{"path": "src/payments/**", "instructions": "Check rounding."}],
        "max_comments": 10,
        "categories": ["bug", "security"],
        "provider": "openai",
        "model": "gpt-4.1",
    }
    response = await client.put(path, json=document, headers=world.headers(Role.OWNER))
    assert response.status_code == 200, response.text
    assert response.json() == document
    assert (await client.get(path, headers=world.headers(Role.MEMBER))).json() == document
    stored = await world.rows(
        "SELECT settings FROM repository_settings WHERE repository_id = :r",
        r=world.acme.repository_id,
    )
    assert stored == [{"settings": document}]
    audit = await world.rows(
        "SELECT metadata FROM audit_events WHERE action = 'repository_settings.replaced'"
    )
    assert audit[0]["metadata"] == {"before": {"min_severity": "warning"}, "after": document}
    # A PUT replaces the whole document.
    response = await client.put(path, json={"drafts": True}, headers=world.headers(Role.ADMIN))
    assert response.json() == {"drafts": True}


SETTINGS_ERRORS: list[tuple[dict[str, Any], str]] = [
    ({"instructions": "a\x00b"}, "instructions"),
    ({"path_instructions": [{"path": "a", "instructions": "\x00"}]}, "path_instructions"),
    ({"min_severity": "fatal"}, "min_severity"),
    ({"max_comments": 101}, "max_comments"),
    ({"max_comments": -1}, "max_comments"),
    ({"min_confidence": 1.5}, "min_confidence"),
    ({"categories": ["bugs"]}, "categories.0"),
    ({"path_instructions": [{"path": "", "instructions": "x"}]}, "path_instructions.0.path"),
    ({"path_instructions": [{"path": "a"}]}, "path_instructions.0.instructions"),
    ({"instructions": "x" * 4001}, "instructions"),
    ({"provider": "azure"}, "provider"),
    ({"model": "has spaces"}, "model"),
    ({"base_url": "https://example.com"}, "base_url"),
    ({"enabled": "sometimes"}, "enabled"),
]


async def test_settings_validation_names_the_field(world: World, client: httpx.AsyncClient) -> None:
    path = f"{WS}/repositories/{world.acme.repository_id}/settings"
    for body, field in SETTINGS_ERRORS:
        response = await client.put(path, json=body, headers=world.headers(Role.OWNER))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "invalid_request"
        assert response.json()["error"]["message"].startswith(f"{field}:"), response.text
    # Nothing changed.
    assert (await client.get(path, headers=world.headers(Role.OWNER))).json() == {
        "min_severity": "warning"
    }


async def test_settings_body_that_is_not_an_object(world: World, client: httpx.AsyncClient) -> None:
    path = f"{WS}/repositories/{world.acme.repository_id}/settings"
    for content in (b"[]", b'"x"', b"{", b""):
        response = await client.put(
            path, content=content,
            headers={**world.headers(Role.OWNER), "Content-Type": "application/json"},
        )  # fmt: skip
        assert response.status_code == 422, (content, response.text)


async def test_policy_versions(world: World, client: httpx.AsyncClient) -> None:
    headers = world.headers(Role.ADMIN)
    first = await client.post(
        f"{WS}/policies",
        json={"name": "strict", "config": {"min_severity": "warning", "max_model_calls": 5}},
        headers=headers,
    )
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    second = await client.post(
        f"{WS}/policies", json={"name": "strict", "config": {"fail_on_critical": True}},
        headers=headers,
    )  # fmt: skip
    assert second.json()["version"] == 2
    assert second.json()["config"] == {"fail_on_critical": True}
    listed = (await client.get(f"{WS}/policies", headers=headers)).json()["policies"]
    assert [(p["name"], p["version"]) for p in listed] == [("default", 1), ("strict", 2)]
    versions = (await client.get(f"{WS}/policies/strict/versions", headers=headers)).json()
    assert [p["version"] for p in versions["policies"]] == [2, 1]
    old = (await client.get(f"{WS}/policies/strict/versions/1", headers=headers)).json()
    assert old["config"] == {"min_severity": "warning", "max_model_calls": 5}
    newest = (await client.get(f"{WS}/policies/strict", headers=headers)).json()
    assert newest["version"] == 2
    for missing in ("/policies/strict/versions/3", "/policies/lenient", "/policies/x/versions"):
        response = await client.get(WS + missing, headers=headers)
        assert response.status_code == 404
    audit = await world.rows(
        "SELECT metadata FROM audit_events WHERE action = 'policy.version_created' ORDER BY id"
    )
    assert [(e["metadata"]["name"], e["metadata"]["version"]) for e in audit] == [
        ("strict", 1), ("strict", 2),
    ]  # fmt: skip


async def test_concurrent_posts_get_distinct_versions(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = world.headers(Role.OWNER)

    async def post(index: int) -> httpx.Response:
        return await client.post(
            f"{WS}/policies",
            json={"name": "default", "config": {"max_comments": index}},
            headers=headers,
        )

    responses = await asyncio.gather(*(post(index) for index in range(12)))
    assert [r.status_code for r in responses] == [201] * 12, [r.text for r in responses]
    versions = sorted(r.json()["version"] for r in responses)
    assert versions == list(range(2, 14))  # the graph's default is version 1
    # Each version holds the document its POST sent.
    for response in responses:
        body = response.json()
        got = await client.get(f"{WS}/policies/default/versions/{body['version']}", headers=headers)
        assert got.json()["config"] == body["config"]


POLICY_ERRORS: list[tuple[dict[str, Any], str]] = [
    ({"name": "p", "config": {"path_filters": ["src/\x00"]}}, "config.path_filters"),
    ({"config": {}}, "name"),
    ({"name": "", "config": {}}, "name"),
    ({"name": "has space", "config": {}}, "name"),
    ({"name": "x" * 101, "config": {}}, "name"),
    ({"name": "p"}, "config"),
    ({"name": "p", "config": {"max_model_calls": 0}}, "config.max_model_calls"),
    ({"name": "p", "config": {"max_input_tokens": 5}}, "config.max_input_tokens"),
    ({"name": "p", "config": {"min_severity": "loud"}}, "config.min_severity"),
    ({"name": "p", "config": {"unknown": 1}}, "config.unknown"),
    ({"name": "p", "config": [], "x": 1}, "config"),
]


async def test_policy_validation_names_the_field(world: World, client: httpx.AsyncClient) -> None:
    for body, field in POLICY_ERRORS:
        response = await client.post(f"{WS}/policies", json=body, headers=world.headers(Role.OWNER))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["message"].startswith(f"{field}:"), response.text
    assert [row["name"] for row in await world.rows("SELECT name FROM policies")] == [
        "default", "default",
    ]  # fmt: skip
