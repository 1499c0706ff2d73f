"""app/security/urls.py: which provider base URLs pass, without the API around it. The worker
calls the same function again at connect time."""

from __future__ import annotations

import ipaddress

import pytest

from app.security.urls import UnsafeProviderUrlError, check_provider_url, is_public_address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254",
        "100.64.0.1", "100.127.255.255", "0.0.0.0", "255.255.255.255", "224.0.0.1",  # noqa: S104
        "239.255.255.250", "192.0.2.1", "198.18.0.1", "240.0.0.1",
        "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
        "2002:7f00:1::", "2002:a00:1::", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2001:db8::1",
    ],
)  # fmt: skip
def test_addresses_inside_or_special_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]
)
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


async def test_public_literal_needs_no_lookup() -> None:
    await check_provider_url("https://8.8.8.8/v1", allow_private=False)
    await check_provider_url("https://[2606:4700:4700::1111]:8443/v1", allow_private=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://localhost/v1", "loopback"),
        ("https://127.0.0.1", "loopback"),
        ("https://[::1]", "loopback"),
        ("http://8.8.8.8", "https"),
        ("https://", "must name a host"),
        ("https://a:b@8.8.8.8", "user name or password"),
        ("https://8.8.8.8/v1?key=x", "query string"),
        ("https://8.8.8.8:99999", "not a valid URL"),
        ("https://8.8.8.8/ v1", "whitespace"),
        ("https://name.invalid", "does not resolve"),
    ],
)
async def test_rejections_say_why(url: str, message: str) -> None:
    with pytest.raises(UnsafeProviderUrlError) as raised:
        await check_provider_url(url, allow_private=False)
    assert message in str(raised.value)


async def test_allow_private_admits_local_http_but_still_checks_syntax() -> None:
    await check_provider_url("http://127.0.0.1:8080/v1", allow_private=True)
    await check_provider_url("https://localhost/v1", allow_private=True)
    with pytest.raises(UnsafeProviderUrlError):
        await check_provider_url("ftp://127.0.0.1", allow_private=True)
    with pytest.raises(UnsafeProviderUrlError):
        await check_provider_url("http://user:pw@127.0.0.1", allow_private=True)
