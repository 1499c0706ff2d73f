"""A member's tokens follow their membership: demoting them re-scopes or revokes every token
they hold (not only the one their invitation gave them), removing them revokes them all."""

from __future__ import annotations

import httpx

from app.models.identity import Role
from tests.admin.conftest import World

WS = "/v1/workspaces/acme"


async def _join_as(world: World, client: httpx.AsyncClient, role: str) -> tuple[str, str]:
    """(the new member's id, their invitation token)."""
    invited = await client.post(
        f"{WS}/invitations", json={"email": "pat@example.test", "role": role},
        headers=world.headers(Role.OWNER),
    )  # fmt: skip
    assert invited.status_code == 201, invited.text
    accepted = await client.post(
        "/v1/invitations/accept", json={"token": invited.json()["token"], "name": "Pat"}
    )
    assert accepted.status_code == 201, accepted.text
    return accepted.json()["member"]["id"], accepted.json()["token"]


async def _mint(client: httpx.AsyncClient, token: str, role: str) -> str:
    minted = await client.post(
        f"{WS}/tokens", json={"name": f"ci {role}", "role": role},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert minted.status_code == 201, minted.text
    return str(minted.json()["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_demoting_an_admin_rescopes_or_revokes_every_token_they_hold(
    world: World, client: httpx.AsyncClient
) -> None:
    member_id, invitation_token = await _join_as(world, client, "admin")
    admin_ci = await _mint(client, invitation_token, "admin")
    billing_ci = await _mint(client, invitation_token, "billing")
    member_ci = await _mint(client, invitation_token, "member")
    for token in (invitation_token, admin_ci):
        assert (await client.get(f"{WS}/provider-keys", headers=_bearer(token))).status_code == 200

    demoted = await client.patch(
        f"{WS}/members/{member_id}", json={"role": "member"}, headers=world.headers(Role.OWNER)
    )
    assert demoted.status_code == 200, demoted.text

    # Admin tokens now carry the member role: reading runs works, admin pages do not.
    for token in (invitation_token, admin_ci, member_ci):
        assert (await client.get(f"{WS}/runs", headers=_bearer(token))).status_code == 200
        admin_only = await client.get(f"{WS}/provider-keys", headers=_bearer(token))
        assert admin_only.status_code == 403
    # A billing token is not within a member's role: revoked.
    assert (await client.get(f"{WS}/usage", headers=_bearer(billing_ci))).status_code == 401
    actions = [r["action"] for r in await world.rows("SELECT action FROM audit_events")]
    assert actions.count("api_token.rescoped") == 2
    assert "api_token.revoked" in actions


async def test_removing_a_member_revokes_every_token_they_hold(
    world: World, client: httpx.AsyncClient
) -> None:
    member_id, invitation_token = await _join_as(world, client, "admin")
    minted = await _mint(client, invitation_token, "member")
    removed = await client.delete(f"{WS}/members/{member_id}", headers=world.headers(Role.OWNER))
    assert removed.status_code == 204, removed.text
    for token in (invitation_token, minted):
        assert (await client.get(f"{WS}/runs", headers=_bearer(token))).status_code == 401
    # Tokens the operator minted (no holder) are untouched.
    assert (await client.get(f"{WS}/runs", headers=world.headers(Role.ADMIN))).status_code == 200
