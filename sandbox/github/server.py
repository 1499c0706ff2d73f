"""Serve the GitHub fake over real HTTP on a loopback port, for as long as a block runs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from sandbox.github.app import create_github_app
from sandbox.github.state import GitHubState


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def serve_github(state: GitHubState, port: int | None = None) -> AsyncIterator[str]:
    """Serve `state` until the block ends; yields the base URL to give clients (and stores
    it in `state.base_url`, which webhook payloads build their URLs from)."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_github_app(state),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces the start-up error, e.g. a port already taken
            await asyncio.sleep(0.01)
        state.base_url = f"http://127.0.0.1:{port}"
        yield state.base_url
    finally:
        server.should_exit = True
        await task
