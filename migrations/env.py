"""Alembic environment: async SQLAlchemy on psycopg 3, run as the tables' owner.

The URL comes from the Alembic config when a caller set one (tests, `sentinel migrate`),
otherwise from SENTINEL_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import load_settings
from app.models import Base

# Revision files import their shared SQL helpers (migration_sql.py) from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))

config = context.config
target_metadata = Base.metadata

# Two `sentinel migrate` started together (two replicas booting) take turns on this lock.
MIGRATION_LOCK_ID = 0x5E47_1E1  # arbitrary, stable


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return url or load_settings().database_url


def _take_migration_lock(connection: Connection) -> None:
    """Wait for the lock outside any transaction: a migration that builds an index
    CONCURRENTLY waits for every open transaction, so a second `sentinel migrate` waiting
    inside one (pg_advisory_lock) would deadlock with the first."""
    while True:
        taken = connection.execute(
            text("SELECT pg_try_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID}
        ).scalar_one()
        connection.commit()
        if taken:
            return
        time.sleep(0.5)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
    )
    _take_migration_lock(connection)
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()


async def _run_async() -> None:
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
