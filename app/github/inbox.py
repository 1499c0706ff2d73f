"""The delivery inbox: every signed delivery is recorded, once, before it is acknowledged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Postgres JSONB cannot hold U+0000; GitHub payloads can (a PR body is anyone's text).
NUL_ESCAPE = b"\\u0000"


@dataclass(frozen=True)
class RecordedDelivery:
    inbox_id: int
    already_processed: bool


def _payload_text(body: bytes, payload: dict[str, Any]) -> str:
    if NUL_ESCAPE in body:
        return json.dumps(payload).replace("\\u0000", "")
    # The verified bytes are already JSON: hand them to Postgres as they are.
    return body.decode("utf-8")


def installation_id_of(payload: dict[str, Any]) -> int | None:
    installation = payload.get("installation")
    if isinstance(installation, dict) and isinstance(installation.get("id"), int):
        return int(installation["id"])
    return None


async def record_delivery(
    connection: AsyncConnection, *, guid: str, event: str, body: bytes, payload: dict[str, Any]
) -> RecordedDelivery:
    """Insert the delivery if new. A redelivery of one that has not been processed (it
    failed, or is still pending) is scheduled again; a processed one is left alone.

    One statement, run in autocommit: when it returns, the delivery is durable."""
    action = payload.get("action")
    row = (
        await connection.execute(
            text(
                """
                INSERT INTO webhook_deliveries
                    (delivery_id, event, action, installation_id, payload)
                VALUES (:guid, :event, :action, :installation_id, CAST(:payload AS jsonb))
                ON CONFLICT (delivery_id) DO UPDATE
                    SET next_attempt_at = now(), outcome = NULL
                    WHERE webhook_deliveries.processed_at IS NULL
                RETURNING id
                """
            ),
            {
                "guid": guid,
                "event": event,
                "action": action if isinstance(action, str) else None,
                "installation_id": installation_id_of(payload),
                "payload": _payload_text(body, payload),
            },
        )
    ).first()
    if row is not None:
        return RecordedDelivery(inbox_id=int(row[0]), already_processed=False)
    existing = (
        await connection.execute(
            text("SELECT id FROM webhook_deliveries WHERE delivery_id = :guid"), {"guid": guid}
        )
    ).scalar_one()
    return RecordedDelivery(inbox_id=int(existing), already_processed=True)
