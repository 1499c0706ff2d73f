"""The worker runs without pool pre-ping (db.py): when the database drops every connection
(a restart, a failover), one step fails, is recorded, and the next attempt goes through on
fresh connections. Nothing is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.github.processing import process_delivery
from app.resources import Resources
from app.sweeper import sweep
from tests.github.conftest import Hook
from tests.support.github_payloads import GitHubWorld

WORKER = "sentinel-test-worker"


@pytest.fixture
async def worker_resources(settings: Settings) -> AsyncIterator[Resources]:
    url = settings.database_url
    named = f"{url}{'&' if '?' in url else '?'}application_name={WORKER}"
    built = await Resources.build(
        settings.model_copy(update={"database_url": named}), pool_pre_ping=False
    )
    yield built
    await built.close()


async def _drop_the_workers_connections(owner_engine: AsyncEngine) -> int:
    async with owner_engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": WORKER},
        )
        return int(result.scalar_one())


async def test_a_delivery_survives_its_connections_being_dropped(
    hook: Hook, world: GitHubWorld, worker_resources: Resources, owner_engine: AsyncEngine
) -> None:
    hook.resources = worker_resources
    await hook.deliver("installation", world.installation())  # warms the worker's pool
    response = await hook.send("pull_request", world.pull_request("opened"), guid="restart")
    assert response.status_code == 202
    inbox_id = (await hook.delivery("restart"))["id"]

    assert await _drop_the_workers_connections(owner_engine) >= 1
    # The dead connection fails the step: recorded, with a time to try again.
    assert await process_delivery(worker_resources, inbox_id) is None
    row = await hook.delivery("restart")
    assert row["processed_at"] is None
    assert row["attempts"] == 1
    assert "terminating connection" in row["last_error"]
    async with owner_engine.begin() as connection:
        await connection.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = :id"),
            {"id": inbox_id},
        )
    await sweep(worker_resources, grace=timedelta(0))
    row = await hook.delivery("restart")
    assert row["processed_at"] is not None
    assert row["outcome"] == "handled"
    runs = await hook.rows("SELECT status FROM runs")
    assert [r["status"] for r in runs] == ["queued"]
