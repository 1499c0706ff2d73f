"""The FastAPI application: the webhook receiver, the REST API and the health endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings, load_settings
from app.db import create_engine, create_sessionmaker
from app.errors import install_error_handlers
from app.metrics import install_metrics

READINESS_TIMEOUT_SECONDS = 2.0


@dataclass
class Resources:
    """What the lifespan builds once per process and requests borrow."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis


def resources(request: Request) -> Resources:
    return request.app.state.resources


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        redis = Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=READINESS_TIMEOUT_SECONDS,
            socket_timeout=READINESS_TIMEOUT_SECONDS,
        )
        app.state.resources = Resources(settings, engine, create_sessionmaker(engine), redis)
        try:
            yield
        finally:
            await redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Sentinel",
        summary="AI code review for GitHub pull requests",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_metrics(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        """Postgres and Redis are reachable."""
        state = resources(request)
        checks = {"postgres": "ok", "redis": "ok"}
        try:
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            checks["postgres"] = f"unreachable: {type(error).__name__}"
        try:
            await state.redis.ping()
        except Exception as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            status_code=200 if ready else 503,
            content={"status": "ready" if ready else "not ready", "checks": checks},
        )

    return app
