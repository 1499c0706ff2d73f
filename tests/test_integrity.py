"""The data model's integrity rules, enforced by the database for every role, owner included."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import psycopg.errors
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db import SystemContext, system_session
from app.models import Installation, Repository, Run, UsageRecord
from app.models.review import TERMINAL_RUN_STATUSES
from tests.support.factories import WorkspaceGraph, make_workspace_graph


@pytest.fixture
async def graph(sessionmaker: async_sessionmaker[AsyncSession]) -> WorkspaceGraph:
    return await make_workspace_graph(sessionmaker, "initech")


@pytest.fixture
async def owner(owner_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The tables' owner, in system context: privileges and RLS do not stop it, triggers do."""
    async with owner_engine.connect() as connection:
        await connection.execute(
            text("SELECT set_config('sentinel.system_context', 'test', false)")
        )
        await connection.commit()
        yield connection
        await connection.rollback()
        await connection.execute(text("RESET sentinel.system_context"))
        await connection.commit()


async def _rejected(connection: AsyncConnection, sql: str, **params: object) -> str:
    with pytest.raises(DBAPIError) as raised:
        await connection.execute(text(sql), params)
    await connection.rollback()
    assert isinstance(raised.value.orig, psycopg.errors.RestrictViolation), raised.value
    return str(raised.value.orig)


@pytest.mark.parametrize("table", ["findings", "annotations", "usage_records", "audit_events"])
async def test_append_only_tables_reject_update_and_delete(
    table: str, graph: WorkspaceGraph, owner: AsyncConnection
) -> None:
    assert (await owner.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() >= 1
    message = await _rejected(owner, f"UPDATE {table} SET created_at = created_at")
    assert "append-only" in message
    await _rejected(owner, f"DELETE FROM {table}")
    assert (await owner.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() >= 1


@pytest.mark.parametrize("table", ["workspaces", "repositories", "users"])
async def test_soft_deleted_tables_reject_delete(
    table: str, graph: WorkspaceGraph, owner: AsyncConnection
) -> None:
    message = await _rejected(owner, f"DELETE FROM {table}")
    assert "soft deleted" in message
    # Soft deletion itself works.
    result = await owner.execute(text(f"UPDATE {table} SET deleted_at = now()"))
    assert result.rowcount >= 1  # type: ignore[attr-defined]
    await owner.rollback()


async def test_run_changes_until_terminal_then_freezes(
    graph: WorkspaceGraph, owner: AsyncConnection
) -> None:
    run = {"id": graph.run_id}
    result = await owner.execute(
        text("UPDATE runs SET status = 'completed', completed_at = now() WHERE id = :id"), run
    )
    assert result.rowcount == 1  # type: ignore[attr-defined]
    await owner.commit()
    message = await _rejected(owner, "UPDATE runs SET status = 'running' WHERE id = :id", **run)
    assert "finished run cannot change" in message
    await _rejected(owner, "UPDATE runs SET metrics = '{}'::jsonb WHERE id = :id", **run)
    await _rejected(owner, "DELETE FROM runs WHERE id = :id", **run)


@pytest.mark.parametrize("status", sorted(TERMINAL_RUN_STATUSES))
async def test_every_terminal_status_freezes_a_run(
    status: str, graph: WorkspaceGraph, owner: AsyncConnection
) -> None:
    await owner.execute(
        text("UPDATE runs SET status = :status WHERE id = :id"),
        {"status": status, "id": graph.run_id},
    )
    await owner.commit()
    await _rejected(
        owner, "UPDATE runs SET status_reason = 'again' WHERE id = :id", id=graph.run_id
    )


async def test_what_a_run_reviews_cannot_change(
    graph: WorkspaceGraph, owner: AsyncConnection
) -> None:
    await _rejected(owner, "UPDATE runs SET head_sha = 'b' WHERE id = :id", id=graph.run_id)


async def _insert_expecting_unique_violation(
    sessionmaker: async_sessionmaker[AsyncSession], row: object
) -> None:
    with pytest.raises(IntegrityError) as raised:
        async with system_session(sessionmaker, SystemContext.PROVISIONING) as session:
            session.add(row)
    assert isinstance(raised.value.orig, psycopg.errors.UniqueViolation)


async def test_natural_keys_are_unique(
    graph: WorkspaceGraph, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with system_session(sessionmaker, SystemContext.ROLLUP) as session:
        installation = (await session.execute(text("SELECT * FROM installations"))).mappings().one()
        repository = (await session.execute(text("SELECT * FROM repositories"))).mappings().one()
        run = (await session.execute(text("SELECT * FROM runs"))).mappings().one()
    ws = graph.workspace_id
    await _insert_expecting_unique_violation(
        sessionmaker,
        Installation(
            workspace_id=ws,
            provider_id=installation["provider_id"],
            external_id=installation["external_id"],
        ),
    )
    await _insert_expecting_unique_violation(
        sessionmaker,
        Repository(
            workspace_id=ws,
            installation_id=repository["installation_id"],
            external_id=repository["external_id"],
            name="dup",
        ),
    )
    await _insert_expecting_unique_violation(
        sessionmaker, UsageRecord(workspace_id=ws, run_id=run["id"], type="review", quantity=1)
    )
    automatic = {
        "workspace_id": ws,
        "repository_id": run["repository_id"],
        "external_reference": run["external_reference"],
        "trigger": "pull_request.synchronize",
        "pull_request_number": run["pull_request_number"],
        "head_sha": run["head_sha"],
    }
    await _insert_expecting_unique_violation(sessionmaker, Run(kind="automatic", **automatic))
    # People may ask for the same head to be reviewed again: manual runs are not deduplicated.
    async with system_session(sessionmaker, SystemContext.PROVISIONING) as session:
        session.add_all([Run(kind="manual", **automatic), Run(kind="manual", **automatic)])


async def test_rows_cannot_point_into_another_workspace(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    a = await make_workspace_graph(sessionmaker, "alpha")
    b = await make_workspace_graph(sessionmaker, "beta")
    with pytest.raises(IntegrityError) as raised:
        async with system_session(sessionmaker, SystemContext.PROVISIONING) as session:
            session.add(
                Run(
                    workspace_id=a.workspace_id,
                    repository_id=b.repository_id,  # B's repository under A's workspace
                    external_reference="x",
                    kind="manual",
                    trigger="test",
                    pull_request_number=1,
                    head_sha=uuid.uuid4().hex,
                )
            )
    assert isinstance(raised.value.orig, psycopg.errors.ForeignKeyViolation)


async def test_reference_rows_ship_with_the_migrations(owner: AsyncConnection) -> None:
    providers = (await owner.execute(text("SELECT slug FROM providers"))).scalars().all()
    assert "github" in providers
    plans = dict((await owner.execute(text("SELECT name, limits FROM plans"))).all())
    assert set(plans) == {"free", "team", "enterprise"}
    for limits in plans.values():
        assert set(limits) == {"reviews_per_month", "repositories", "files_per_review"}
    assert plans["free"]["reviews_per_month"] < plans["team"]["reviews_per_month"]
