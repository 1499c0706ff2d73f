"""Independent GitHub calls of one review, side by side.

A review's latency is its chain of round trips, and under load each one also waits its turn
on a busy event loop. Reads that do not depend on each other (the policy file and the file
list) and writes to different places (the review, the check run, the summary) go together.
At most three at once per review: GitHub asks integrations not to hammer it with concurrent
requests, and the process's shared connection pool bounds the whole anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def together(*calls: Awaitable[Any]) -> list[Any]:
    """Run `calls` side by side, each to its end (none is cancelled halfway through a write
    because another failed); their results in order, or the first failure raised."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)
