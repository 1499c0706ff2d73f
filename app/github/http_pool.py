"""An HTTP/1.1 connection pool whose bookkeeping stays cheap with many concurrent requests.

httpcore's `AsyncConnectionPool` (1.0.9, pinned in uv.lock; `TESTED_HTTPCORE` below) re-plans
the whole pool whenever a request starts or ends (`_assign_requests_to_connections`). With
~50 reviews calling GitHub concurrently those plans took about a third of the client's CPU
(profiled through githubkit against the simulator; ~0.75 ms a plan with 50 idle connections),
because:

- every idle connection's `has_expired()` polls its socket (a `poll()` syscall, plus anyio
  building a socket-attribute table with `getpeername()`), on every plan;
- with `max_keepalive_connections` raised, the surplus-idle check costs connections squared
  (it counts the connections again for each idle one);
- that check counts every connection rather than the idle ones, so at the default limit (20)
  a pool holding more connections closes idle ones that are still good, and the next
  request opens (a TLS handshake, in production) a new one;
- a connection an earlier request was just given still looks idle until that request's task
  runs, so a newer request is handed the same connection, is refused
  (`ConnectionNotAvailable`) and plans again: ~5.5 plans a request instead of 2.

This pool keeps httpcore's request flow and changes only the plan: a connection is checked
with `has_expired()` (the very same check: keep-alive expiry or a server-side close) when it
is about to be handed out, and the idle ones nobody picks are checked at most once per
`sweep_interval` (so one expired or closed by the server is closed within about that long,
at the next request); a connection given to a request is that request's until it ends; the
surplus over `max_keepalive_connections` counts idle connections, least recently used closed
first; the most recently used idle connection is reused first, so connections the load no
longer needs sit unused and expire. HTTP/1.1 only: the reservation relies on an HTTP/1.1
connection serving one request at a time.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpcore

if TYPE_CHECKING:
    from httpcore._async.interfaces import AsyncConnectionInterface

# The httpcore release whose pool internals (`_connections`, `_requests`, what
# `_assign_requests_to_connections` must do) this was written against; a test fails on any
# other, so an upgrade gets this re-read.
TESTED_HTTPCORE = "1.0.9"
SWEEP_INTERVAL_SECONDS = 1.0


class LeanConnectionPool(httpcore.AsyncConnectionPool):
    def __init__(self, *, sweep_interval: float = SWEEP_INTERVAL_SECONDS, **options: Any) -> None:
        super().__init__(**options)
        if self._http2 or self._proxy is not None:
            raise ValueError("LeanConnectionPool is for direct HTTP/1.1 connections only")
        self._sweep_interval = sweep_interval
        self._next_sweep = 0.0

    @classmethod
    def replacing(cls, pool: httpcore.AsyncConnectionPool) -> LeanConnectionPool:
        """A pool configured exactly like `pool` (an unused one, e.g. the one httpx's
        transport built), sharing its SSL context: verification settings stay as they were."""
        if type(pool) is not httpcore.AsyncConnectionPool or pool.connections:
            raise ValueError(f"cannot replace {pool!r}")
        return cls(
            ssl_context=pool._ssl_context,
            max_connections=pool._max_connections,
            max_keepalive_connections=pool._max_keepalive_connections,
            keepalive_expiry=pool._keepalive_expiry,
            http1=pool._http1,
            http2=pool._http2,
            retries=pool._retries,
            local_address=pool._local_address,
            uds=pool._uds,
            network_backend=pool._network_backend,
            socket_options=pool._socket_options,
        )

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        """Called (by httpcore, under its lock) whenever a request is added or removed.
        Returns the connections to close; httpcore closes them outside the lock."""
        closing: list[AsyncConnectionInterface] = []
        in_use = {request.connection for request in self._requests}
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self._sweep_interval
            self._forget_closed()
            for candidate in self._connections:
                if candidate.is_idle() and candidate not in in_use and candidate.has_expired():
                    closing.append(candidate)
            self._drop(closing)

        for request in self._requests:
            if not request.is_queued():
                continue
            origin = request.request.url.origin
            connection: AsyncConnectionInterface | None = self._reusable(origin, in_use, closing)
            if connection is not None:
                self._connections.remove(connection)  # to the most recently used end
            elif self._is_full():
                idle = [c for c in self._connections if c.is_idle() and c not in in_use]
                if not idle:
                    continue  # stays queued until a request ends and frees a connection
                self._drop(idle[:1])  # another origin's: make room
                closing.append(idle[0])
                connection = self.create_connection(origin)
            else:
                connection = self.create_connection(origin)
            self._connections.append(connection)
            in_use.add(connection)
            request.assign_to_connection(connection)

        if len(self._connections) > self._max_keepalive_connections:
            idle = [c for c in self._connections if c.is_idle() and c not in in_use]
            surplus = idle[: max(0, len(idle) - self._max_keepalive_connections)]
            self._drop(surplus)
            closing.extend(surplus)
        return closing

    def _reusable(
        self,
        origin: httpcore.Origin,
        in_use: set[AsyncConnectionInterface | None],
        closing: list[AsyncConnectionInterface],
    ) -> AsyncConnectionInterface | None:
        """The most recently used idle connection to `origin` that is still good; those found
        expired or closed by the server on the way are dropped into `closing`."""
        found = None
        expired = []
        for connection in reversed(self._connections):
            if (
                connection in in_use
                or not connection.is_available()
                or not connection.can_handle_request(origin)
            ):
                continue
            if connection.has_expired():
                expired.append(connection)
                continue
            found = connection
            break
        self._drop(expired)
        closing.extend(expired)
        return found

    def _is_full(self) -> bool:
        if len(self._connections) < self._max_connections:
            return False
        self._forget_closed()
        return len(self._connections) >= self._max_connections

    def _forget_closed(self) -> None:
        """Drop the connections that closed themselves (after an error, or a response with
        `Connection: close`). Between sweeps they only take room, so this runs when the pool
        looks full rather than on every plan."""
        self._connections = [c for c in self._connections if not c.is_closed()]

    def _drop(self, connections: list[AsyncConnectionInterface]) -> None:
        for connection in connections:
            self._connections.remove(connection)
