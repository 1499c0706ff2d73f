"""The service logs in as the runtime role, not as the tables' owner: there is no owner
session underneath to `RESET ROLE` back to, so row-level security holds even for SQL that
an attacker managed to inject."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import RUNTIME_ROLE, ConfigError, Settings
from app.db_login import ensure_runtime_login
from tests.support.factories import WorkspaceGraph


async def test_the_service_logs_in_as_the_runtime_role(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        users = (await connection.execute(text("SELECT current_user, session_user"))).one()
        assert tuple(users) == (RUNTIME_ROLE, RUNTIME_ROLE)
        flags = (
            await connection.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
        assert tuple(flags) == (False, False)
        owned = await connection.execute(
            text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        )
        assert owned.scalar_one() == 0


async def test_reset_role_does_not_escape_row_level_security(
    engine: AsyncEngine, two_workspaces: tuple[WorkspaceGraph, WorkspaceGraph]
) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("RESET ROLE"))
        assert (await connection.execute(text("SELECT current_user"))).scalar_one() == RUNTIME_ROLE
        # No workspace in scope: every tenant row stays invisible.
        for table in ("workspaces", "runs", "provider_keys", "api_tokens"):
            count = await connection.execute(text(f"SELECT count(*) FROM {table}"))
            assert count.scalar_one() == 0, table
        with pytest.raises(Exception, match="permission denied"):
            await connection.execute(text("SET ROLE postgres"))


def test_a_runtime_url_that_logs_in_as_the_owner_is_refused(settings: Settings) -> None:
    owner = settings.model_copy(update={"database_runtime_url": settings.database_url})
    with pytest.raises(ConfigError, match="owns the tables"):
        ensure_runtime_login(owner)
