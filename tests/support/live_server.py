"""The real ASGI app served by uvicorn on a loopback port, for tests that speak real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from tests.support.redis_server import free_port


@asynccontextmanager
async def serve(app: FastAPI, *, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` until the block ends (on `port`, or a free one); yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces the start-up error
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
