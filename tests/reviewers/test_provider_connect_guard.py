"""The connection itself reaches public addresses only (DNS rebinding): SharedTransport
resolves each host, refuses unless every address is public, and connects to the address it
checked, while TLS still verifies the certificate for the name."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpcore2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reviewers.providers.addresses import IPAddress
from reviewers.providers.base import ProviderError, ProviderErrorKind
from reviewers.providers.factory import create_provider
from reviewers.providers.transport import PublicAddressBackend, SharedTransport
from sandbox.models import ModelFakeState, serve_anthropic, serve_openai
from tests.reviewers.test_providers import request

KEY = "sk-connect-guard-test-9f3a61c2"
REQUEST = request()
LOOPBACK = ipaddress.ip_address("127.0.0.1")


class Resolver:
    """A stand-in for DNS: answers from a table and records what it was asked."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = {
            name: [ipaddress.ip_address(a) for a in addresses] for name, addresses in table.items()
        }
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append((host, port))
        if host not in self.table:
            raise OSError(f"{host} is not in the table")
        return self.table[host]


@asynccontextmanager
async def fake(name: str, state: ModelFakeState) -> AsyncIterator[tuple[int, str]]:
    """A real model fake on 127.0.0.1; yields its port and the base URL's path."""
    serving = serve_anthropic(state) if name == "anthropic" else serve_openai(state)
    async with serving as base_url:
        rest = base_url.removeprefix("http://127.0.0.1:")
        port, _, path = rest.partition("/")
        yield int(port), f"/{path}" if path else ""


async def call(name: str, base_url: str, transport: SharedTransport) -> Any:
    provider = create_provider(name, api_key=KEY, base_url=base_url, transport=transport)
    try:
        return await provider.complete(REQUEST)
    finally:
        await provider.aclose()


async def refused(name: str, base_url: str, transport: SharedTransport) -> ProviderError:
    try:
        with pytest.raises(ProviderError) as raised:
            await call(name, base_url, transport)
    finally:
        await transport.close_for_good()
    # A setting to fix, not an outage to wait out: the run fails at once and says what to do.
    assert raised.value.kind is ProviderErrorKind.BAD_REQUEST
    assert not raised.value.kind.transient
    assert "not public" in raised.value.message
    assert "workspace settings" in raised.value.message
    assert KEY not in raised.value.message
    return raised.value


def connect_error(error: BaseException) -> str:
    """The ConnectError under the SDK's connection error: the guard's own words."""
    seen: BaseException | None = error
    while seen is not None:
        if type(seen).__name__ == "ConnectError":
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    raise AssertionError(f"no ConnectError under {error!r}")


PROVIDERS = pytest.mark.parametrize("name", ["anthropic", "openai"])


@PROVIDERS
async def test_a_name_that_resolves_to_loopback_is_refused_at_connect(name: str) -> None:
    state = ModelFakeState(api_keys={KEY})
    async with fake(name, state) as (port, path):
        # The real resolver: localhost is 127.0.0.1 (and perhaps ::1), never public.
        error = await refused(
            name, f"http://localhost:{port}{path}", SharedTransport(allow_private=False)
        )
    assert f"localhost:{port}" in error.message
    assert "refused to connect to localhost: it resolves to" in connect_error(error)
    assert "not a public address" in connect_error(error)
    assert state.requests == []


@PROVIDERS
async def test_a_rebinding_name_is_refused_even_after_the_url_check(name: str) -> None:
    # What a rebinding name answers at connect time, whatever it answered to the URL check.
    resolver = Resolver({"model.test": ["127.0.0.1"]})
    state = ModelFakeState(api_keys={KEY})
    async with fake(name, state) as (port, path):
        error = await refused(
            name,
            f"http://model.test:{port}{path}",
            SharedTransport(allow_private=False, resolve=resolver),
        )
    assert f"model.test:{port}" in error.message
    assert connect_error(error) == (
        "refused to connect to model.test: it resolves to 127.0.0.1, which is not a public address"
    )
    assert resolver.asked == [("model.test", port)]
    assert state.requests == []


@PROVIDERS
@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
async def test_ip_literals_are_checked_without_a_lookup(name: str, host: str) -> None:
    resolver = Resolver({})
    state = ModelFakeState(api_keys={KEY})
    async with fake(name, state) as (port, path):
        error = await refused(
            name,
            f"http://{host}:{port}{path}",
            SharedTransport(allow_private=False, resolve=resolver),
        )
    # An IPv6 literal keeps its brackets, as it was written.
    assert f"http://{host}:{port}" in error.message
    assert connect_error(error).endswith(": not a public address")
    assert resolver.asked == []
    assert state.requests == []


@pytest.mark.parametrize(
    ("addresses", "private"),
    [
        (["8.8.8.8", "127.0.0.1"], "127.0.0.1"),
        (["127.0.0.1", "8.8.8.8"], "127.0.0.1"),
        (["2606:4700:4700::1111", "169.254.169.254"], "169.254.169.254"),
        (["1.1.1.1", "::ffff:10.0.0.1"], "::ffff:a00:1"),
    ],
)
async def test_one_private_address_among_public_ones_is_refused(
    addresses: list[str], private: str
) -> None:
    # Refused before any connection: the public address is never dialled either.
    resolver = Resolver({"mixed.test": addresses})
    error = await refused(
        "anthropic",
        "https://mixed.test",
        SharedTransport(allow_private=False, resolve=resolver),
    )
    assert f"it resolves to {private}, which is not a public address" in connect_error(error)


@PROVIDERS
async def test_allow_private_connects_to_loopback_as_before(name: str) -> None:
    state = ModelFakeState(api_keys={KEY})
    transport = SharedTransport(allow_private=True)
    try:
        async with fake(name, state) as (port, path):
            for host in ("localhost", "127.0.0.1"):
                response = await call(name, f"http://{host}:{port}{path}", transport)
                assert response.output is not None
    finally:
        await transport.close_for_good()
    assert len(state.requests) == 2


@PROVIDERS
async def test_the_connection_goes_to_the_checked_address_not_the_name(name: str) -> None:
    # model.test exists in no DNS: the call can only succeed by connecting to the address the
    # resolver gave, and the request still names model.test.
    resolver = Resolver({"model.test": ["127.0.0.1"]})
    state = ModelFakeState(api_keys={KEY})
    transport = SharedTransport(allow_private=True, resolve=resolver)
    try:
        async with fake(name, state) as (port, path):
            response = await call(name, f"http://model.test:{port}{path}", transport)
    finally:
        await transport.close_for_good()
    assert response.output is not None
    assert resolver.asked == [("model.test", port)]
    assert [r.headers["host"] for r in state.requests] == [f"model.test:{port}"]


async def test_an_address_that_refuses_gives_way_to_the_next() -> None:
    # Nothing listens on 127.0.0.2 (the fake binds 127.0.0.1 only): as with a name, the next
    # address is tried.
    resolver = Resolver({"model.test": ["127.0.0.2", "127.0.0.1"]})
    state = ModelFakeState(api_keys={KEY})
    transport = SharedTransport(allow_private=True, resolve=resolver)
    try:
        async with fake("anthropic", state) as (port, path):
            response = await call("anthropic", f"http://model.test:{port}{path}", transport)
    finally:
        await transport.close_for_good()
    assert response.output is not None


async def test_a_name_that_does_not_resolve_or_hangs_is_a_connect_error() -> None:
    async def hang(host: str, port: int) -> list[IPAddress]:
        await asyncio.sleep(60)
        return []

    backend = PublicAddressBackend(resolve=Resolver({}))
    with pytest.raises(httpcore2.ConnectError, match=r"^nowhere\.test does not resolve$"):
        await backend.connect_tcp("nowhere.test", 443, timeout=1)
    backend = PublicAddressBackend(resolve=hang)
    with pytest.raises(httpcore2.ConnectTimeout, match="did not resolve in time"):
        await backend.connect_tcp("slow.test", 443, timeout=0.05)


# -- TLS: connecting by address, verifying (and SNI) by name ------------------------------


def certificate_for(name: str, directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for `name`: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{name}.pem", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@asynccontextmanager
async def tls_server(cert: Path, key: Path, seen_sni: list[str | None]) -> AsyncIterator[int]:
    """A minimal HTTPS server on 127.0.0.1 that answers every request 200 and records the
    server name each client asked for."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, server_name, _ctx: seen_sni.append(server_name)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # a client that rejected our certificate
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def test_tls_is_verified_for_the_name_while_connecting_to_the_address(
    tmp_path: Path,
) -> None:
    cert, key = certificate_for("model.test", tmp_path)
    other_cert, other_key = certificate_for("other.test", tmp_path)
    client_context = ssl.create_default_context(cafile=str(cert))
    client_context.load_verify_locations(cafile=str(other_cert))
    resolver = Resolver({"model.test": ["127.0.0.1"]})
    seen_sni: list[str | None] = []

    async with httpcore2.AsyncConnectionPool(
        ssl_context=client_context,
        network_backend=PublicAddressBackend(allow_private=True, resolve=resolver),
    ) as pool:
        async with tls_server(cert, key, seen_sni) as port:
            response = await pool.request("GET", f"https://model.test:{port}/")
            assert (response.status, response.content) == (200, b"ok")
        assert seen_sni == ["model.test"]

        # A certificate for another name, trusted but not model.test's: refused.
        async with tls_server(other_cert, other_key, seen_sni) as port:
            with pytest.raises(httpcore2.ConnectError, match="certificate verify failed"):
                await pool.request("GET", f"https://model.test:{port}/")
    assert [host for host, _port in resolver.asked] == ["model.test", "model.test"]
