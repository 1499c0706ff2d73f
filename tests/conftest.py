"""Test infrastructure: a private database built from the migrations, a private Redis, and
session makers for the runtime role (what the service uses) and the owner (what migrates).

Tests never touch a database they did not create: each session creates `sentinel_test_*` on
the server named by SENTINEL_TEST_PG_SERVER_URL and drops it at the end.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from tests.support.factories import WorkspaceGraph, make_workspace_graph
from tests.support.migrations import run_migrations
from tests.support.redis_server import RedisServer

PG_SERVER_URL = os.environ.get(
    "SENTINEL_TEST_PG_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Reference data that ships with the migrations survives the per-test clean-up.
KEEP_TABLES = {"alembic_version", "providers", "plans"}


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(name: str) -> str:
    with psycopg.connect(_libpq_url(PG_SERVER_URL), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    with psycopg.connect(_libpq_url(PG_SERVER_URL), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = f"sentinel_test_{os.getpid()}_{secrets.token_hex(3)}"
    url = create_database(name)
    try:
        run_migrations(url)
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def encryption_keys() -> str:
    return "1:" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


BILLING_OPERATOR_TOKEN = "test-billing-operator-" + "5" * 40


@pytest.fixture(scope="session")
def settings(database_url: str, encryption_keys: str, redis_server: RedisServer) -> Settings:
    return Settings(
        database_url=database_url,
        # Small pools: many apps and engines live side by side in one test session, and the
        # server's max_connections (100 by default) is shared with everything else on it.
        database_pool_size=3,
        redis_url=redis_server.url,
        encryption_keys=encryption_keys,
        github_webhook_secret="test-webhook-secret",
        billing_operator_token=BILLING_OPERATOR_TOKEN,
        allow_private_provider_urls=True,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """Connections as the runtime role, exactly as the service makes them."""
    engine = create_engine(settings, pool_size=5, max_overflow=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def owner_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """Connections as the migrating user (the tables' owner): for clean-up and catalog checks."""
    engine = create_engine(settings, runtime_role=False, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Isolate tests: empty every table (but the reference data) after each test that used
    the database. TRUNCATE does not fire the row triggers that make tables append-only."""
    if "database_url" not in request.fixturenames:
        yield
        return
    url = _libpq_url(request.getfixturevalue("database_url"))
    yield
    with psycopg.connect(url, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        names = [name for (name,) in tables if name not in KEEP_TABLES]
        connection.execute(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")


@pytest.fixture
async def two_workspaces(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[WorkspaceGraph, WorkspaceGraph]:
    """Two workspaces, each with a row in every tenant table."""
    return (
        await make_workspace_graph(sessionmaker, "acme"),
        await make_workspace_graph(sessionmaker, "globex"),
    )
