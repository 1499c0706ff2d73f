"""The review job's plain-SQL transactions (app/direct_db.py) keep the rules of app/db.py:
the runtime role, RLS scoped per transaction, nothing leaking to the connection's next user."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg.errors
import pytest

from app.config import Settings
from app.db import RUNTIME_ROLE
from app.direct_db import DirectDatabase
from tests.support.factories import WorkspaceGraph


@pytest.fixture
async def direct(settings: Settings) -> AsyncIterator[DirectDatabase]:
    # One connection: every transaction below reuses the previous one's connection.
    database = DirectDatabase(settings.runtime_database_url, size=1)
    yield database
    await database.close()


async def _visible_runs(direct: DirectDatabase, graph: WorkspaceGraph) -> set[str]:
    async with direct.tenant(graph.workspace_id) as connection:
        # No workspace filter in the statement: only RLS stands between the workspaces.
        cursor = await connection.execute("SELECT id::text FROM runs")
        return {row[0] for row in await cursor.fetchall()}


async def test_runs_as_the_runtime_role_and_sees_only_its_workspace(
    direct: DirectDatabase, two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph]
) -> None:
    acme, globex = two_workspaces
    async with direct.tenant(acme.workspace_id) as connection:
        cursor = await connection.execute("SELECT current_user")
        assert await cursor.fetchone() == (RUNTIME_ROLE,)
    assert await _visible_runs(direct, acme) == {str(acme.run_id)}
    # Same connection, next transaction: the other workspace's scope, nothing of the first.
    assert await _visible_runs(direct, globex) == {str(globex.run_id)}


async def test_scope_ends_with_the_transaction(
    direct: DirectDatabase, two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph]
) -> None:
    acme, _ = two_workspaces
    await _visible_runs(direct, acme)
    async with direct._pool.connection() as connection:  # the same (only) connection
        cursor = await connection.execute(
            "SELECT current_setting('sentinel.workspace_id', true), count(*) FROM runs"
        )
        assert await cursor.fetchone() in {("", 0), (None, 0)}


async def test_a_failing_block_rolls_back_and_the_connection_stays_usable(
    direct: DirectDatabase, two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph]
) -> None:
    acme, _ = two_workspaces

    async def fail_midway() -> None:
        async with direct.tenant(acme.workspace_id) as connection:
            await connection.execute(
                "UPDATE runs SET status_reason = 'changed' WHERE id = %s", (acme.run_id,)
            )
            raise RuntimeError("the job failed midway")

    async def truncate() -> None:
        async with direct.tenant(acme.workspace_id) as connection:
            await connection.execute("TRUNCATE runs")  # the runtime role may not

    with pytest.raises(RuntimeError):
        await fail_midway()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await truncate()
    async with direct.tenant(acme.workspace_id) as connection:
        cursor = await connection.execute(
            "SELECT status_reason FROM runs WHERE id = %s", (acme.run_id,)
        )
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] != "changed"
