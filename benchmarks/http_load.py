"""A minimal HTTP/1.1 keep-alive client on asyncio streams, so that on a 2-core machine the
load generator spends as little CPU as possible and the figures are about the server."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlsplit


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, float]:
        """Send one request, read the whole response; (status, seconds to the full answer)."""
        head = [f"POST {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        started = time.perf_counter()
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1]), time.perf_counter() - started

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def delivery_headers(signed: dict[str, str]) -> dict[str, str]:
    """The signed headers with a fresh delivery GUID (the signature covers the body only)."""
    return {**signed, "X-GitHub-Delivery": str(uuid.uuid4())}
