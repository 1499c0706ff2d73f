"""Webhook ingest: signed `pull_request.opened` deliveries into the real `sentinel api`.

Measures (1) sustained deliveries per second at a fixed concurrency, (2) p50/p99
time-to-2xx at a fixed offered rate of 100 deliveries/s, and (3) the same inbox inserts by a
bare psycopg loop, for the ratio. The load generator runs in this process; the API in its
own; Postgres and Redis are private ones on this machine.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from benchmarks.http_load import Connection, delivery_headers
from benchmarks.support import (
    Figure,
    api_process,
    bench_database,
    bench_redis,
    percentile,
)
from tests.conftest import _libpq_url
from tests.support.github_payloads import GitHubWorld, webhook_headers

SECRET = "bench-secret"  # noqa: S105 - a throwaway secret for a private server
CONCURRENCY = 8
SUSTAINED_DELIVERIES = 3000
RATE_PER_SECOND = 100
RATE_SECONDS = 15
BARE_INSERTS = 3000


def _payload_body() -> bytes:
    return json.dumps(GitHubWorld().pull_request("opened")).encode()


async def _send(connection: Connection, signed: dict[str, str], body: bytes) -> float:
    status, elapsed = await connection.post("/webhooks/github", delivery_headers(signed), body)
    if status != 202:
        raise RuntimeError(f"unexpected status {status}")
    return elapsed


async def _sustained(base: str, body: bytes) -> tuple[float, list[float]]:
    """Closed loop: CONCURRENCY connections, each sending its next delivery on an answer."""
    signed = webhook_headers(SECRET, "pull_request", body)
    connections = [await Connection.open(base) for _ in range(CONCURRENCY)]
    latencies: list[float] = []
    remaining = SUSTAINED_DELIVERIES

    async def drive(connection: Connection) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            latencies.append(await _send(connection, signed, body))

    for connection in connections:  # warm-up: caches, prepared statements
        for _ in range(5):
            await _send(connection, signed, body)
    started = time.perf_counter()
    await asyncio.gather(*[drive(connection) for connection in connections])
    elapsed = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return len(latencies) / elapsed, latencies


async def _fixed_rate(base: str, body: bytes) -> list[float]:
    """Open loop: a delivery every 1/RATE seconds, whether or not earlier ones finished
    (each on a free connection from a small pool, as GitHub's senders would be)."""
    signed = webhook_headers(SECRET, "pull_request", body)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(32):
        idle.put_nowait(await Connection.open(base))

    async def one() -> float:
        connection = await idle.get()
        try:
            return await _send(connection, signed, body)
        finally:
            idle.put_nowait(connection)

    for _ in range(20):
        await one()
    interval = 1 / RATE_PER_SECOND
    tasks = []
    started = time.perf_counter()
    for index in range(RATE_PER_SECOND * RATE_SECONDS):
        delay = started + index * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    latencies = list(await asyncio.gather(*tasks))
    while not idle.empty():
        await idle.get_nowait().close()
    return latencies


def _bare_inserts(database_url: str, body: bytes) -> float:
    """The receiver's insert, committed one delivery at a time, with nothing around it."""
    payload_text = body.decode()
    with psycopg.connect(_libpq_url(database_url), autocommit=True) as connection:
        statement = (
            "INSERT INTO webhook_deliveries (delivery_id, event, action, installation_id, payload)"
            " VALUES (%s, 'pull_request', 'opened', 1, %s::jsonb)"
            " ON CONFLICT (delivery_id) DO NOTHING RETURNING id"
        )
        for _ in range(50):
            connection.execute(statement, (str(uuid.uuid4()), payload_text))
        started = time.perf_counter()
        for _ in range(BARE_INSERTS):
            connection.execute(statement, (str(uuid.uuid4()), payload_text))
        return BARE_INSERTS / (time.perf_counter() - started)


def run() -> list[Figure]:
    body = _payload_body()
    with (
        tempfile.TemporaryDirectory() as tmp,
        bench_database() as database_url,
        bench_redis(Path(tmp)) as redis,
    ):
        env = {
            "SENTINEL_DATABASE_URL": database_url,
            "SENTINEL_REDIS_URL": redis.url,
            "SENTINEL_GITHUB_WEBHOOK_SECRET": SECRET,
            "SENTINEL_LOG_LEVEL": "WARNING",
        }
        with api_process(env) as base:
            rate, sustained = asyncio.run(_sustained(base, body))
            fixed = asyncio.run(_fixed_rate(base, body))
        bare_rate = _bare_inserts(database_url, body)
    ms = 1000
    return [
        Figure("webhook ingest", f"sustained deliveries/s ({CONCURRENCY} connections)",
               f"{rate:.0f}"),
        Figure("webhook ingest", "sustained p50 / p99 time-to-2xx (ms)",
               f"{percentile(sustained, 0.5) * ms:.1f} / {percentile(sustained, 0.99) * ms:.1f}"),
        Figure("webhook ingest", "bare psycopg inserts/s (same rows, 1 connection)",
               f"{bare_rate:.0f}"),
        Figure("webhook ingest", "API rate / bare insert rate", f"{rate / bare_rate:.2f}",
               "≥ 0.50"),
        Figure("webhook ingest", f"p50 / p99 time-to-2xx at {RATE_PER_SECOND}/s offered (ms)",
               f"{percentile(fixed, 0.5) * ms:.1f} / {percentile(fixed, 0.99) * ms:.1f}",
               "p99 < 50"),
    ]  # fmt: skip
