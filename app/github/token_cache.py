"""githubkit's token cache with a process-local tier in front of Redis.

githubkit keeps the App's JWT and its installation tokens in its cache strategy and reads the
token there before every request. With Redis alone that is a round trip per GitHub request
(about ten a review); here a token is read from process memory first and from Redis (where
every worker shares it) only on a miss, and is written to both when minted.

A memory entry never outlives the Redis entry it mirrors: its deadline is the Redis expiry
measured from before the command was sent (SET's own PX, or the PTTL read along with the
value, atomically), on a monotonic clock. It also lives at most MEMORY_TTL: a token that
another process forgot (GitHub refused it) is read again from Redis within that time, so
Redis is read about once a minute per token and process rather than on every request.
Memory is bounded: expired entries go first, then the least recently used. Values are
tokens: nothing here logs them or puts them in a repr.

Tokens are never in Redis in plaintext: the Redis copy is sealed with the encryption key ring
(AES-256-GCM, the Redis key as associated data, so a value moved to another key or altered
does not open and reads as a miss). Without a key ring, tokens stay in process memory only.

Only githubkit's async side is supported: Sentinel calls GitHub with its `async_*` methods
only, and HTTP response caching is off (PR content stays out of Redis and memory).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import NoReturn

import structlog
from githubkit.cache import AsyncBaseCache, BaseCacheStrategy
from githubkit.exception import CacheUnsupportedError
from redis.asyncio import Redis

from app.security.encryption import DecryptionError, KeyRing

log = structlog.get_logger(__name__)

DEFAULT_MAX_ENTRIES = 4096
MEMORY_TTL = timedelta(seconds=60)
_REDIS_GLOB_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\*?[]"})


class _Entry:
    __slots__ = ("deadline", "value")

    def __init__(self, value: str, deadline: float) -> None:
        self.value = value
        self.deadline = deadline

    def __repr__(self) -> str:
        return f"_Entry(deadline={self.deadline})"  # never the token


def _text(raw: object) -> str:
    if isinstance(raw, bytes):
        return raw.decode()
    if isinstance(raw, str):
        return raw
    raise TypeError(f"unexpected token cache value of type {type(raw).__name__}")


SEALED_PREFIX = "sealed1:"


class TieredTokenCache(AsyncBaseCache):
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        key_ring: KeyRing | None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        memory_ttl: timedelta = MEMORY_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.redis = redis
        self.key_ring = key_ring
        self.prefix = prefix.removesuffix(":")
        self.max_entries = max_entries
        self.memory_ttl_seconds = memory_ttl.total_seconds()
        self.clock = clock
        self._memory: OrderedDict[str, _Entry] = OrderedDict()
        # Bumped by `forget`: a Redis read that started before it may have seen a forgotten
        # token and must not put it back in memory.
        self._generation = 0

    def redis_key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def __len__(self) -> int:
        return len(self._memory)

    def in_memory(self, key: str) -> bool:
        """Whether `key` would be answered from memory now (for tests and diagnostics)."""
        entry = self._memory.get(key)
        return entry is not None and entry.deadline > self.clock()

    async def aget(self, key: str) -> str | None:
        entry = self._memory.get(key)
        if entry is not None:
            if entry.deadline > self.clock():
                self._memory.move_to_end(key)
                return entry.value
            del self._memory[key]
        key_ring = self.key_ring
        if key_ring is None:
            return None  # memory only: nothing to share without a key to seal it
        generation = self._generation
        started = self.clock()
        name = self.redis_key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.pttl(name)
            raw, ttl_ms = await pipe.execute()
        if raw is None:
            return None
        value = self._open(key_ring, name, _text(raw))
        if value is None:
            return None
        # ttl_ms is -1 for a key without expiry (not one githubkit writes): not mirrored.
        if isinstance(ttl_ms, int) and ttl_ms > 0 and generation == self._generation:
            self._remember(key, value, started + ttl_ms / 1000)
        return value

    async def aset(self, key: str, value: str, ex: timedelta) -> None:
        ttl_ms = int(ex / timedelta(milliseconds=1))
        if ttl_ms <= 0:
            # Already past the margin githubkit keeps before expiry (Redis would refuse a
            # non-positive expiry): this request uses the token, nothing caches it.
            return
        started = self.clock()
        if self.key_ring is not None:
            name = self.redis_key(key)
            await self.redis.set(name, self._seal(self.key_ring, name, value), px=ttl_ms)
        self._remember(key, value, started + ttl_ms / 1000)

    @staticmethod
    def _seal(key_ring: KeyRing, name: str, value: str) -> str:
        blob = key_ring.seal_bytes(value.encode(), associated=name.encode())
        return SEALED_PREFIX + base64.b64encode(blob).decode()

    @staticmethod
    def _open(key_ring: KeyRing, name: str, stored: str) -> str | None:
        """The token, or None (a miss: githubkit mints a new one) for a value that is not
        ours to trust: plaintext from an older version, altered, moved, or sealed under a key
        the ring no longer holds."""
        if not stored.startswith(SEALED_PREFIX):
            log.warning("token_cache.unsealed_value_ignored", key=name)
            return None
        try:
            blob = base64.b64decode(stored[len(SEALED_PREFIX) :], validate=True)
            return key_ring.open_bytes(blob, associated=name.encode()).decode()
        except (binascii.Error, DecryptionError, UnicodeDecodeError) as error:
            log.warning("token_cache.unreadable_value_ignored", key=name, reason=str(error))
            return None

    async def forget(self, key_prefix: str) -> None:
        """Drop every entry whose key starts with `key_prefix`, from Redis and from memory."""
        pattern = self.redis_key(key_prefix).translate(_REDIS_GLOB_SPECIALS) + "*"
        names = [name async for name in self.redis.scan_iter(match=pattern, count=100)]
        if names:
            await self.redis.delete(*names)
        # After the Redis delete: a read that could still have seen the old value started
        # before this bump, so it will not store it.
        self._generation += 1
        for key in [key for key in self._memory if key.startswith(key_prefix)]:
            del self._memory[key]

    def clear_memory(self) -> None:
        self._memory.clear()
        self._generation += 1

    def _remember(self, key: str, value: str, deadline: float) -> None:
        now = self.clock()
        deadline = min(deadline, now + self.memory_ttl_seconds)
        if deadline <= now:
            self._memory.pop(key, None)
            return
        self._memory[key] = _Entry(value, deadline)
        self._memory.move_to_end(key)
        if len(self._memory) > self.max_entries:
            for stale in [k for k, e in self._memory.items() if e.deadline <= now]:
                del self._memory[stale]
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)


class TieredTokenCacheStrategy(BaseCacheStrategy):
    """githubkit cache strategy: tokens in process memory, backed by Redis (async only)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        key_ring: KeyRing | None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        memory_ttl: timedelta = MEMORY_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = TieredTokenCache(
            redis,
            prefix,
            key_ring=key_ring,
            max_entries=max_entries,
            memory_ttl=memory_ttl,
            clock=clock,
        )

    def get_cache_storage(self) -> NoReturn:
        raise CacheUnsupportedError(
            "Sentinel's token cache is async only: call GitHub with githubkit's async_* methods"
        )

    async def get_async_cache_storage(self) -> TieredTokenCache:
        return self.cache

    def get_hishel_storage(self) -> NoReturn:
        raise CacheUnsupportedError(
            "HTTP response caching is off for Sentinel's GitHub clients (http_cache=False)"
        )

    async def get_async_hishel_storage(self) -> NoReturn:
        raise CacheUnsupportedError(
            "HTTP response caching is off for Sentinel's GitHub clients (http_cache=False)"
        )
