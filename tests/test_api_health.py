"""The API process's health endpoints, over real HTTP."""

from __future__ import annotations

import httpx

from app.config import Settings
from app.main import create_app
from tests.support.live_server import serve
from tests.support.redis_server import RedisServer, free_port


async def test_healthz_readyz_and_metrics(settings: Settings) -> None:
    async with serve(create_app(settings)) as base, httpx.AsyncClient(base_url=base) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert 'sentinel_http_requests_total{method="GET",route="/readyz",status="200"}' in (
            metrics.text
        )
        # The system's state, read from Postgres and Redis at scrape time.
        for gauge in (
            'sentinel_runs{status="queued"} ',
            "sentinel_queue_depth ",
            "sentinel_pending_deliveries ",
            "sentinel_oldest_queued_run_seconds ",
        ):
            assert f"\n{gauge}" in metrics.text


async def test_readyz_names_what_is_down(settings: Settings, redis_server: RedisServer) -> None:
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    broken = settings.model_copy(update={"redis_url": nothing_listens})
    async with serve(create_app(broken)) as base, httpx.AsyncClient(base_url=base) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["postgres"] == "ok"
    assert ready.json()["checks"]["redis"].startswith("unreachable")


async def test_unknown_route_is_a_json_error(settings: Settings) -> None:
    async with serve(create_app(settings)) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_metrics_label_only_known_methods_and_routes(settings: Settings) -> None:
    """Anyone can send any method to any path: neither becomes a new time series."""
    async with serve(create_app(settings)) as base, httpx.AsyncClient(base_url=base) as client:
        # Methods the HTTP server accepts (it refuses made-up ones itself) but Sentinel has
        # no use for.
        for index, method in enumerate(["PROPFIND", "MKCOL", "LOCK", "PURGE", "COPY", "MOVE"]):
            await client.request(method, f"/probe-{index}/x")
            await client.request(method, "/healthz")
            await client.get(f"/probe-{index}")
            await client.get(f"/v1/workspaces/acme-{index}/runs/{index}")
        metrics = (await client.get("/metrics")).text
    http_lines = [line for line in metrics.splitlines() if line.startswith("sentinel_http_")]
    assert not [line for line in http_lines if "PROPFIND" in line or "PURGE" in line]
    assert not [line for line in http_lines if "probe-" in line or "acme-" in line]
    assert 'method="other",route="unmatched"' in metrics
    assert 'route="/v1/workspaces/{workspace}/runs/{run_id}"' in metrics
