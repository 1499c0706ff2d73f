"""Every /v1 workspace endpoint against every role, and against another workspace.

For each endpoint: each role in the CONTRACT table's "who" gets the success status, every
other role 403; a token of another workspace gets 404 (never 403, never data), and so does
a resource id of another workspace under one's own workspace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.db import tenant_session
from app.models.identity import Role
from app.provider_keys.service import save_provider_key
from app.security.encryption import KeyRing
from tests.admin.conftest import World, mint
from tests.admin.helpers import add_invitation, add_member
from tests.support.factories import WorkspaceGraph

ANY = frozenset(Role)
READERS = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
OWNERS = frozenset({Role.OWNER})
USAGE = frozenset({Role.OWNER, Role.ADMIN, Role.BILLING})

Prepare = Callable[[World, WorkspaceGraph], Awaitable[dict[str, str]]]


async def _ids(_world: World, graph: WorkspaceGraph) -> dict[str, str]:
    return {"repo": str(graph.repository_id), "run": str(graph.run_id)}


async def _member(world: World, graph: WorkspaceGraph) -> dict[str, str]:
    return {"member": str(await add_member(world.sessionmaker, graph, "member"))}


async def _token(world: World, graph: WorkspaceGraph) -> dict[str, str]:
    token = await mint(world.sessionmaker, graph, Role.MEMBER)
    rows = await world.rows("SELECT id FROM api_tokens WHERE token_prefix = :p", p=token[:12])
    return {"token": str(rows[0]["id"])}


async def _invitation(world: World, graph: WorkspaceGraph) -> dict[str, str]:
    invitation_id, _ = await add_invitation(world.sessionmaker, graph)
    return {"invitation": str(invitation_id)}


async def _openai_key(world: World, graph: WorkspaceGraph) -> dict[str, str]:
    async with tenant_session(world.sessionmaker, graph.workspace_id) as session:
        await save_provider_key(
            session,
            KeyRing({1: b"k" * 32}),
            workspace_id=graph.workspace_id,
            provider="openai",
            api_key=SecretStr("sk-test-matrix"),
        )
    return {}


_emails = count(1)


def _email() -> dict[str, Any]:
    return {"email": f"someone{next(_emails)}@example.test", "role": "member"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    allowed: frozenset[Role]
    ok: int = 200
    body: dict[str, Any] | Callable[[], dict[str, Any]] | None = None
    prepare: Prepare = _ids
    # Whether the path names a resource by id, so another workspace's id can be tried.
    foreign_id: bool = False
    params: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


W = "/v1/workspaces/{ws}"
CASES = [
    Case("GET", W, ANY),
    # PUT /plan takes billing's operator token, never a workspace's (test_workspace_runs.py).
    Case("GET", W + "/repositories", ANY),
    Case("PATCH", W + "/repositories/{repo}", MANAGERS, body={"is_enabled": False},
         foreign_id=True),
    Case("GET", W + "/repositories/{repo}/settings", ANY, foreign_id=True),
    Case("PUT", W + "/repositories/{repo}/settings", MANAGERS,
         body={"min_severity": "critical", "model": "claude-sonnet-4-5"}, foreign_id=True),
    Case("GET", W + "/policies", ANY),
    Case("POST", W + "/policies", MANAGERS, ok=201,
         body={"name": "strict", "config": {"min_severity": "warning"}}),
    Case("GET", W + "/policies/default", ANY),
    Case("GET", W + "/policies/default/versions", ANY),
    Case("GET", W + "/policies/default/versions/1", ANY),
    Case("GET", W + "/provider-keys", MANAGERS),
    Case("PUT", W + "/provider-keys/openai", MANAGERS, body={"api_key": "sk-test-abcdefgh"}),
    Case("DELETE", W + "/provider-keys/openai", MANAGERS, ok=204, prepare=_openai_key),
    Case("GET", W + "/tokens", MANAGERS),
    Case("POST", W + "/tokens", MANAGERS, ok=201, body={"name": "ci", "role": "member"}),
    Case("DELETE", W + "/tokens/{token}", MANAGERS, ok=204, prepare=_token, foreign_id=True),
    Case("GET", W + "/members", READERS),
    Case("PATCH", W + "/members/{member}", MANAGERS, body={"role": "billing"}, prepare=_member,
         foreign_id=True),
    Case("DELETE", W + "/members/{member}", MANAGERS, ok=204, prepare=_member, foreign_id=True),
    Case("GET", W + "/invitations", MANAGERS),
    Case("POST", W + "/invitations", MANAGERS, ok=201, body=_email),
    Case("DELETE", W + "/invitations/{invitation}", MANAGERS, ok=204, prepare=_invitation,
         foreign_id=True),
    Case("GET", W + "/runs", ANY),
    Case("GET", W + "/runs/{run}", ANY, foreign_id=True),
    Case("GET", W + "/usage", USAGE, params={"group_by": "repository"}),
    Case("GET", W + "/usage/records", USAGE),
    Case("GET", W + "/metrics/daily", ANY, params={"start": "2026-10-01", "end": "2026-12-01"}),
    Case("GET", W + "/audit-events", MANAGERS),
]  # fmt: skip


def _body(case: Case) -> dict[str, Any] | None:
    return case.body() if callable(case.body) else case.body


async def _call(
    client: httpx.AsyncClient, case: Case, token: str, ws: str, ids: dict[str, str]
) -> httpx.Response:
    return await client.request(
        case.method,
        case.path.format(ws=ws, **ids),
        json=_body(case),
        params=case.params,
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_roles(case: Case, world: World, client: httpx.AsyncClient) -> None:
    outcomes = {}
    for role in Role:
        ids = await case.prepare(world, world.acme)
        response = await _call(client, case, world.tokens[role], "acme", ids)
        outcomes[role] = response.status_code
        if response.status_code == 403:
            assert response.json()["error"]["code"] == "forbidden"
    expected = {role: case.ok if role in case.allowed else 403 for role in Role}
    assert outcomes == expected


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_another_workspace_is_404(
    case: Case, world: World, client: httpx.AsyncClient
) -> None:
    ids = await case.prepare(world, world.acme)
    # globex's owner asks for acme, by slug and by id: 404, no data.
    for ws in ("acme", str(world.acme.workspace_id)):
        response = await _call(client, case, world.globex_owner, ws, ids)
        assert response.status_code == 404, response.text
        assert response.json() == {
            "error": {"code": "not_found", "message": f"no workspace {ws!r}"}
        }
    # acme's tokens, every role, ask for globex: 404 too (never 403).
    for role in Role:
        response = await _call(client, case, world.tokens[role], "globex", ids)
        assert response.status_code == 404, (role, response.text)
    if case.foreign_id:
        # globex's resource under acme's own workspace path: not found in acme.
        foreign = await case.prepare(world, world.globex)
        response = await _call(client, case, world.tokens[Role.OWNER], "acme", foreign)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"


async def test_without_or_with_a_bad_token_is_401(world: World, client: httpx.AsyncClient) -> None:
    for case in CASES:
        ids = await _ids(world, world.acme)
        path = case.path.format(
            ws="acme",
            **{
                "member": "x",
                "token": "x",
                "invitation": "x",
                "repo": ids["repo"],
                "run": ids["run"],
            },
        )
        for headers in (
            {},
            {"Authorization": "Bearer snt_notatokenatall1234567"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"Authorization": "Bearer"},
        ):
            response = await client.request(case.method, path, json=_body(case), headers=headers)
            assert response.status_code == 401, (case.id, headers, response.text)
            assert response.json()["error"]["code"] == "unauthorized"


async def test_a_revoked_token_is_401(world: World, client: httpx.AsyncClient) -> None:
    headers = world.headers(Role.ADMIN)
    assert (await client.get("/v1/workspaces/acme", headers=headers)).status_code == 200
    token_id = (await world.rows("SELECT id FROM api_tokens WHERE name = 'test admin'"))[0]["id"]
    owner = world.headers(Role.OWNER)
    response = await client.delete(f"/v1/workspaces/acme/tokens/{token_id}", headers=owner)
    assert response.status_code == 204
    response = await client.get("/v1/workspaces/acme", headers=headers)
    assert response.status_code == 401
