"""Where a provider key's `base_url` may point: a public HTTPS endpoint, never inside our network.

An admin chooses `base_url`, and the worker later sends the customer's key and code there. A
URL that reaches loopback, a private range or the cloud metadata service (169.254.169.254)
would turn Sentinel into a proxy into its own network (SSRF). The check runs when the key is
saved and again before each review, because the name may resolve elsewhere by then. Neither
check can see what the name resolves to at the moment of the connection (DNS rebinding), so
the worker's connection pool applies the same rule to every address it actually connects to
(reviewers/providers/transport.py).

`SENTINEL_ALLOW_PRIVATE_PROVIDER_URLS=true` lifts the address and scheme rules for development
and tests (a model server on localhost, over plain HTTP); URL syntax is still checked.
"""

from __future__ import annotations

import asyncio
from urllib.parse import SplitResult, urlsplit

# One rule for "public", shared with the connect-time guard under the SDKs
# (reviewers/providers/transport.py), which re-checks every address it connects to.
from reviewers.providers.addresses import (
    IPAddress,
    is_public_address,
    literal_address,
    resolve_host,
)

__all__ = [
    "MAX_URL_LENGTH",
    "IPAddress",
    "UnsafeProviderUrlError",
    "check_provider_url",
    "is_public_address",
    "resolve_addresses",
]

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_SECONDS = 5.0


class UnsafeProviderUrlError(ValueError):
    """The URL may not be used for a provider. The message says why, for the admin."""


def _parse(url: str, *, allow_private: bool) -> SplitResult:
    if not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeProviderUrlError(f"must be a URL of 1 to {MAX_URL_LENGTH} characters")
    if any(character.isspace() or ord(character) < 0x20 for character in url):
        raise UnsafeProviderUrlError("must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise UnsafeProviderUrlError("is not a valid URL") from None
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise UnsafeProviderUrlError("must be an https:// URL")
    if not parts.hostname:
        raise UnsafeProviderUrlError("must name a host, e.g. https://api.example.com/v1")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and error messages; the key goes in api_key.
        raise UnsafeProviderUrlError("must not carry a user name or password")
    if parts.query or parts.fragment:
        raise UnsafeProviderUrlError("must not have a query string or fragment")
    return parts


async def resolve_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, as the connecting client would see them."""
    try:
        addresses = await asyncio.wait_for(resolve_host(host, port), RESOLVE_TIMEOUT_SECONDS)
    except TimeoutError:
        raise UnsafeProviderUrlError(f"host {host!r} did not resolve in time") from None
    except (OSError, UnicodeError):
        raise UnsafeProviderUrlError(f"host {host!r} does not resolve") from None
    if not addresses:
        raise UnsafeProviderUrlError(f"host {host!r} does not resolve")
    return addresses


async def check_provider_url(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeProviderUrlError unless `url` is a usable provider base URL.

    Every address the host resolves to must be public: a name with one public and one
    private address is refused, since the client may pick either.
    """
    parts = _parse(url, allow_private=allow_private)
    if allow_private:
        return
    host = parts.hostname or ""
    literal = literal_address(host)
    addresses = (
        [literal] if literal is not None else await resolve_addresses(host, parts.port or 443)
    )
    for address in addresses:
        if not is_public_address(address):
            where = host if literal is not None else f"{host} ({address})"
            raise UnsafeProviderUrlError(
                f"must not point at a loopback, private, link-local or reserved address: {where}"
            )
