"""The token cache's process-local tier in front of Redis, against the GitHub simulator and a
private redis-server of this module's own, whose command statistics count what each test
sends to Redis."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from githubkit import GitHub
from githubkit.cache import AsyncRedisCacheStrategy
from githubkit.exception import RequestError, RequestFailed
from redis.asyncio import Redis

from app.config import Settings
from app.github.client import TOKEN_CACHE_PREFIX, GitHubApp
from app.github.token_cache import MEMORY_TTL, TieredTokenCache, TieredTokenCacheStrategy
from app.security.encryption import KeyRing
from sandbox.github import GitHubState, serve_github
from tests.support.github_app import with_simulated_app
from tests.support.redis_server import RedisServer

INSTALLATION = 5150
OTHER_INSTALLATION = 6160
OWNER, NAME, NUMBER = "Codertocat", "Hello-World", 2
# Sent by redis-py itself or by these tests to read the statistics, not by the cache.
HOUSEKEEPING = ("info", "config", "client", "hello", "ping", "select")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def token_redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("token-redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis(token_redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(token_redis_server.url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def github() -> AsyncIterator[GitHubState]:
    state = GitHubState()
    state.add_installation(INSTALLATION, OWNER, account_type="User")
    state.add_repository(INSTALLATION, OWNER, NAME, 186853002)
    state.add_pull_request(OWNER, NAME, NUMBER, "a1" * 20, "b2" * 20, "A feature", "", "octocat")
    state.add_installation(OTHER_INSTALLATION, "Globex")
    state.add_repository(OTHER_INSTALLATION, "Globex", "Widgets", 186853003)
    state.add_pull_request("Globex", "Widgets", 1, "c3" * 20, "d4" * 20, "Widgets", "", "octocat")
    async with serve_github(state):
        yield state


@pytest.fixture
def app_settings(settings: Settings, github: GitHubState) -> Settings:
    return with_simulated_app(settings, github)


@pytest.fixture
async def app(app_settings: Settings, redis: Redis) -> AsyncIterator[GitHubApp]:
    built = GitHubApp(app_settings, redis)
    yield built
    await built.aclose()


async def commands(redis: Redis) -> Counter[str]:
    """Calls per command so far on the module's redis-server (all clients)."""
    stats: dict[str, dict[str, Any]] = await redis.info("commandstats")
    return Counter(
        {
            name.removeprefix("cmdstat_"): int(stat["calls"])
            for name, stat in stats.items()
            if not name.removeprefix("cmdstat_").startswith(HOUSEKEEPING)
        }
    )


async def commands_during(redis: Redis, requests: int, client: GitHub[Any]) -> Counter[str]:
    before = await commands(redis)
    for _ in range(requests):
        await client.rest.pulls.async_get(OWNER, NAME, NUMBER)
    return await commands(redis) - before


def token_key(app_id: int, installation_id: int) -> str:
    return f"{TOKEN_CACHE_PREFIX}:githubkit:auth:app:{app_id}:installation:{installation_id}:*"


# -- through the GitHub App client ---------------------------------------------------------


async def test_after_the_first_request_tokens_are_read_from_memory(
    app: GitHubApp, github: GitHubState, redis: Redis
) -> None:
    client = app.for_installation(INSTALLATION)
    first = await commands_during(redis, 1, client)
    # Nothing cached yet: the installation token and the App's JWT are looked up in Redis
    # (one MULTI/GET/PTTL/EXEC round trip each), then both are minted and written there.
    assert first["get"] == 2
    assert first["set"] == 2
    assert github.tokens_issued(INSTALLATION) == 1

    # A review makes about ten requests: none of them reads Redis any more.
    assert await commands_during(redis, 10, client) == Counter()
    # Another client of the same App (each job builds its own) shares the memory.
    assert await commands_during(redis, 3, app.for_installation(INSTALLATION)) == Counter()
    assert github.tokens_issued(INSTALLATION) == 1


async def test_redis_alone_costs_a_round_trip_per_request(
    app_settings: Settings, github: GitHubState, redis: Redis
) -> None:
    """What the memory tier saves: githubkit's Redis strategy reads the token (one GET) for
    every request, with no token to mint."""
    app = GitHubApp(app_settings, redis)
    try:
        client = app.for_installation(INSTALLATION)  # githubkit's namespaces hold it weakly
        await client.rest.pulls.async_get(OWNER, NAME, NUMBER)
        # Under its own prefix: githubkit's strategy keeps tokens in the clear, ours sealed.
        redis_only = AsyncRedisCacheStrategy(redis, prefix="githubkit-plain")
        plain = GitHub(
            app.as_app.auth.as_installation(INSTALLATION),
            config=replace(app.as_app.config, cache_strategy=redis_only),
        )
        await plain.rest.pulls.async_get(OWNER, NAME, NUMBER)  # mints its own token
        assert await commands_during(redis, 10, plain) == Counter({"get": 10})
    finally:
        await app.aclose()
    assert github.tokens_issued(INSTALLATION) == 2


async def test_another_process_takes_the_token_from_redis_without_minting(
    app: GitHubApp, app_settings: Settings, github: GitHubState, redis: Redis
) -> None:
    client = app.for_installation(INSTALLATION)
    await client.rest.pulls.async_get(OWNER, NAME, NUMBER)
    assert github.tokens_issued(INSTALLATION) == 1

    other = GitHubApp(app_settings, redis)  # another worker: its memory is empty
    try:
        client = other.for_installation(INSTALLATION)
        first = await commands_during(redis, 1, client)
        assert first["get"] == 1  # the installation token, found (no JWT needed)
        assert first["set"] == 0
        assert github.tokens_issued(INSTALLATION) == 1
        assert await commands_during(redis, 5, client) == Counter()
    finally:
        await other.aclose()
    assert github.tokens_issued(INSTALLATION) == 1


async def test_forgetting_a_token_clears_memory_and_redis(
    app: GitHubApp, github: GitHubState, redis: Redis
) -> None:
    client = app.for_installation(INSTALLATION)
    await client.rest.pulls.async_get(OWNER, NAME, NUMBER)
    other = app.for_installation(OTHER_INSTALLATION)
    await other.rest.pulls.async_get("Globex", "Widgets", 1)
    github.revoke_tokens(INSTALLATION)
    with pytest.raises(RequestFailed) as refused:
        await client.rest.pulls.async_get(OWNER, NAME, NUMBER)  # the revoked token, from memory
    assert refused.value.response.status_code == 401

    await app.forget_installation_token(INSTALLATION)
    assert [k async for k in redis.scan_iter(match=token_key(github.app_id, INSTALLATION))] == []
    await client.rest.pulls.async_get(OWNER, NAME, NUMBER)
    assert github.tokens_issued(INSTALLATION) == 2
    # Only that installation's token was forgotten: the other's is still read from memory.
    before = await commands(redis)
    await other.rest.pulls.async_get("Globex", "Widgets", 1)
    assert await commands(redis) - before == Counter()
    assert github.tokens_issued(OTHER_INSTALLATION) == 1


async def test_the_client_never_uses_the_cache_synchronously(app: GitHubApp) -> None:
    client = app.for_installation(INSTALLATION)
    with pytest.raises(RequestError, match="async only"):
        client.rest.pulls.get(OWNER, NAME, NUMBER)


# -- the cache itself ----------------------------------------------------------------------


KEY_RING = KeyRing({1: b"k" * 32})


def cache(redis: Redis, clock: FakeClock, **options: Any) -> TieredTokenCache:
    options.setdefault("key_ring", KEY_RING)
    return TieredTokenCacheStrategy(redis, prefix="test:tokens", clock=clock, **options).cache


async def test_memory_expires_with_the_ttl_given_to_redis(redis: Redis) -> None:
    clock = FakeClock()
    tokens = cache(redis, clock)
    await tokens.aset("k", "secret", timedelta(seconds=30))
    assert 29_000 < await redis.pttl("test:tokens:k") <= 30_000
    clock.advance(29.9)
    assert tokens.in_memory("k")
    clock.advance(0.1)
    assert not tokens.in_memory("k")
    before = await commands(redis)
    assert await tokens.aget("k") == "secret"  # still in Redis by the real clock
    assert (await commands(redis) - before)["get"] == 1


async def test_memory_expires_with_the_ttl_read_from_redis(redis: Redis) -> None:
    clock = FakeClock()
    tokens = cache(redis, clock)
    # Minted by another process:
    await cache(redis, FakeClock()).aset("k", "secret", timedelta(milliseconds=5_000))
    assert await tokens.aget("k") == "secret"
    clock.advance(4.9)
    assert tokens.in_memory("k")
    clock.advance(0.1)
    assert not tokens.in_memory("k")


async def test_memory_never_holds_what_redis_has_expired(redis: Redis) -> None:
    """By the real clocks: whenever Redis has expired the token, memory has too."""
    tokens = TieredTokenCache(redis, "test:tokens", key_ring=KEY_RING)
    await tokens.aset("k", "secret", timedelta(seconds=1))
    assert tokens.in_memory("k")
    deadline = time.monotonic() + 3
    while await redis.exists("test:tokens:k"):
        assert time.monotonic() < deadline, "Redis did not expire the key"
        await asyncio.sleep(0.005)
    assert not tokens.in_memory("k")  # checked after Redis: memory went first
    assert await tokens.aget("k") is None


async def test_memory_rereads_redis_at_least_every_memory_ttl(redis: Redis) -> None:
    """A token another process forgot leaves this one's memory within MEMORY_TTL."""
    clock = FakeClock()
    tokens = cache(redis, clock)
    await tokens.aset("k", "secret", timedelta(hours=1))
    clock.advance(MEMORY_TTL.total_seconds())
    assert not tokens.in_memory("k")
    await redis.delete("test:tokens:k")
    assert await tokens.aget("k") is None


async def test_a_read_racing_a_forget_does_not_put_the_token_back(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis read that saw the token before `forget` deleted it, but whose answer arrives
    after, returns it (as it would have anyway) without keeping it in memory."""
    tokens = cache(redis, FakeClock())
    await cache(redis, FakeClock()).aset("app:1:installation:7:x", "old", timedelta(seconds=600))
    read, answer = asyncio.Event(), asyncio.Event()
    real_pipeline = redis.pipeline

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = real_pipeline(*args, **kwargs)
        execute = pipe.execute

        async def late_execute(*args: Any, **kwargs: Any) -> Any:
            result = await execute(*args, **kwargs)
            read.set()
            await answer.wait()
            return result

        pipe.execute = late_execute  # type: ignore[method-assign]
        return pipe

    monkeypatch.setattr(redis, "pipeline", pipeline)
    reading = asyncio.create_task(tokens.aget("app:1:installation:7:x"))
    await read.wait()
    await tokens.forget("app:1:installation:7:")
    answer.set()
    assert await reading == "old"
    assert not tokens.in_memory("app:1:installation:7:x")
    monkeypatch.undo()
    assert await tokens.aget("app:1:installation:7:x") is None


async def test_memory_is_bounded(redis: Redis) -> None:
    clock = FakeClock()
    tokens = cache(redis, clock, max_entries=3)
    await tokens.aset("a", "1", timedelta(minutes=10))
    await tokens.aset("short", "2", timedelta(seconds=5))
    await tokens.aset("b", "3", timedelta(minutes=10))
    clock.advance(5)
    assert await tokens.aget("a") == "1"  # recently used
    await tokens.aset("c", "4", timedelta(minutes=10))  # full: the expired entry goes
    assert len(tokens) == 3
    await tokens.aset("d", "5", timedelta(minutes=10))  # full: the least recently used goes
    assert len(tokens) == 3
    assert [k for k in ("a", "short", "b", "c", "d") if tokens.in_memory(k)] == ["a", "c", "d"]
    assert await tokens.aget("b") == "3"  # still shared through Redis

    for i in range(1000):
        await tokens.aset(f"many:{i}", "x", timedelta(minutes=10))
    assert len(tokens) == 3


async def test_tokens_stay_out_of_reprs(redis: Redis) -> None:
    tokens = cache(redis, FakeClock())
    await tokens.aset("k", "ghs_secret", timedelta(minutes=1))
    assert "ghs_secret" not in repr(tokens._memory)


# -- tokens at rest in Redis -------------------------------------------------------------------


async def test_tokens_in_redis_are_sealed_never_plaintext(redis: Redis) -> None:
    token = "ghs_" + "Q7w2Er9Ty4Ui1Op6As3Df8Gh5Jk0Lz2Xc7Vb"
    await cache(redis, FakeClock()).aset("app:1:installation:7:x", token, timedelta(minutes=5))
    stored = await redis.get("test:tokens:app:1:installation:7:x")
    assert stored is not None
    assert token.encode() not in stored
    assert b"ghs_" not in stored
    assert await cache(redis, FakeClock()).aget("app:1:installation:7:x") == token


async def test_a_tampered_moved_or_plaintext_value_reads_as_a_miss(redis: Redis) -> None:
    await cache(redis, FakeClock()).aset("a", "ghs_token_a", timedelta(minutes=5))
    sealed = await redis.get("test:tokens:a")
    assert sealed is not None
    await redis.set("test:tokens:b", sealed, px=60_000)  # moved to another key
    await redis.set("test:tokens:c", sealed[:-2] + b"AA", px=60_000)  # altered
    await redis.set("test:tokens:d", "ghs_planted", px=60_000)  # plaintext, planted
    for key in ("b", "c", "d"):
        assert await cache(redis, FakeClock()).aget(key) is None


async def test_tokens_sealed_under_a_rotated_key_still_open(redis: Redis) -> None:
    old = KeyRing({1: b"k" * 32})
    rotated = KeyRing({1: b"k" * 32, 2: b"n" * 32})
    await cache(redis, FakeClock(), key_ring=old).aset("k", "ghs_x", timedelta(minutes=5))
    assert await cache(redis, FakeClock(), key_ring=rotated).aget("k") == "ghs_x"
    await cache(redis, FakeClock(), key_ring=rotated).aset("k", "ghs_y", timedelta(minutes=5))
    assert await cache(redis, FakeClock(), key_ring=KeyRing({9: b"z" * 32})).aget("k") is None


async def test_without_a_key_ring_tokens_stay_in_process_memory(redis: Redis) -> None:
    tokens = cache(redis, FakeClock(), key_ring=None)
    await tokens.aset("k", "ghs_local", timedelta(minutes=5))
    assert await redis.exists("test:tokens:k") == 0
    assert await tokens.aget("k") == "ghs_local"


async def test_the_apps_real_tokens_are_sealed_in_redis(app: GitHubApp, redis: Redis) -> None:
    client = app.for_installation(INSTALLATION)
    await client.rest.pulls.async_get(OWNER, NAME, NUMBER)
    names = [name async for name in redis.scan_iter(match=f"{TOKEN_CACHE_PREFIX}*")]
    assert names  # the JWT and the installation token were cached
    for name in names:
        value = await redis.get(name)
        assert value is not None
        assert b"ghs_" not in value
        assert not value.startswith(b"eyJ")  # no JWT in the clear either
