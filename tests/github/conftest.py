"""Fixtures for intake tests: the real app over HTTP, a sender of signed deliveries, and
the worker's resources for processing what was received."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.main import create_app
from app.resources import Resources
from app.sweeper import sweep
from tests.support.github_payloads import GitHubWorld, webhook_headers
from tests.support.live_server import serve

SECRET = "test-webhook-secret"


@pytest.fixture(scope="session")
async def api_url(settings: Settings) -> AsyncIterator[str]:
    async with serve(create_app(settings)) as base:
        yield base


@pytest.fixture(scope="session")
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    built = await Resources.build(settings)
    yield built
    await built.close()


@pytest.fixture
async def flush_queue(resources: Resources) -> AsyncIterator[None]:
    await resources.queue.flushdb()
    yield
    await resources.queue.flushdb()


@dataclass
class Hook:
    """Sends signed deliveries to the receiver and processes them like the worker does."""

    client: httpx.AsyncClient
    resources: Resources
    owner_engine: AsyncEngine

    async def send(
        self, event: str, payload: dict[str, Any], *, guid: str | None = None
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        return await self.client.post(
            "/webhooks/github", content=body, headers=webhook_headers(SECRET, event, body, guid)
        )

    async def deliver(
        self, event: str, payload: dict[str, Any], *, guid: str | None = None
    ) -> dict[str, Any]:
        """Send, then process everything due, as a worker starting up would. Returns the
        delivery's row."""
        response = await self.send(event, payload, guid=guid)
        assert response.status_code in (200, 202), response.text
        await sweep(self.resources, grace=timedelta(0))
        return await self.delivery(response.json()["delivery"])

    async def delivery(self, guid: str) -> dict[str, Any]:
        rows = await self.rows("SELECT * FROM webhook_deliveries WHERE delivery_id = :g", g=guid)
        return rows[0]

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.owner_engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return [dict(row) for row in result.mappings()]

    async def execute(self, sql: str, **params: Any) -> None:
        """A change made behind Sentinel's back (as the database's owner)."""
        async with self.owner_engine.begin() as connection:
            await connection.execute(text(sql), params)


@pytest.fixture
async def hook(
    api_url: str, resources: Resources, owner_engine: AsyncEngine, flush_queue: None
) -> AsyncIterator[Hook]:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        yield Hook(client, resources, owner_engine)


@pytest.fixture
def world() -> GitHubWorld:
    return GitHubWorld()
