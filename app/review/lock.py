"""One executor per run: a Postgres advisory lock held on its own connection for the whole
job. A worker that dies loses its connection, and with it the lock, so a re-run of the job
(arq re-runs jobs whose worker died) takes over without waiting for a lease to expire."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def lock_key(run_id: uuid.UUID) -> int:
    # 64 bits of a random UUID: collisions between concurrently running runs are negligible.
    return int.from_bytes(run_id.bytes[:8], "big", signed=True)


@asynccontextmanager
async def run_lock(engine: AsyncEngine, run_id: uuid.UUID) -> AsyncIterator[bool]:
    """Yields True when this process holds the run; False when another executor does."""
    key = lock_key(run_id)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        held = bool(
            (
                await autocommit.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            ).scalar_one()
        )
        try:
            yield held
        finally:
            if held:
                await autocommit.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
