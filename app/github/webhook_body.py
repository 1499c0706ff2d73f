"""Reading a webhook body so that an unauthenticated sender costs little.

Until the signature is checked, the sender is unknown: anyone on the internet can post to
`/webhooks/github`. So:
- a request without a well-formed `X-Hub-Signature-256` is refused before a byte of its
  body is read;
- the HMAC is computed while the body streams in, never over a second copy;
- a body up to SMALL_BODY_BYTES (where nearly all GitHub deliveries fall) is read freely;
  past that, only LARGE_BODIES_AT_ONCE bodies per process are read at a time (GitHub's cap is
  25 MB, so unverified bodies can hold at most that many times 25 MB of memory), and a
  sender that waits too long for a slot, or sends too slowly, is refused;
- the whole body must arrive within BODY_DEADLINE_SECONDS (a slow sender holds no slot long).
A refused genuine delivery is not lost: GitHub records it as failed and the recovery job
redelivers it (app/github/recovery.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from dataclasses import dataclass

from fastapi import Request

PREFIX = "sha256="
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")

# GitHub caps payloads at 25 MB; anything larger is not from GitHub.
MAX_BODY_BYTES = 25 * 1024 * 1024
SMALL_BODY_BYTES = 1024 * 1024
LARGE_BODIES_AT_ONCE = 4
LARGE_BODY_WAIT_SECONDS = 5.0
BODY_DEADLINE_SECONDS = 30.0


class BodyRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


BAD_SIGNATURE = BodyRefused(
    401, "invalid_signature", "missing or wrong X-Hub-Signature-256 (sha256=...)"
)
TOO_LARGE = BodyRefused(413, "payload_too_large", "the body exceeds GitHub's 25 MB limit")


@dataclass
class _LargeBodies:
    """The process's slots for bodies past the small cap, made on first use (the event
    loop that serves requests owns them)."""

    semaphore: asyncio.Semaphore | None = None

    def get(self) -> asyncio.Semaphore:
        if self.semaphore is None:
            self.semaphore = asyncio.Semaphore(LARGE_BODIES_AT_ONCE)
        return self.semaphore


_large = _LargeBodies()


def well_formed_signature(header: str | None) -> str | None:
    """The hex digest of a `sha256=` signature header, or None. SHA-1's `X-Hub-Signature`
    is never accepted (githubkit's verify() would silently fall back to it)."""
    if header is None:
        return None
    value = header.strip().lower()
    return value[len(PREFIX) :] if _SIGNATURE.fullmatch(value) else None


async def read_signed_body(request: Request, secret: str) -> bytes:
    """The body, once its signature matched; raises BodyRefused otherwise."""
    claimed = well_formed_signature(request.headers.get("x-hub-signature-256"))
    if claimed is None:
        raise BAD_SIGNATURE
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TOO_LARGE
    try:
        async with asyncio.timeout(BODY_DEADLINE_SECONDS):
            body = await _stream(request, secret, claimed)
    except TimeoutError:
        raise BodyRefused(
            408, "body_timeout", f"the body did not arrive within {BODY_DEADLINE_SECONDS:.0f} s"
        ) from None
    return body


async def _stream(request: Request, secret: str, claimed: str) -> bytes:
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    body = bytearray()
    slot: asyncio.Semaphore | None = None
    try:
        async for chunk in request.stream():
            if slot is None and len(body) + len(chunk) > SMALL_BODY_BYTES:
                slot = await _take_large_slot()
            if len(body) + len(chunk) > MAX_BODY_BYTES:
                raise TOO_LARGE
            mac.update(chunk)
            body += chunk
    finally:
        if slot is not None:
            slot.release()
    if not hmac.compare_digest(mac.hexdigest(), claimed):
        raise BAD_SIGNATURE
    return bytes(body)


async def _take_large_slot() -> asyncio.Semaphore:
    semaphore = _large.get()
    try:
        async with asyncio.timeout(LARGE_BODY_WAIT_SECONDS):
            await semaphore.acquire()
    except TimeoutError:
        raise BodyRefused(
            503, "busy", "too many large deliveries at once; GitHub's redelivery will retry"
        ) from None
    return semaphore
