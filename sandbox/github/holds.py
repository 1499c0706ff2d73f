"""Requests a test holds at GitHub's door, to line up a race deterministically: the request
waits (unprocessed) until the test releases it, as a slow GitHub would make it wait."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Hold:
    method: str
    path: str
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


class HoldsMixin:
    """The part of `GitHubState` that holds requests for tests."""

    holds: list[Hold]

    def hold_next(self, method: str, path: str) -> Hold:
        """Hold the next `method` request to exactly `path` until `release()`."""
        hold = Hold(method.upper(), path)
        self.holds.append(hold)
        return hold

    async def wait_if_held(self, method: str, path: str) -> None:
        for hold in self.holds:
            if hold.method == method and hold.path == path:
                self.holds.remove(hold)
                hold.arrived.set()
                await hold.released.wait()
                return
