"""Where a provider key's `base_url` may point: a public HTTPS endpoint, never inside our network.

An admin chooses `base_url`, and the worker later sends the customer's key and code there. A
URL that reaches loopback, a private range or the cloud metadata service (169.254.169.254)
would turn Sentinel into a proxy into its own network (SSRF). The check runs when the key is
saved and again when the worker connects, because the name may resolve elsewhere by then.

`SENTINEL_ALLOW_PRIVATE_PROVIDER_URLS=true` lifts the address and scheme rules for development
and tests (a model server on localhost, over plain HTTP); URL syntax is still checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_SECONDS = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 (RFC 6052) embeds an IPv4 address in the low 32 bits; a NAT64 gateway would carry a
# request for 64:ff9b::7f00:1 to 127.0.0.1.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeProviderUrlError(ValueError):
    """The URL may not be used for a provider. The message says why, for the admin."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4, Teredo or NAT64 address carries, if any."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses.

    `is_global` alone is not enough on Python 3.11: it calls some multicast addresses global
    and does not look inside IPv4-mapped IPv6 addresses (::ffff:127.0.0.1).
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket, nothing more.
            return is_public_address(address.ipv4_mapped)
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public_address(embedded):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


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


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, as the connecting client would see them."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM),
            timeout=RESOLVE_TIMEOUT_SECONDS,
        )
    except TimeoutError:
        raise UnsafeProviderUrlError(f"host {host!r} did not resolve in time") from None
    except (OSError, UnicodeError):
        raise UnsafeProviderUrlError(f"host {host!r} does not resolve") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        # IPv6 sockaddrs may carry a zone ("fe80::1%eth0"); the zone is not part of the address.
        text = str(sockaddr[0]).split("%", 1)[0]
        addresses.append(ipaddress.ip_address(text))
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
    literal = _literal_address(host)
    addresses = (
        [literal] if literal is not None else await resolve_addresses(host, parts.port or 443)
    )
    for address in addresses:
        if not is_public_address(address):
            where = host if literal is not None else f"{host} ({address})"
            raise UnsafeProviderUrlError(
                f"must not point at a loopback, private, link-local or reserved address: {where}"
            )
