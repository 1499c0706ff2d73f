"""The FastAPI application: the webhook receiver, the REST API and the health endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.admin.router import router as admin_router
from app.config import Settings, load_settings
from app.console.routes import install_console
from app.errors import install_error_handlers
from app.github.endpoint import router as github_router
from app.metrics import install_metrics
from app.resources import Resources, resources
from app.setup.router import router as setup_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.resources = await Resources.build(settings)
        try:
            yield
        finally:
            await app.state.resources.close()

    app = FastAPI(
        title="Sentinel",
        summary="AI code review for GitHub pull requests",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_metrics(app)
    app.include_router(github_router)
    app.include_router(admin_router)
    app.include_router(setup_router)
    install_console(app)

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
            await state.queue.ping()
        except Exception as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            status_code=200 if ready else 503,
            content={"status": "ready" if ready else "not ready", "checks": checks},
        )

    return app
