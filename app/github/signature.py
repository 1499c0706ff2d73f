"""GitHub's webhook signature: HMAC-SHA256 of the raw body, in `X-Hub-Signature-256`."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    """True only for a `sha256=` signature of exactly these bytes. A SHA-1 `X-Hub-Signature`
    is never accepted (githubkit's verify() would silently fall back to it)."""
    if not header or not header.startswith(PREFIX):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len(PREFIX) :].strip().lower())
