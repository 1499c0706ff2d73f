"""Talking to GitHub as the App (JWT) or as one of its installations (installation token).

One client per process. githubkit caches tokens until shortly before they expire, in Redis
(shared by every worker) behind a process-local tier (no Redis round trip per request; see
token_cache); HTTP response caching is off (PR content stays out of Redis). githubkit's own
retries are off: the worker decides what to retry and when.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import httpx
from githubkit import AppAuthStrategy, GitHub
from redis.asyncio import Redis

from app.config import ConfigError, Settings
from app.github.http_pool import LeanConnectionPool
from app.github.token_cache import TieredTokenCacheStrategy
from app.security.encryption import KeyRing

TOKEN_CACHE_PREFIX = "sentinel:github"  # noqa: S105 - a key prefix, not a secret
REQUEST_TIMEOUT_SECONDS = 30.0
# At most 100 GitHub requests in flight (httpx's default; more wait for a connection, within
# the request timeout). Idle connections are kept up to that many too, each for at most 5 s
# idle: under load a review's next call reuses one instead of a new TLS handshake, and the
# pool hands out the most recently used first, so those the load stops needing expire.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=5.0)


def app_private_key(settings: Settings) -> str:
    if settings.github_private_key is not None:
        return settings.github_private_key.get_secret_value()
    if settings.github_private_key_path is not None:
        try:
            return settings.github_private_key_path.read_text()
        except OSError as error:
            raise ConfigError(
                f"SENTINEL_GITHUB_PRIVATE_KEY_PATH: cannot read {settings.github_private_key_path}"
                f" ({error.strerror})"
            ) from None
    raise ConfigError(
        "SENTINEL_GITHUB_PRIVATE_KEY or SENTINEL_GITHUB_PRIVATE_KEY_PATH is not set: "
        "Sentinel cannot authenticate as the GitHub App"
    )


def web_host(settings: Settings) -> str:
    """GitHub's web host for links in what Sentinel posts: github.com for api.github.com, the
    server itself for GitHub Enterprise Server (https://HOST/api/v3)."""
    host = urlsplit(settings.github_api_url).hostname or "github.com"
    return "github.com" if host == "api.github.com" else host


def app_is_configured(settings: Settings) -> bool:
    return settings.github_app_id is not None and (
        settings.github_private_key is not None or settings.github_private_key_path is not None
    )


class _SharedTransport(httpx.AsyncHTTPTransport):
    """One connection pool (and one TLS context) for every GitHub request of the process.

    githubkit opens a client per request outside `async with`, and each client closes its
    transport; creating the TLS context alone costs ~20 ms a request. This transport ignores
    those closes and is closed once, when the process's resources are.

    Its connection pool is http_pool.LeanConnectionPool, configured as httpx configured its
    own (same TLS context, limits and retries): httpcore's pool polls every idle socket on
    every request start and end, and with 50 reviews running that took about half the CPU of
    a GitHub call (~2.0 → ~0.9 ms a call through githubkit, 2 cores)."""

    def __init__(self, *, retries: int = 0, limits: httpx.Limits = POOL_LIMITS) -> None:
        super().__init__(retries=retries, limits=limits)
        self._pool = LeanConnectionPool.replacing(self._pool)

    async def aclose(self) -> None:
        return None

    async def close_for_good(self) -> None:
        await super().aclose()


class GitHubApp:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.settings = settings
        self.redis = redis
        self._transport = _SharedTransport(retries=0)
        # Sealed in Redis with the key ring; without one, each process keeps its own tokens.
        key_ring = KeyRing(settings.encryption_key_ring) if settings.encryption_keys else None
        self.token_cache = TieredTokenCacheStrategy(
            redis, prefix=TOKEN_CACHE_PREFIX, key_ring=key_ring
        )

    async def aclose(self) -> None:
        await self._transport.close_for_good()

    @cached_property
    def as_app(self) -> GitHub[Any]:
        if self.settings.github_app_id is None:
            raise ConfigError("SENTINEL_GITHUB_APP_ID is not set: Sentinel cannot act as the App")
        return GitHub(
            AppAuthStrategy(self.settings.github_app_id, app_private_key(self.settings)),
            base_url=self.settings.github_api_url,
            auto_retry=False,
            http_cache=False,
            cache_strategy=self.token_cache,
            timeout=REQUEST_TIMEOUT_SECONDS,
            user_agent="Sentinel",
            async_transport=self._transport,
        )

    async def forget_installation_token(self, installation_id: int) -> None:
        """Drop a cached installation token GitHub no longer accepts (revoked, or minted by
        another key), from Redis and from this process's memory, so the next request mints a
        fresh one. Another process drops its copy in memory within token_cache.MEMORY_TTL,
        or at once if it forgets the token too."""
        app_id = self.settings.github_app_id
        await self.token_cache.cache.forget(
            f"githubkit:auth:app:{app_id}:installation:{installation_id}:"
        )

    def for_installation(self, installation_id: int) -> GitHub[Any]:
        app = self.as_app
        return app.with_auth(app.auth.as_installation(installation_id))
