"""Redis is a queue, not the system of record: a pull request delivered while Redis is down is
stored by `sentinel api` and reviewed once Redis is back, without GitHub redelivering it."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.conftest import ACME, E2E
from tests.support.redis_server import RedisServer

# The bound: reviewed within a minute of Redis coming back.
WITHIN_SECONDS = 60


async def test_a_pull_request_delivered_while_redis_is_down_is_reviewed_after(
    e2e: E2E, e2e_redis: RedisServer, request: pytest.FixtureRequest
) -> None:
    e2e_redis.stop()
    try:
        head = await e2e.open_pull_request(ACME, 301)  # 202: stored in Postgres
        await asyncio.sleep(3)  # the worker polls a Redis that is gone, and must live on
        assert e2e.worker.running, e2e.worker.tail()
    finally:
        e2e_redis.start()
    back_at = time.monotonic()
    run = await e2e.finished_run(ACME, 301, head, within=WITHIN_SECONDS)
    request.node.user_properties.append(
        ("reviewed_after_redis_back_s", round(time.monotonic() - back_at, 1))
    )
    assert run["status"] == "completed", run["status_reason"]
    assert len(e2e.summaries(ACME, 301)) == 1
    deliveries = [d for d in e2e.github.deliveries if d.event == "pull_request"]
    assert all(d.redelivery is False for d in deliveries)
