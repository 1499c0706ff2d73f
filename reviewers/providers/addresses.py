"""Which IP addresses a provider connection may reach: globally routable unicast only.

The one implementation of the rule, shared by the admin-facing URL check
(app/security/urls.py) and the connect-time guard under the SDKs (transport.py). It lives
here, free of `app` imports, because the reviewers package must stand on its own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 (RFC 6052) embeds an IPv4 address in the low 32 bits; a NAT64 gateway would carry a
# request for 64:ff9b::7f00:1 to 127.0.0.1.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


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


def literal_address(host: str) -> IPAddress | None:
    """The address `host` spells, if it is an IP literal ("10.0.0.1", "[::1]"), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to for a TCP connection, in the resolver's order, each
    once. Raises OSError (socket.gaierror) or UnicodeError when the name does not resolve;
    callers bound the wait (asyncio.wait_for)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        # IPv6 sockaddrs may carry a zone ("fe80::1%eth0"); the zone is not part of the address.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses
