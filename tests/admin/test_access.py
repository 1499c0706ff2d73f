"""Tokens, members and invitations: shown once, masked, no privilege above one's own, the
last owner kept, invitations accepted exactly once."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import httpx
import pytest

from app.models.identity import Role
from tests.admin.conftest import World
from tests.admin.helpers import add_invitation, add_member

WS = "/v1/workspaces/acme"


async def test_token_is_shown_once_stored_hashed_and_works(
    world: World, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        f"{WS}/tokens", json={"name": "billing export", "role": "billing"},
        headers=world.headers(Role.ADMIN),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    created = response.json()
    token = created["token"]
    assert created["prefix"] == token[:12]
    rows = await world.rows("SELECT * FROM api_tokens WHERE id = :id", id=created["id"])
    assert bytes(rows[0]["token_hash"]) == hashlib.sha256(token.encode()).digest()
    listed = (await client.get(f"{WS}/tokens", headers=world.headers(Role.OWNER))).json()
    assert token not in str(listed)
    mine = next(t for t in listed["tokens"] if t["id"] == created["id"])
    assert mine == {key: value for key, value in created.items() if key != "token"}
    # The new token works, with its role.
    billing = {"Authorization": f"Bearer {token}"}
    assert (await client.get(f"{WS}/usage", headers=billing)).status_code == 200
    assert (await client.get(f"{WS}/provider-keys", headers=billing)).status_code == 403
    audit = await world.rows(
        "SELECT actor_type, actor_id FROM audit_events WHERE action = 'api_token.created' "
        "AND resource_id = :id", id=created["id"],
    )  # fmt: skip
    admin_id = (await world.rows("SELECT id FROM api_tokens WHERE name = 'test admin'"))[0]["id"]
    assert audit == [{"actor_type": "token", "actor_id": str(admin_id)}]


async def test_no_one_grants_above_their_role(world: World, client: httpx.AsyncClient) -> None:
    admin = world.headers(Role.ADMIN)
    response = await client.post(f"{WS}/tokens", json={"name": "x", "role": "owner"}, headers=admin)
    assert response.status_code == 403
    owner_token_id = (await world.rows("SELECT id FROM api_tokens WHERE name = 'test owner'"))[0][
        "id"
    ]
    response = await client.delete(f"{WS}/tokens/{owner_token_id}", headers=admin)
    assert response.status_code == 403
    response = await client.post(
        f"{WS}/invitations", json={"email": "boss@example.test", "role": "owner"}, headers=admin
    )
    assert response.status_code == 403
    owner = world.headers(Role.OWNER)
    response = await client.post(f"{WS}/tokens", json={"name": "x", "role": "owner"}, headers=owner)
    assert response.status_code == 201


async def _owner_member_id(world: World) -> str:
    rows = await world.rows(
        "SELECT id FROM team_members WHERE workspace_id = :ws AND role = 'owner'",
        ws=world.acme.workspace_id,
    )
    return str(rows[0]["id"])


async def test_the_last_owner_stays(world: World, client: httpx.AsyncClient) -> None:
    owner = world.headers(Role.OWNER)
    only_owner = await _owner_member_id(world)
    for method, body in (("PATCH", {"role": "admin"}), ("DELETE", None)):
        response = await client.request(
            method, f"{WS}/members/{only_owner}", json=body, headers=owner
        )
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "last_owner"
    # With a second owner, the first can step down.
    second = await add_member(world.sessionmaker, world.acme, "member")
    response = await client.patch(f"{WS}/members/{second}", json={"role": "owner"}, headers=owner)
    assert response.status_code == 200
    assert response.json()["role"] == "owner"
    response = await client.patch(
        f"{WS}/members/{only_owner}", json={"role": "admin"}, headers=owner
    )
    assert response.status_code == 200, response.text
    response = await client.delete(f"{WS}/members/{second}", headers=owner)
    assert response.status_code == 409  # now the last owner
    roles = await world.rows(
        "SELECT role, count(*) AS n FROM team_members WHERE workspace_id = :ws GROUP BY role",
        ws=world.acme.workspace_id,
    )
    assert {row["role"]: row["n"] for row in roles} == {"owner": 1, "admin": 1}


async def test_two_owners_demoted_at_once_leave_one(
    world: World, client: httpx.AsyncClient
) -> None:
    first = await _owner_member_id(world)
    second = str(await add_member(world.sessionmaker, world.acme, "owner"))
    owner = world.headers(Role.OWNER)
    responses = await asyncio.gather(
        *(
            client.patch(f"{WS}/members/{member}", json={"role": "member"}, headers=owner)
            for member in (first, second)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    owners = await world.rows(
        "SELECT 1 FROM team_members WHERE workspace_id = :ws AND role = 'owner'",
        ws=world.acme.workspace_id,
    )
    assert len(owners) == 1


async def test_admins_manage_members_but_not_owners(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = world.headers(Role.ADMIN)
    owner_member = await _owner_member_id(world)
    response = await client.patch(
        f"{WS}/members/{owner_member}", json={"role": "member"}, headers=admin
    )
    assert response.status_code == 403
    assert (await client.delete(f"{WS}/members/{owner_member}", headers=admin)).status_code == 403
    member = await add_member(world.sessionmaker, world.acme, "member")
    response = await client.patch(f"{WS}/members/{member}", json={"role": "owner"}, headers=admin)
    assert response.status_code == 403
    response = await client.patch(f"{WS}/members/{member}", json={"role": "admin"}, headers=admin)
    assert response.status_code == 200
    listed = (await client.get(f"{WS}/members", headers=world.headers(Role.MEMBER))).json()
    assert sorted(m["role"] for m in listed["members"]) == ["admin", "owner"]
    events = await world.rows(
        "SELECT metadata FROM audit_events WHERE action = 'member.role_changed'"
    )
    assert events[0]["metadata"]["before"] == {"role": "member"}
    assert events[0]["metadata"]["after"] == {"role": "admin"}


async def test_invitation_accepted_once(world: World, client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{WS}/invitations", json={"email": " Dev@Example.TEST ", "role": "admin"},
        headers=world.headers(Role.OWNER),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation["email"] == "dev@example.test"
    assert invitation["status"] == "pending"
    token = invitation["token"]
    stored = await world.rows("SELECT token FROM invitations WHERE id = :id", id=invitation["id"])
    assert bytes(stored[0]["token"]) == hashlib.sha256(token.encode()).digest()
    # A second invitation to the same person while one is pending: 409.
    again = await client.post(
        f"{WS}/invitations", json={"email": "dev@example.test", "role": "member"},
        headers=world.headers(Role.OWNER),
    )  # fmt: skip
    assert again.status_code == 409

    accepted = await client.post(
        "/v1/invitations/accept",
        json={"token": token, "name": "Dev Person", "github_login": "dev-person"},
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["workspace"]["slug"] == "acme"
    assert body["member"]["role"] == "admin"
    assert body["member"]["github_login"] == "dev-person"
    assert body["member"]["email"] == "dev@example.test"
    # The new member's token works with the invited role.
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.get(f"{WS}/provider-keys", headers=headers)).status_code == 200
    listed = (await client.get(f"{WS}/invitations", headers=headers)).json()["invitations"]
    assert next(i for i in listed if i["id"] == invitation["id"])["status"] == "accepted"

    twice = await client.post("/v1/invitations/accept", json={"token": token})
    assert twice.status_code == 410
    members = (await client.get(f"{WS}/members", headers=headers)).json()["members"]
    assert len(members) == 2
    actions = {row["action"] for row in await world.rows("SELECT action FROM audit_events")}
    assert {"invitation.created", "invitation.accepted"} <= actions
    # An existing member cannot be invited again.
    response = await client.post(
        f"{WS}/invitations", json={"email": "dev@example.test", "role": "member"},
        headers=world.headers(Role.OWNER),
    )  # fmt: skip
    assert response.status_code == 409


async def test_accepting_a_revoked_expired_or_unknown_invitation(
    world: World, client: httpx.AsyncClient
) -> None:
    invitation_id, revoked = await add_invitation(world.sessionmaker, world.acme)
    owner = world.headers(Role.OWNER)
    response = await client.delete(f"{WS}/invitations/{invitation_id}", headers=owner)
    assert response.status_code == 204
    _, expired = await add_invitation(
        world.sessionmaker, world.acme, expires_in=timedelta(seconds=-1)
    )
    for token, status in ((revoked, 410), (expired, 410), ("inv_nope", 404), ("", 422)):
        response = await client.post("/v1/invitations/accept", json={"token": token})
        assert response.status_code == status, (token, response.text)
    statuses = {
        i["id"]: i["status"]
        for i in (await client.get(f"{WS}/invitations", headers=owner)).json()["invitations"]
    }
    assert statuses[str(invitation_id)] == "revoked"
    assert "expired" in statuses.values()


async def test_concurrent_accepts_make_one_member(world: World, client: httpx.AsyncClient) -> None:
    _, token = await add_invitation(world.sessionmaker, world.acme)
    responses = await asyncio.gather(
        *(client.post("/v1/invitations/accept", json={"token": token}) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [201, 410, 410, 410]
    members = await world.rows(
        "SELECT 1 FROM team_members WHERE workspace_id = :ws", ws=world.acme.workspace_id
    )
    assert len(members) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "member"}, "email"),
        ({"email": "not-an-email", "role": "member"}, "email"),
        ({"email": "a@b.test", "role": "root"}, "role"),
        ({"email": "a@b.test", "role": "member", "expires_in_days": 0}, "expires_in_days"),
        ({"email": "a@b.test", "role": "member", "expires_in_days": 31}, "expires_in_days"),
        ({"email": "a\x00@b.test", "role": "member"}, "email"),
    ],
)
async def test_invitation_validation(
    body: dict[str, object], field: str, world: World, client: httpx.AsyncClient
) -> None:
    response = await client.post(f"{WS}/invitations", json=body, headers=world.headers(Role.OWNER))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "member"}, "name"),
        ({"name": "", "role": "member"}, "name"),
        ({"name": "ci", "role": "superuser"}, "role"),
        ({"name": "ci"}, "role"),
        ({"name": "c\x00i", "role": "member"}, "name"),
    ],
)
async def test_token_validation(
    body: dict[str, object], field: str, world: World, client: httpx.AsyncClient
) -> None:
    response = await client.post(f"{WS}/tokens", json=body, headers=world.headers(Role.OWNER))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(f"{field}:")
