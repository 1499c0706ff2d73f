"""The sweeper forgets console sessions a day after they ended (signed out or expired);
live sessions, and ones that ended less than a day ago, stay."""

from __future__ import annotations

from datetime import timedelta

from app.audit import Actor
from app.console.sessions import open_session
from app.db import tenant_session
from app.models.identity import Role
from app.sweeper import sweep
from app.tokens.service import Principal, create_api_token
from tests.review.conftest import World


async def test_ended_console_sessions_are_forgotten_a_day_later(world: World) -> None:
    (workspace,) = await world.hook.rows("SELECT id FROM workspaces")
    async with tenant_session(world.resources.sessionmaker, workspace["id"]) as session:
        minted = await create_api_token(
            session, workspace["id"], role=Role.ADMIN, name="t", actor=Actor("system", "tests")
        )
        principal = Principal(workspace["id"], Role.ADMIN, minted.row.id)
        for _ in range(4):
            await open_session(session, principal)
    ids = [r["id"] for r in await world.hook.rows("SELECT id FROM console_sessions ORDER BY id")]
    old, recent, signed_out_long_ago, live = ids
    await world.hook.execute(
        "UPDATE console_sessions SET expires_at = now() - interval '2 days' WHERE id = :id", id=old
    )
    await world.hook.execute(
        "UPDATE console_sessions SET expires_at = now() - interval '1 hour' WHERE id = :id",
        id=recent,
    )
    await world.hook.execute(
        "UPDATE console_sessions SET revoked_at = now() - interval '3 days' WHERE id = :id",
        id=signed_out_long_ago,
    )
    await sweep(world.resources, grace=timedelta(0))
    left = {r["id"] for r in await world.hook.rows("SELECT id FROM console_sessions")}
    assert left == {recent, live}
