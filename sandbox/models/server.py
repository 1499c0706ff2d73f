"""Serve a model fake over real HTTP on a loopback port, for as long as a block runs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from sandbox.models.anthropic_fake import create_anthropic_app
from sandbox.models.openai_fake import create_openai_app
from sandbox.models.state import ModelFakeState

# A call held by `delay_seconds` may outlive its client; shutdown waits this long for it.
SHUTDOWN_GRACE_SECONDS = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def serve_app(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields the server root, e.g. http://127.0.0.1:PORT."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces the start-up error, e.g. a port already taken
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def serve_anthropic(state: ModelFakeState, port: int | None = None) -> AsyncIterator[str]:
    """Yields the `base_url` for `anthropic.AsyncAnthropic`: the server root."""
    async with serve_app(create_anthropic_app(state), port) as root:
        yield root


@asynccontextmanager
async def serve_openai(state: ModelFakeState, port: int | None = None) -> AsyncIterator[str]:
    """Yields the `base_url` for `openai.AsyncOpenAI`: the server root plus `/v1`."""
    async with serve_app(create_openai_app(state), port) as root:
        yield f"{root}/v1"
