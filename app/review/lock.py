"""One executor per run: Postgres advisory locks, all of a process's on ONE connection.

A run's executor holds a session-level advisory lock on the run for the whole job. Every
lock of a process lives on a single dedicated connection (`RunLocks`), taken out of the
pool for the process's lifetime: with 100 reviews running at once, a connection per lock
would exhaust the pool and the server's max_connections, while the reviews themselves only
borrow pooled connections for short transactions.

A worker that dies loses that connection, and with it every lock it held, so the sweeper
(or arq re-running the job) takes its runs over at once, without waiting for a lease to
expire. If the connection breaks while the process lives on (a Postgres restart), its locks
are gone as well: the in-process set of held runs still keeps a second executor from
starting in this process, and the next use reconnects and takes back the locks of the runs
still running here (unless another process took one over meanwhile; that is logged).

Session-level advisory locks are re-entrant within a session, so a lock alone cannot tell
two executors in the same process apart: the in-process set answers that.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger(__name__)

T = TypeVar("T")

# What a broken lock connection raises: SQLAlchemy's wrappers of driver errors, and errors
# of a connection SQLAlchemy already invalidated.
CONNECTION_ERRORS = (SQLAlchemyError, OSError)


def lock_key(run_id: uuid.UUID) -> int:
    # 64 bits of a random UUID: collisions between concurrently running runs are negligible.
    return int.from_bytes(run_id.bytes[:8], "big", signed=True)


def _error_name(error: BaseException) -> str:
    # The driver's exception class, never its message (which may quote connection details).
    return type(getattr(error, "orig", None) or error).__name__


class RunLocks:
    """The run locks of one process, on one database connection opened on first use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        # One statement at a time on the connection (it must not be used concurrently).
        self._guard = asyncio.Lock()
        # Runs with a `hold` in progress in this process: the guard against re-entrancy.
        self._claimed: set[uuid.UUID] = set()
        # Of those, the runs this process executes (`hold` yielded True).
        self._granted: set[uuid.UUID] = set()
        # Of those, the runs locked on the current connection.
        self._locked: set[uuid.UUID] = set()
        # Statements that run to their end although their caller was cancelled.
        self._tasks: set[asyncio.Future[Any]] = set()

    @asynccontextmanager
    async def hold(self, run_id: uuid.UUID) -> AsyncIterator[bool]:
        """Yields True when this process now executes the run: it was not held in this
        process, and no other process holds it. False otherwise. Releases on exit."""
        if run_id in self._claimed:
            yield False
            return
        self._claimed.add(run_id)
        acquiring = asyncio.ensure_future(self._acquire(run_id))
        try:
            held = await self._shielded(acquiring)
        except BaseException:
            # Failed, or cancelled while the statement ran on: undo whatever it got.
            self._keep(asyncio.ensure_future(self._undo(acquiring, run_id)))
            raise
        if not held:
            self._claimed.discard(run_id)
            yield False
            return
        try:
            yield True
        finally:
            await self._shielded(asyncio.ensure_future(self._release(run_id)))

    async def close(self) -> None:
        """Close the connection, releasing every lock it holds."""
        async with self._guard:
            connection, self._connection = self._connection, None
            self._locked.clear()
            if connection is not None:
                with suppress(*CONNECTION_ERRORS):
                    await connection.close()

    # Statements on the shared connection are never abandoned half-way: a cancelled caller
    # (a job timing out) would otherwise leave the connection unusable, or SQLAlchemy would
    # invalidate it, and every run of the process would lose its lock.
    def _keep(self, task: asyncio.Future[T]) -> asyncio.Future[T]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _shielded(self, task: asyncio.Future[T]) -> T:
        return await asyncio.shield(self._keep(task))

    async def _undo(self, acquiring: asyncio.Future[bool], run_id: uuid.UUID) -> None:
        await asyncio.wait([acquiring])
        await self._release(run_id)

    async def _acquire(self, run_id: uuid.UUID) -> bool:
        async with self._guard:
            reused = self._connection is not None
            try:
                locked = await self._try_lock(await self._connect(), run_id)
            except CONNECTION_ERRORS as error:
                await self._drop(error)
                if not reused:
                    raise
                # It broke while idle (a Postgres restart): once more, on a new connection.
                try:
                    locked = await self._try_lock(await self._connect(), run_id)
                except CONNECTION_ERRORS as error_again:
                    await self._drop(error_again)
                    raise
            if locked:
                self._locked.add(run_id)
                self._granted.add(run_id)
            return locked

    async def _release(self, run_id: uuid.UUID) -> None:
        """Unlock and forget. Never raises: it runs in the `finally` of a job."""
        try:
            # Under the guard, like every change to what is locked: a reconnect taking back
            # the locks must not lock this run again after it was let go.
            async with self._guard:
                self._granted.discard(run_id)
                connection = self._connection
                if run_id not in self._locked or connection is None:
                    return  # never locked, or lost with a broken connection
                self._locked.discard(run_id)
                try:
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(run_id)}
                    )
                except CONNECTION_ERRORS as error:
                    await self._drop(error)  # its locks are gone with it
        except Exception:
            log.exception("run_locks.release_failed", run_id=str(run_id))
        finally:
            self._claimed.discard(run_id)

    async def _connect(self) -> AsyncConnection:
        """The lock connection (under the guard): the current one, or a new one that takes
        back the locks of the runs still running in this process."""
        if self._connection is not None:
            return self._connection
        connection = await self._engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            # Out of the pool for good: it neither counts against the pool nor goes back.
            await connection.run_sync(lambda sync_connection: sync_connection.detach())
            self._connection = connection
            if self._granted:
                await self._take_back(connection)
        except BaseException:
            self._connection = None
            self._locked.clear()
            with suppress(*CONNECTION_ERRORS):
                await connection.close()
            raise
        return connection

    async def _take_back(self, connection: AsyncConnection) -> None:
        lost = []
        for run_id in sorted(self._granted):
            if await self._try_lock(connection, run_id):
                self._locked.add(run_id)
            else:
                lost.append(str(run_id))
        log.warning("run_locks.reconnected", taken_back=len(self._granted) - len(lost), lost=lost)

    async def _try_lock(self, connection: AsyncConnection, run_id: uuid.UUID) -> bool:
        result = await connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(run_id)}
        )
        return bool(result.scalar_one())

    async def _drop(self, error: BaseException) -> None:
        """Forget a broken connection (under the guard). Its locks are gone with it; the
        claims stay, so no second executor of those runs starts in this process."""
        connection, self._connection = self._connection, None
        self._locked.clear()
        if connection is None:
            return
        log.warning(
            "run_locks.connection_lost",
            error=_error_name(error),
            runs_unlocked=len(self._granted),
        )
        with suppress(*CONNECTION_ERRORS):
            await connection.close()
