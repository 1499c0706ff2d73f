"""Append-only audit events. Metadata must never carry a secret: callers pass masked values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent
from app.repository import WorkspaceRepository


@dataclass(frozen=True)
class Actor:
    type: str  # user, token, github or system
    id: str | None = None


OPERATOR_CLI = Actor(type="system", id="cli")
BILLING_OPERATOR = Actor(type="system", id="billing")


class AuditRepository(WorkspaceRepository[AuditEvent]):
    model = AuditEvent


async def record_audit_event(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str | None,
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditRepository(session, workspace_id).add(
        AuditEvent(
            workspace_id=workspace_id,
            actor_type=actor.type,
            actor_id=actor.id,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            metadata_=metadata or {},
        )
    )
    await session.flush()
    return event
