"""Exponential backoff with jitter, shared by everything Sentinel retries later."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(
    attempt: int,
    *,
    first: timedelta,
    longest: timedelta,
    at_least: timedelta | None = None,
) -> timedelta:
    """`first` doubling per attempt up to `longest`, ±20% so retries do not line up, and
    never sooner than `at_least` (the other side's retry-after)."""
    delay = min(first * (2 ** max(attempt - 1, 0)), longest)
    delay = delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not cryptography
    return max(delay, at_least) if at_least else delay
