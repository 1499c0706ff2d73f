"""Prometheus metrics for the API process."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import SystemContext, system_session
from app.models import RunStatus
from app.queue import QUEUE_NAME

HTTP_REQUESTS = Counter(
    "sentinel_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "sentinel_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOK_DELIVERIES = Counter(
    "sentinel_webhook_deliveries_total",
    "GitHub webhook deliveries received, by what the receiver did with them",
    ["outcome"],
)


# Labels come only from these sets: anyone can send any method to any path, and each new
# label value is a time series kept for the life of the process.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def route_label(scope: Scope) -> str:
    """The matched route's whole template (`/v1/workspaces/{workspace}/runs/{run_id}`), never
    the raw path. FastAPI keeps included routers nested, so `scope["route"]` holds only the
    innermost part (`/runs/{run_id}`); the whole template is on the route context FastAPI
    leaves in the scope (pinned version; tests/test_api_health.py notices if it moves)."""
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    path = getattr(getattr(context, "starlette_route", None), "path_format", None) or getattr(
        context, "path_format", None
    )
    if not isinstance(path, str) or not path:
        path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class MetricsMiddleware:
    """Request counts and latency by route template (ids in paths would explode the label
    set), and a Server-Timing header on every answer. Plain ASGI rather than
    BaseHTTPMiddleware: no extra task per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # The server's own time to the answer, for browsers' developer tools and
                # the console benchmark (W3C Server-Timing).
                took = (time.perf_counter() - started) * 1000
                headers = [
                    *message.get("headers", []),
                    (b"server-timing", f"app;dur={took:.1f}".encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = route_label(scope)
            method = method_label(scope["method"])
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()


RUNS_BY_STATUS = Gauge("sentinel_runs", "Review runs by status (all workspaces)", ["status"])
QUEUE_DEPTH = Gauge("sentinel_queue_depth", "Jobs waiting in the queue")
OLDEST_QUEUED_RUN = Gauge(
    "sentinel_oldest_queued_run_seconds", "Age of the oldest run still waiting to start"
)
PENDING_DELIVERIES = Gauge(
    "sentinel_pending_deliveries", "Webhook deliveries recorded but not yet processed"
)


async def _refresh_state_gauges(request: Request) -> None:
    """Read the system's state at scrape time: it lives in Postgres and Redis, not in this
    process. A failure leaves the previous values; /readyz reports reachability."""
    from app.resources import resources

    state = resources(request)
    try:
        async with system_session(state.sessionmaker, SystemContext.ROLLUP) as session:
            rows = await session.execute(text("SELECT status, count(*) FROM runs GROUP BY 1"))
            counts: dict[str, int] = {str(row[0]): int(row[1]) for row in rows}
            oldest = (
                await session.execute(
                    text(
                        "SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                        "FROM runs WHERE status = 'queued'"
                    )
                )
            ).scalar_one()
            pending = (
                await session.execute(
                    text(
                        "SELECT count(*) FROM webhook_deliveries "
                        "WHERE processed_at IS NULL AND outcome IS NULL"
                    )
                )
            ).scalar_one()
        for status in RunStatus:
            RUNS_BY_STATUS.labels(status.value).set(counts.get(status.value, 0))
        OLDEST_QUEUED_RUN.set(float(oldest))
        PENDING_DELIVERIES.set(int(pending))
    except SQLAlchemyError:
        pass
    try:
        QUEUE_DEPTH.set(await state.queue.zcard(QUEUE_NAME))
    except (RedisError, OSError):
        pass


def install_metrics(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        await _refresh_state_gauges(request)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
