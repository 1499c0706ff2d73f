"""The HTTP layer under the provider SDKs: one connection pool and TLS context per process.

Both official SDKs (anthropic, openai) speak httpx2. Left to themselves they build a new
client, and with it a new TLS context (~20 ms of CPU), for every adapter; a worker builds an
adapter per review, so that alone cost more CPU than the rest of a review. A process that
makes many adapters shares one `SharedTransport` instead; each adapter still gets a client
of its own around it, so no cookie, header or auth state crosses from one key to another.

Redirects are never followed: a provider endpoint that redirects could send the customer's
key (and code) to a host that was never checked as a provider URL.
"""

from __future__ import annotations

import httpx2

# As the SDKs' own defaults: a worker may hold many model calls open at once.
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


class SharedTransport(httpx2.AsyncHTTPTransport):
    """A connection pool that outlives the clients built around it: their `aclose()` leaves
    it open; its owner calls `close_for_good()` once, when the process shuts down."""

    def __init__(self) -> None:
        super().__init__(limits=LIMITS, retries=0)

    async def aclose(self) -> None:
        return None

    async def close_for_good(self) -> None:
        await super().aclose()


def sdk_http_client(
    timeout: float, transport: httpx2.AsyncBaseTransport | None
) -> httpx2.AsyncClient:
    """The client an adapter hands its SDK: over `transport` when given (else a pool of its
    own), with the adapter's timeout and without redirects."""
    return httpx2.AsyncClient(
        transport=transport,
        limits=LIMITS,
        timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=False,
    )
