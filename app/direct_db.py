"""Plain SQL on psycopg, for the review job's few hot transactions.

A review runs a handful of short transactions. Through an ORM session each costs about three
times the CPU of the same statements sent with psycopg directly (session and transaction
bookkeeping, statement cache keys, the greenlet bridge): 1.4 ms against 0.47 ms for a scope
and three selects, measured on the 2-core benchmark machine. Pipeline mode halves it again
(0.23 ms), because on that machine each round trip's socket send and wake-up is the largest
cost left. At twenty reviews a second this is most of a worker's CPU budget, so the review
job's transactions run here; everything else keeps the ORM sessions of app/db.py.

The rules of app/db.py hold here too: connections run as the runtime role (RLS applies,
FORCE'd), every transaction writes its scope first with `set_config(..., true)` (so it ends
with the transaction and never leaks to the next user of the connection), and every
statement still names its workspace itself (wall one; RLS is wall two).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import cache
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url

from app.db import SYSTEM_CONTEXT_SETTING, WORKSPACE_SETTING
from app.models import Base

ModelT = TypeVar("ModelT", bound=Base)

_SCOPE = (
    "SELECT set_config('" + WORKSPACE_SETTING + "', %s, true), "
    "set_config('" + SYSTEM_CONTEXT_SETTING + "', '', true)"
)


def libpq_url(database_url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://` URL as libpq takes it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class DirectDatabase:
    """A small psycopg pool of runtime-role connections (`database_url` is the runtime
    role's: `Settings.runtime_database_url`), opened on first use."""

    def __init__(self, database_url: str, *, size: int) -> None:
        self._pool = AsyncConnectionPool(
            libpq_url(database_url),
            min_size=1,
            max_size=size,
            # Transactions are explicit (`tenant`); an idle pooled connection is never in one.
            kwargs={"autocommit": True},
            open=False,
        )
        self._opened = False
        self._opening = asyncio.Lock()

    async def _open(self) -> None:
        async with self._opening:
            if not self._opened:
                await self._pool.open(wait=False)
                self._opened = True

    @asynccontextmanager
    async def tenant(self, workspace_id: uuid.UUID) -> AsyncIterator[AsyncConnection[Any]]:
        """One transaction that sees and writes only `workspace_id`'s rows: committed when the
        block succeeds, rolled back when it raises.

        The connection is in pipeline mode: a statement is sent at once, but its result is
        waited for only when the block fetches it (or the block ends), so statements whose
        results are not needed yet share one round trip. A cursor's rows stay readable after
        the block."""
        if not self._opened:
            await self._open()
        async with self._pool.connection() as connection, connection.pipeline():
            await connection.execute(b"BEGIN", prepare=False)
            await connection.execute(_SCOPE, (str(workspace_id),))
            try:
                yield connection
            except BaseException:
                # A broken connection cannot roll back; the pool discards it on return.
                with suppress(psycopg.Error):
                    await connection.execute(b"ROLLBACK", prepare=False)
                raise
            await connection.execute(b"COMMIT", prepare=False)

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()
            self._opened = False


def select_list(model: type[Base], alias: str) -> str:
    """`alias.col, ...` for every column of `model`, in the order `instance` reads them."""
    return ", ".join(f"{alias}.{column.name}" for column in model.__table__.columns)


@cache
def _attributes(model: type[Base]) -> tuple[str, ...]:
    """The ORM attribute of each column of `model`, in table order (`metadata_` for
    `metadata`)."""
    mapper = model.__mapper__
    return tuple(mapper.get_property_by_column(c).key for c in model.__table__.columns)


def instance(model: type[ModelT], row: tuple[Any, ...], start: int = 0) -> ModelT:
    """A detached `model` object from the columns `select_list` selected, from `start` on."""
    attributes = _attributes(model)
    return model(**dict(zip(attributes, row[start : start + len(attributes)], strict=True)))


def width(model: type[Base]) -> int:
    return len(_attributes(model))
