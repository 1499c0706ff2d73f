"""Engines and sessions. Every transaction runs either for one workspace or in a named system
context; Postgres row-level security enforces the choice (see migrations, `sentinel_*()`).

The scope is written with `set_config(..., true)` at the start of every transaction, so it
ends with the transaction and never leaks to the next user of a pooled connection.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from app.config import RUNTIME_ROLE as CONFIG_RUNTIME_ROLE
from app.config import Settings

log = structlog.get_logger(__name__)

# The role the service's queries run as (app/config.py): the service logs in as it, so there
# is no owner session underneath to `RESET ROLE` back to.
RUNTIME_ROLE = CONFIG_RUNTIME_ROLE

WORKSPACE_SETTING = "sentinel.workspace_id"
SYSTEM_CONTEXT_SETTING = "sentinel.system_context"


class SystemContext(StrEnum):
    """The only paths allowed to read or write across workspaces. Each is named and logged."""

    # A GitHub installation (or token) arrives without a workspace: map it to one.
    INSTALLATION_LOOKUP = "installation-lookup"
    # `installation.created`: provision the workspace, its team and owner.
    PROVISIONING = "provisioning"
    # Authenticating an API token by its hash, before its workspace is known.
    TOKEN_AUTH = "token-auth"  # noqa: S105 - a context name, not a secret
    # Resolving a console session's cookie, before its workspace is known.
    CONSOLE_SESSION = "console-session"
    # Rollups into workspace_daily_metrics and other cross-workspace aggregates.
    ROLLUP = "rollup"
    # `sentinel keys rotate`: re-encrypt every workspace's provider keys.
    KEY_ROTATION = "key-rotation"
    # Sweeper: re-enqueue queued runs across workspaces.
    SWEEPER = "sweeper"
    # A review job gets a run id only: find the run's workspace.
    RUN_LOOKUP = "run-lookup"
    # Operator CLI commands that name a workspace by slug (e.g. `sentinel token create`).
    OPERATOR_CLI = "operator-cli"
    # Billing's operator token names a workspace to change its plan.
    BILLING_OPERATOR = "billing-operator"


def create_engine(
    settings: Settings, *, runtime_role: bool = True, pool_pre_ping: bool = True, **kwargs: Any
) -> AsyncEngine:
    """An engine for the service. With `runtime_role` (the default), it logs in as the
    runtime role (`Settings.runtime_database_url`); without, as the owner (migrations, tests).

    `pool_pre_ping` tests each pooled connection before use (a round trip per transaction),
    so a request never meets a connection a database restart killed. The worker turns it off:
    there a dead connection fails one job step, SQLAlchemy then discards the whole pool, and
    the step is retried (deliveries and runs are resumed from Postgres by the sweeper)."""
    return create_async_engine(
        settings.runtime_database_url if runtime_role else settings.database_url,
        pool_size=kwargs.pop("pool_size", settings.database_pool_size),
        max_overflow=kwargs.pop("max_overflow", settings.database_pool_size),
        pool_pre_ping=pool_pre_ping,
        **kwargs,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@event.listens_for(Session, "after_begin")
def _apply_scope(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    """Write the session's scope into the transaction that just began (transaction-local)."""
    workspace_id = session.info.get("workspace_id")
    system_context = session.info.get("system_context")
    if workspace_id is None and system_context is None:
        # Nothing to write: transaction-local settings of earlier transactions are gone.
        return
    connection.execute(_SCOPE, _scope_values(workspace_id, system_context))


_SCOPE = text("SELECT set_config(:ws_name, :ws, true), set_config(:sys_name, :sys, true)")


def _scope_values(workspace_id: uuid.UUID | None, system_context: str | None) -> dict[str, str]:
    return {
        "ws_name": WORKSPACE_SETTING,
        "ws": str(workspace_id) if workspace_id else "",
        "sys_name": SYSTEM_CONTEXT_SETTING,
        "sys": str(system_context) if system_context else "",
    }


async def rescope(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID | None = None,
    system_context: SystemContext | None = None,
) -> None:
    """Change the scope of the session's transaction from here on (and of its later ones):
    a delivery is read in a system context, then handled in the workspace it turned out to
    belong to, in the same transaction. Later statements see only the new scope; objects
    read before stay in the session."""
    if workspace_id is not None and system_context is not None:
        raise ValueError("a scope is one workspace or one system context, not both")
    if system_context is not None:
        log.debug("system_context.enter", context=system_context.value)
    session.info.pop("workspace_id", None)
    session.info.pop("system_context", None)
    if workspace_id is not None:
        session.info["workspace_id"] = workspace_id
    if system_context is not None:
        session.info["system_context"] = system_context
    await session.execute(_SCOPE, _scope_values(workspace_id, system_context))


@asynccontextmanager
async def tenant_session(
    sessionmaker: async_sessionmaker[AsyncSession], workspace_id: uuid.UUID
) -> AsyncIterator[AsyncSession]:
    """A session whose transactions see and write only `workspace_id`'s rows.

    Commits when the block succeeds, rolls back when it raises. Callers only flush.
    """
    async with sessionmaker() as session:
        session.info["workspace_id"] = workspace_id
        async with session.begin():
            yield session


@asynccontextmanager
async def system_session(
    sessionmaker: async_sessionmaker[AsyncSession], context: SystemContext
) -> AsyncIterator[AsyncSession]:
    """A session that may cross workspaces, for one named purpose. Use sparingly."""
    log.debug("system_context.enter", context=context.value)
    async with sessionmaker() as session:
        session.info["system_context"] = context
        async with session.begin():
            yield session


@asynccontextmanager
async def unscoped_session(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session with no tenant: sees only the system tables (webhook inbox, reference data)."""
    async with sessionmaker() as session, session.begin():
        yield session
