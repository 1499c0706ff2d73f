"""The HTTP layer under the provider SDKs: one connection pool and TLS context per process.

Both official SDKs (anthropic, openai) speak httpx2. Left to themselves they build a new
client, and with it a new TLS context (~20 ms of CPU), for every adapter; a worker builds an
adapter per review, so that alone cost more CPU than the rest of a review. A process that
makes many adapters shares one `SharedTransport` instead; each adapter still gets a client
of its own around it, so no cookie, header or auth state crosses from one key to another.

Redirects are never followed: a provider endpoint that redirects could send the customer's
key (and code) to a host that was never checked as a provider URL.

Connections reach public addresses only (`allow_private=False`, how workers run). The
provider URL is checked when an admin saves it and again before each review
(app/security/urls.py), but the SDK then resolves the name once more when it connects: a name
that answers a public address to the check and 169.254.169.254 to the connection (DNS
rebinding) would walk the key and the code into our own network. So the pool's network
backend, `PublicAddressBackend`, resolves the name itself, refuses the connection unless every
address is public (reviewers/providers/addresses.py, the rule the URL check uses), and opens
the TCP connection to a checked address, never to the name. TLS is unaffected: httpcore2
passes the request's host name to `start_tls(server_hostname=...)`, so SNI and certificate
verification are still for the name.

No proxy sits in between: httpx2 ignores the proxy environment variables for a client built
on a transport of its own, and this pool connects directly, so every address the backend
checks is the provider's. (A proxy would need checking too, and would then be the one to
resolve the provider's name: do not add one here without that.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore2
import httpx2

from reviewers.providers.addresses import (
    IPAddress,
    is_public_address,
    literal_address,
    resolve_host,
)

# What a name resolves to, as (host, port) -> addresses (addresses.resolve_host, or a test's
# stand-in); raises OSError when the name does not resolve.
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

RESOLVE_TIMEOUT_SECONDS = 5.0

# As the SDKs' own defaults: a worker may hold many model calls open at once.
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


class NonPublicAddressError(httpcore2.ConnectError):
    """The guard refused the address: a setting to fix, not an outage to wait out."""


def refused_by_guard(error: BaseException) -> bool:
    """Whether a (wrapped) connection error is the guard's refusal."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, NonPublicAddressError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class PublicAddressBackend(httpcore2.AsyncNetworkBackend):
    """Opens TCP connections to the addresses it resolved and checked itself.

    `connect_tcp(host, ...)` resolves `host` (an IP literal is taken as it is) and, when
    `allow_private` is False, refuses with ConnectError unless every address is public: a
    name with one public and one private address is refused, as the connection could take
    either. It then connects to those addresses, in the resolver's order, never to the name.
    `allow_private=True` skips the check but still connects to what `resolve` returned.
    Built for asyncio (the default resolver is asyncio's).
    """

    def __init__(self, *, allow_private: bool = False, resolve: Resolver = resolve_host) -> None:
        self._allow_private = allow_private
        self._resolve = resolve
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        literal = literal_address(host)
        addresses = [literal] if literal is not None else await self._lookup(host, port, timeout)
        if not self._allow_private:
            for address in addresses:
                if not is_public_address(address):
                    # The host and address only: nothing of the request is quoted.
                    why = (
                        "not a public address"
                        if literal is not None
                        else f"it resolves to {address}, which is not a public address"
                    )
                    raise NonPublicAddressError(f"refused to connect to {host}: {why}")
        *others, last = addresses
        for address in others:
            try:
                return await self._open(address, port, deadline, local_address, socket_options)
            except httpcore2.ConnectError:
                # Refused or unreachable: the next address, as a connection by name would do.
                # A timeout has spent the whole budget and ends the attempt.
                continue
        return await self._open(last, port, deadline, local_address, socket_options)

    async def _lookup(self, host: str, port: int, limit: float | None) -> list[IPAddress]:
        # The lookup spends the connect timeout too, and never more than its own limit.
        limit = RESOLVE_TIMEOUT_SECONDS if limit is None else min(limit, RESOLVE_TIMEOUT_SECONDS)
        try:
            addresses = await asyncio.wait_for(self._resolve(host, port), limit)
        except TimeoutError:
            raise httpcore2.ConnectTimeout(f"{host} did not resolve in time") from None
        except (OSError, UnicodeError):
            raise httpcore2.ConnectError(f"{host} does not resolve") from None
        if not addresses:
            raise httpcore2.ConnectError(f"{host} does not resolve")
        return addresses

    async def _open(
        self,
        address: IPAddress,
        port: int,
        deadline: float | None,
        local_address: str | None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None,
    ) -> httpcore2.AsyncNetworkStream:
        remaining = (
            None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
        )
        return await self._inner.connect_tcp(
            str(address),
            port,
            timeout=remaining,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("provider connections are TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class SharedTransport(httpx2.AsyncHTTPTransport):
    """A connection pool that outlives the clients built around it: their `aclose()` leaves
    it open; its owner calls `close_for_good()` once, when the process shuts down.

    `allow_private=False` connects to public addresses only, through PublicAddressBackend;
    `True` (development, tests) connects wherever the name leads, as a plain httpx2 pool
    does, unless `resolve` is given: then it connects to what `resolve` says, unchecked.
    The default is the guarded pool; processes pass `settings.allow_private_provider_urls`
    (app/resources.py, the key verification of the admin API).
    """

    def __init__(self, *, allow_private: bool = False, resolve: Resolver | None = None) -> None:
        ssl_context = httpx2.create_ssl_context()
        super().__init__(verify=ssl_context, limits=LIMITS, retries=0)
        if allow_private and resolve is None:
            return
        # httpx2 offers no way to name the pool's network backend: the same pool, over ours.
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=LIMITS.max_connections,
            max_keepalive_connections=LIMITS.max_keepalive_connections,
            keepalive_expiry=LIMITS.keepalive_expiry,
            retries=0,
            network_backend=PublicAddressBackend(
                allow_private=allow_private, resolve=resolve or resolve_host
            ),
        )

    async def aclose(self) -> None:
        return None

    async def close_for_good(self) -> None:
        await super().aclose()


def sdk_client_options(
    api_key: str, base_url: str, timeout: float, transport: httpx2.AsyncBaseTransport | None
) -> dict[str, Any]:
    """The keyword arguments both SDK clients (AsyncAnthropic, AsyncOpenAI) get: the base URL
    always explicit (never the SDK's environment variable), no SDK retries (the worker owns
    the retry policy), and our HTTP client over `transport` (else a pool of its own), with
    the adapter's timeout and without redirects."""
    return {
        "api_key": api_key,
        "base_url": base_url,
        "timeout": timeout,
        "max_retries": 0,
        "http_client": httpx2.AsyncClient(
            transport=transport,
            limits=LIMITS,
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
        ),
    }
