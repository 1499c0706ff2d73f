"""Opaque pagination cursors: the keyset position of the last item a page returned.

A cursor is base64url text of the key's parts joined by `|`. It is opaque to clients (they
pass back what they got) but not secret: it only names a position in their own data.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from app.errors import ApiError

IdT = TypeVar("IdT")


def encode_cursor(*parts: object) -> str:
    text = "|".join(str(part) for part in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, count: int, field: str) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
    except (binascii.Error, UnicodeError, ValueError):
        parts = []
    if len(parts) != count:
        raise invalid_cursor(field)
    return parts


def invalid_cursor(field: str) -> ApiError:
    return ApiError(
        422, "invalid_request", f"{field}: is not a cursor this API returned (use `next`)"
    )


def decode_time_cursor(
    cursor: str, parse_id: Callable[[str], IdT], field: str = "after"
) -> tuple[datetime, IdT]:
    """A (created_at, id) position, for lists ordered newest first."""
    created_at, row_id = _decode(cursor, 2, field)
    try:
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise ValueError
        return moment, parse_id(row_id)
    except (ValueError, OverflowError):
        raise invalid_cursor(field) from None


def decode_int_cursor(cursor: str, count: int, field: str = "after") -> tuple[int, ...]:
    parts = _decode(cursor, count, field)
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        raise invalid_cursor(field) from None
    # Postgres bigints: anything outside cannot be a position we handed out.
    if any(not -(2**63) <= value < 2**63 for value in values):
        raise invalid_cursor(field)
    return values
