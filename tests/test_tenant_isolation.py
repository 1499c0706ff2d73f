"""Tenant isolation, wall two: Postgres row-level security under the runtime role.

Every tenant table is checked for every kind of statement. Each check asserts row counts on
both sides, because a missing tenant setting makes reads return nothing silently.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg.errors
import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import (
    RUNTIME_ROLE,
    SystemContext,
    create_engine,
    create_sessionmaker,
    system_session,
    tenant_session,
)
from app.models import Base
from tests.support.factories import WorkspaceGraph

# Every table that carries workspace_id. The catalog test below fails when a table is added
# without being listed here, so each new tenant table gets these checks too.
TENANT_TABLES = [
    "teams",
    "team_members",
    "invitations",
    "connections",
    "installations",
    "repositories",
    "repository_settings",
    "runs",
    "findings",
    "annotations",
    "policies",
    "subscriptions",
    "usage_records",
    "provider_keys",
    "workspace_daily_metrics",
    "api_tokens",
    "audit_events",
    "pull_requests",
    "run_model_responses",
    "console_sessions",
]
APPEND_ONLY = {
    "findings",
    "annotations",
    "usage_records",
    "audit_events",
    "run_model_responses",
}
# Rows the runtime role may not delete at all: append-only, runs, and soft-deleted tables.
NO_DELETE = APPEND_ONLY | {"runs", "repositories", "pull_requests"}
# A column every row of the table has that an UPDATE can set to itself.
TOUCH_COLUMN = {"workspace_daily_metrics": "runs_count"}


async def _count(session: AsyncSession, table: str, where: str = "true", **params: Any) -> int:
    result = await session.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params)
    return int(result.scalar_one())


async def test_catalog_every_tenant_table_forces_rls(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    """
                    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                           (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
                    FROM pg_class c
                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id'
                    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                    """
                )
            )
        ).all()
    tables = {row[0] for row in rows}
    assert tables == set(TENANT_TABLES), "a tenant table is missing from TENANT_TABLES"
    unprotected = [row[0] for row in rows if not (row[1] and row[2] and row[3] > 0)]
    assert unprotected == []
    # Models agree with the catalog: every model with workspace_id is a protected table.
    modelled = {t.name for t in Base.metadata.tables.values() if "workspace_id" in t.c}
    assert modelled == tables


async def test_catalog_workspaces_and_users_force_rls(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
                    "WHERE relname IN ('workspaces', 'users') "
                    "AND relnamespace = 'public'::regnamespace"
                )
            )
        ).all()
    assert dict(rows) == {"workspaces": True, "users": True}


async def test_runtime_role_cannot_bypass_rls(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        user, rolsuper, rolbypassrls, owned = (
            await connection.execute(
                text(
                    """
                    SELECT current_user, r.rolsuper, r.rolbypassrls,
                           (SELECT count(*) FROM pg_class c
                            WHERE c.relowner = r.oid AND c.relnamespace = 'public'::regnamespace)
                    FROM pg_roles r WHERE r.rolname = current_user
                    """
                )
            )
        ).one()
    assert user == RUNTIME_ROLE
    assert rolsuper is False
    assert rolbypassrls is False
    assert owned == 0


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_workspace_reads_only_its_rows(
    table: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph],
) -> None:
    a, b = two_workspaces
    async with system_session(sessionmaker, SystemContext.ROLLUP) as session:
        assert await _count(session, table, "workspace_id = :ws", ws=a.workspace_id) >= 1
        assert await _count(session, table, "workspace_id = :ws", ws=b.workspace_id) >= 1
    async with tenant_session(sessionmaker, a.workspace_id) as session:
        assert await _count(session, table) >= 1
        assert await _count(session, table, "workspace_id = :ws", ws=b.workspace_id) == 0
        assert await _count(session, table, "workspace_id <> :ws", ws=a.workspace_id) == 0


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_workspace_cannot_insert_for_another(
    table: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph],
) -> None:
    a, b = two_workspaces
    columns = [c for c in Base.metadata.tables[table].c if c.identity is None]
    async with tenant_session(sessionmaker, a.workspace_id) as session:
        own = (await session.execute(text(f"SELECT * FROM {table} LIMIT 1"))).mappings().one()
    values = {c.name: own[c.name] for c in columns}
    values["workspace_id"] = b.workspace_id
    if "id" in values:
        values["id"] = uuid.uuid4()
    statement = insert(Base.metadata.tables[table]).values(values)
    with pytest.raises(ProgrammingError) as raised:
        async with tenant_session(sessionmaker, a.workspace_id) as session:
            await session.execute(statement, values)
    assert isinstance(raised.value.orig, psycopg.errors.InsufficientPrivilege)
    assert "row-level security" in str(raised.value.orig)


@pytest.mark.parametrize("table", sorted(set(TENANT_TABLES) - APPEND_ONLY))
async def test_workspace_updates_none_of_anothers_rows(
    table: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph],
) -> None:
    a, b = two_workspaces
    column = TOUCH_COLUMN.get(table, "workspace_id")
    statement = text(f"UPDATE {table} SET {column} = {column} WHERE workspace_id = :ws")
    async with tenant_session(sessionmaker, a.workspace_id) as session:
        theirs = await session.execute(statement, {"ws": b.workspace_id})
        everything = await session.execute(
            text(f"UPDATE {table} SET {column} = {column} WHERE true")
        )
        mine = await _count(session, table)
    assert theirs.rowcount == 0  # type: ignore[attr-defined]
    # The same statement does reach the workspace's own rows, and only those.
    assert everything.rowcount == mine >= 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("table", sorted(set(TENANT_TABLES) - NO_DELETE))
async def test_workspace_deletes_none_of_anothers_rows(
    table: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    owner_engine: AsyncEngine,
    two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph],
) -> None:
    a, b = two_workspaces
    async with tenant_session(sessionmaker, a.workspace_id) as session:
        theirs = await session.execute(
            text(f"DELETE FROM {table} WHERE workspace_id = :ws"), {"ws": b.workspace_id}
        )
        assert theirs.rowcount == 0  # type: ignore[attr-defined]
    async with system_session(sessionmaker, SystemContext.ROLLUP) as session:
        assert await _count(session, table, "workspace_id = :ws", ws=b.workspace_id) >= 1


@pytest.mark.parametrize("table", sorted(NO_DELETE))
async def test_runtime_role_may_not_delete_append_only_rows(
    table: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph],
) -> None:
    a, _ = two_workspaces
    with pytest.raises(DBAPIError) as raised:
        async with tenant_session(sessionmaker, a.workspace_id) as session:
            await session.execute(text(f"DELETE FROM {table}"))
    assert isinstance(raised.value.orig, psycopg.errors.InsufficientPrivilege)


async def test_no_scope_sees_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph],
) -> None:
    async with sessionmaker() as session, session.begin():
        for table in TENANT_TABLES:
            assert await _count(session, table) == 0, table


async def test_users_visible_only_to_their_workspaces(
    sessionmaker: async_sessionmaker[AsyncSession],
    two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph],
) -> None:
    a, _ = two_workspaces
    async with tenant_session(sessionmaker, a.workspace_id) as session:
        visible = (await session.execute(text("SELECT id FROM users"))).scalars().all()
        workspaces = (await session.execute(text("SELECT id FROM workspaces"))).scalars().all()
    assert visible == [a.user_id]
    assert workspaces == [a.workspace_id]


async def test_tenant_setting_does_not_survive_the_transaction(
    settings: Settings,
    two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph],
) -> None:
    a, _ = two_workspaces
    # A pool of one connection: the next transaction is certain to reuse it.
    engine = create_engine(settings, pool_size=1, max_overflow=0)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with tenant_session(sessionmaker, a.workspace_id) as session:
            tenant_pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert await _count(session, "runs") == 1
        # A plain connection from the pool, without the session hook that writes a scope.
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            setting = (
                await connection.execute(
                    text("SELECT current_setting('sentinel.workspace_id', true)")
                )
            ).scalar_one()
            runs = (await connection.execute(text("SELECT count(*) FROM runs"))).scalar_one()
        assert pid == tenant_pid
        assert setting == ""
        assert runs == 0
    finally:
        await engine.dispose()
