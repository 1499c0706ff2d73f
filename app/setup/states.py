"""The `state` of a registration: a random value the setup page sends GitHub and the callback
must bring back (CSRF), remembered server-side in Redis for an hour.

Redis rather than a signed value: signing needs a key shared by every replica, and before the
App is registered Sentinel may have no secret configured at all. Redis is already there and
shared, expires the value by itself, and lets the callback retire a state once its credentials
are written, so one state completes at most one registration. Only a digest of the state is
the key, so whoever can read Redis cannot replay it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.setup.errors import SetupError

# As long as the code GitHub hands out lives: a state older than that is useless anyway.
STATE_LIFETIME = timedelta(hours=1)
KEY_PREFIX = "sentinel:setup:state:"
STATE_FORMAT = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


@dataclass(frozen=True)
class PendingRegistration:
    # The operator asked to register an App although one is configured (`?force=1`).
    force: bool


def _key(state: str) -> str:
    return KEY_PREFIX + hashlib.sha256(state.encode()).hexdigest()


def _unavailable(error: RedisError) -> SetupError:
    return SetupError(
        503,
        "Redis is unavailable",
        f"The setup page keeps its one-hour state in Redis, which did not answer "
        f"({type(error).__name__}). Check SENTINEL_REDIS_URL and try again.",
    )


async def remember(redis: Redis, *, force: bool) -> str:
    state = secrets.token_urlsafe(32)
    value = json.dumps({"force": force})
    try:
        await redis.set(_key(state), value, ex=int(STATE_LIFETIME.total_seconds()))
    except RedisError as error:
        raise _unavailable(error) from None
    return state


async def recall(redis: Redis, state: str) -> PendingRegistration | None:
    """The registration `state` belongs to, or None if it is malformed, was never issued here,
    has expired or was already completed."""
    if not STATE_FORMAT.match(state):
        return None
    try:
        raw = await redis.get(_key(state))
    except RedisError as error:
        raise _unavailable(error) from None
    if raw is None:
        return None
    return PendingRegistration(force=bool(json.loads(raw).get("force")))


async def forget(redis: Redis, state: str) -> None:
    await redis.delete(_key(state))
