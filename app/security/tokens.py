"""API and invitation tokens: random, shown once, stored as SHA-256, compared in constant time.

The tokens carry 256 bits of randomness, so a fast unsalted hash is enough: there is nothing
to brute-force that a slow hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "snt_"  # noqa: S105 - a public prefix, not a secret
DISPLAY_PREFIX_LENGTH = 12  # "snt_" and 8 characters: enough to recognise, useless to guess


def generate_token(prefix: str = API_TOKEN_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_matches(token: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


def display_prefix(token: str) -> str:
    return token[:DISPLAY_PREFIX_LENGTH]


def looks_like_api_token(token: str) -> bool:
    return token.startswith(API_TOKEN_PREFIX) and 20 <= len(token) <= 200
