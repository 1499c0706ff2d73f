"""The GitHub transport's connection pool (app.github.http_pool) over real loopback HTTP/1.1:
keep-alive reuse, dead and expired connections left alone, the bounds, the keep-alive limit
counting idle connections, and one plan of the pool per request start and end. The server is
a bare asyncio one so that tests can count its connections and close them at will."""

from __future__ import annotations

import asyncio
import secrets
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpcore
import httpx
import pytest
from redis.asyncio import Redis

from app.config import Settings
from app.github.client import POOL_LIMITS, GitHubApp, _SharedTransport
from app.github.http_pool import TESTED_HTTPCORE, LeanConnectionPool
from sandbox.github import GitHubState, serve_github
from tests.support.github_app import with_simulated_app
from tests.support.redis_server import RedisServer


class Server:
    """HTTP/1.1 keep-alive server: answers every request `ok`, after `?delay=SECONDS`; to
    `/bye` with `Connection: close`, and closes the connection."""

    def __init__(self) -> None:
        self.opened = 0
        self.open: set[asyncio.StreamWriter] = set()
        self.peak = 0
        self.url = ""

    @property
    def closed(self) -> int:
        return self.opened - len(self.open)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        self.open.add(writer)
        self.peak = max(self.peak, len(self.open))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                if "?delay=" in target:
                    await asyncio.sleep(float(target.split("?delay=")[1]))
                if "/bye" in target:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"
                    )
                    await writer.drain()
                    break
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open.discard(writer)
            writer.close()

    async def close_idle_connections(self) -> None:
        """Close every connection from the server's side, and let the client's kernel see it."""
        for writer in list(self.open):
            writer.close()
        await asyncio.sleep(0.05)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    listener = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    async with listener:
        yield state
    await asyncio.sleep(0.05)  # handlers see their clients' EOF and end


@pytest.fixture
async def transport() -> AsyncIterator[_SharedTransport]:
    built = _SharedTransport()
    yield built
    await built.close_for_good()


def small_transport(**limits: Any) -> _SharedTransport:
    return _SharedTransport(limits=httpx.Limits(**limits))


def pool_of(transport: httpx.AsyncHTTPTransport) -> LeanConnectionPool:
    assert isinstance(transport._pool, LeanConnectionPool)
    return transport._pool


@asynccontextmanager
async def client_of(
    server: Server, transport: httpx.AsyncBaseTransport
) -> AsyncIterator[httpx.AsyncClient]:
    """A client as githubkit makes one per request: closed with `aclose()`, which the shared
    transport ignores (`async with` on a client would close the transport's pool)."""
    client = httpx.AsyncClient(base_url=server.url, transport=transport)
    try:
        yield client
    finally:
        await client.aclose()


async def get(client: httpx.AsyncClient, path: str = "/") -> None:
    response = await client.get(path)
    assert response.text == "ok"


def test_written_against_the_pinned_httpcore() -> None:
    # LeanConnectionPool overrides httpcore's pool internals: re-read it on any upgrade.
    assert httpcore.__version__ == TESTED_HTTPCORE


def test_the_transport_keeps_httpx_configuration() -> None:
    stock = httpx.AsyncHTTPTransport(retries=0, limits=POOL_LIMITS)._pool
    pool = pool_of(_SharedTransport())
    assert pool._ssl_context is not None
    assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert pool._ssl_context.check_hostname
    for option in (
        "_max_connections",
        "_max_keepalive_connections",
        "_keepalive_expiry",
        "_http1",
        "_http2",
        "_retries",
        "_proxy",
    ):
        assert getattr(pool, option) == getattr(stock, option), option
    assert (pool._max_connections, pool._max_keepalive_connections) == (100, 100)
    assert pool._keepalive_expiry == 5.0


def test_only_plain_http11_pools_are_replaced() -> None:
    with pytest.raises(ValueError, match="HTTP/1"):
        LeanConnectionPool(http2=True)
    proxied = httpx.AsyncHTTPTransport(proxy="http://127.0.0.1:3128")._pool
    with pytest.raises(ValueError, match="cannot replace"):
        LeanConnectionPool.replacing(proxied)


async def test_sequential_requests_share_one_connection(
    server: Server, transport: _SharedTransport
) -> None:
    async with client_of(server, transport) as client:
        for _ in range(10):
            await get(client)
    # githubkit's clients close the transport after each request: the shared one stays up.
    async with client_of(server, transport) as client:
        await get(client)
    assert server.opened == 1
    assert len(pool_of(transport).connections) == 1

    await transport.close_for_good()
    await asyncio.sleep(0.05)
    assert server.closed == 1


async def test_a_connection_the_server_closed_is_not_reused(
    server: Server, transport: _SharedTransport
) -> None:
    pool = pool_of(transport)
    pool._sweep_interval = 3600.0  # only the check when handing a connection out
    async with client_of(server, transport) as client:
        await get(client)
        await get(client)  # the sweep ran on the first request; this one plans without it
        await server.close_idle_connections()
        assert server.open == set()

        await get(client)  # on the dead connection it would fail: "Server disconnected"
        assert server.opened == 2
        assert len(pool.connections) == 1


async def test_idle_connections_are_checked_once_per_sweep_interval(server: Server) -> None:
    transport = small_transport(max_connections=10, max_keepalive_connections=10)
    pool = pool_of(transport)
    async with client_of(server, transport) as client:
        await asyncio.gather(*(get(client, "/?delay=0.05") for _ in range(3)))
    assert len(pool.connections) == 3
    await server.close_idle_connections()

    # A plan between sweeps does not look at idle sockets (that was the CPU cost)...
    pool._next_sweep = time.monotonic() + 60
    assert pool._assign_requests_to_connections() == []
    assert len(pool.connections) == 3
    # ... the sweep does, and closes them.
    pool._next_sweep = 0.0
    closing = pool._assign_requests_to_connections()
    assert len(closing) == 3
    assert pool.connections == []
    await pool._close_connections(closing)
    await transport.close_for_good()


async def test_an_expired_connection_is_closed_not_reused(server: Server) -> None:
    transport = small_transport(keepalive_expiry=0.05)
    pool = pool_of(transport)
    pool._sweep_interval = 3600.0
    async with client_of(server, transport) as client:
        await get(client)
        await get(client)
        await asyncio.sleep(0.1)
        await get(client)
        await asyncio.sleep(0.05)
        assert (server.opened, server.closed) == (2, 1)
        assert len(pool.connections) == 1
    await transport.close_for_good()


async def test_the_pool_stays_within_max_connections(server: Server) -> None:
    transport = small_transport(max_connections=3, max_keepalive_connections=3)
    async with client_of(server, transport) as client:
        await asyncio.gather(*(get(client, "/?delay=0.02") for _ in range(20)))
        assert server.opened == 3
        assert server.peak == 3
        assert len(pool_of(transport).connections) == 3
    await transport.close_for_good()


async def test_a_connection_closed_after_its_response_frees_its_room(server: Server) -> None:
    transport = small_transport(max_connections=1)
    pool = pool_of(transport)
    pool._sweep_interval = 3600.0
    async with client_of(server, transport) as client:
        await get(client)
        await get(client, "/bye")
        assert pool.connections[0].is_closed()
        # The pool is full of a closed connection: no waiting for the pool timeout.
        client.timeout = httpx.Timeout(5.0, pool=1.0)
        await get(client)
        assert server.opened == 2
        assert len(pool.connections) == 1
    await transport.close_for_good()


async def test_idle_connections_beyond_the_keepalive_limit_are_closed(server: Server) -> None:
    transport = small_transport(max_connections=5, max_keepalive_connections=2)
    pool = pool_of(transport)
    async with client_of(server, transport) as client:
        await asyncio.gather(*(get(client, "/?delay=0.05") for _ in range(5)))
        await asyncio.sleep(0.05)
        assert (server.opened, server.closed) == (5, 3)
        assert len(pool.connections) == 2

        await get(client)
        await get(client)
        assert server.opened == 5
    await transport.close_for_good()


async def test_idle_connections_within_the_limit_stay_while_others_are_busy(
    server: Server,
) -> None:
    """httpcore 1.0.9 compares the count of all connections with the keep-alive limit, so
    with one connection busy it closes the idle ones between a loop's requests."""
    transport = small_transport(max_connections=10, max_keepalive_connections=3)

    async def loop(client: httpx.AsyncClient) -> None:
        for _ in range(5):
            await get(client, "/?delay=0.01")
            await asyncio.sleep(0.01)

    async with client_of(server, transport) as client:
        busy = asyncio.create_task(get(client, "/?delay=1"))
        await asyncio.sleep(0.05)
        await asyncio.gather(*(loop(client) for _ in range(3)))
        await busy
    assert server.opened == 4
    await transport.close_for_good()


async def test_one_plan_per_request_start_and_end(
    server: Server, transport: _SharedTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection given to a request is the request's until it ends: a concurrent one is
    not handed the same connection, refused (`ConnectionNotAvailable`) and re-planned."""
    pool = pool_of(transport)
    plans = 0
    plan = pool._assign_requests_to_connections

    def counted() -> list[Any]:
        nonlocal plans
        plans += 1
        return plan()

    monkeypatch.setattr(pool, "_assign_requests_to_connections", counted)
    async with client_of(server, transport) as client:
        for _ in range(3):
            await asyncio.gather(*(get(client, "/?delay=0.01") for _ in range(20)))
    assert plans == 2 * 60
    assert server.opened == 20


async def test_github_calls_through_the_app_reuse_connections(
    settings: Settings, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An App id of its own: no token another test cached in the shared Redis is found.
    state = GitHubState(app_id=secrets.randbelow(10**9) + 10**6)
    state.add_installation(5150, "Codertocat", account_type="User")
    state.add_repository(5150, "Codertocat", "Hello-World", 186853002)
    state.add_pull_request("Codertocat", "Hello-World", 2, "a1" * 20, "b2" * 20, "T", "", "me")
    redis = Redis.from_url(redis_server.url)
    async with serve_github(state):
        app = GitHubApp(
            with_simulated_app(settings, state),
            redis,
        )
        pool = pool_of(app._transport)
        connects = 0
        connect = pool._network_backend.connect_tcp

        async def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal connects
            connects += 1
            return await connect(*args, **kwargs)

        monkeypatch.setattr(pool._network_backend, "connect_tcp", counted)

        async def review() -> None:
            github = app.for_installation(5150)
            for _ in range(10):
                pull = await github.rest.pulls.async_get("Codertocat", "Hello-World", 2)
                assert pull.parsed_data.number == 2

        await review()  # the installation token is minted and cached
        await asyncio.gather(*(review() for _ in range(5)))
        await app.aclose()
    await redis.aclose()
    assert connects <= 5
