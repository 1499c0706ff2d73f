"""`/v1/workspaces/{workspace}/audit-events`: who changed what, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import tuple_

from app.admin.cursors import decode_time_cursor, encode_cursor
from app.admin.deps import Managers
from app.audit import AuditRepository
from app.models import AuditEvent

router = APIRouter(prefix="/audit-events", tags=["audit"])


class AuditEventOut(BaseModel):
    id: int
    actor_type: str = Field(description="user, token, github or system")
    actor_id: str | None = Field(description="For a token actor, the token's id")
    action: str = Field(description="e.g. provider_key.saved, member.role_changed")
    resource_type: str
    resource_id: str | None
    metadata: dict[str, Any] = Field(description="What changed (before/after), never secrets")
    created_at: datetime


class AuditEventPage(BaseModel):
    events: list[AuditEventOut]
    next: str | None = Field(description="Pass as `after` for older events; null at the end")


@router.get("", response_model=AuditEventPage, summary="Audit events, newest first")
async def list_audit_events(
    context: Managers,
    action: Annotated[
        str | None,
        Query(max_length=100, pattern=r"^[a-z0-9_.]+$", description="Only this action"),
    ] = None,
    resource_type: Annotated[str | None, Query(max_length=50, pattern=r"^[a-z0-9_]+$")] = None,
    after: Annotated[
        str | None, Query(max_length=200, description="The `next` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditEventPage:
    """Every admin write (and system actions) with its actor. Owners and admins."""
    audit = AuditRepository(context.session, context.workspace_id)
    statement = audit.select()
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    if resource_type is not None:
        statement = statement.where(AuditEvent.resource_type == resource_type)
    if after is not None:
        position = decode_time_cursor(after, int)
        statement = statement.where(tuple_(AuditEvent.created_at, AuditEvent.id) < position)
    statement = statement.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(
        limit + 1
    )
    rows = list((await context.session.execute(statement)).scalars())
    page = rows[:limit]
    next_cursor = (
        encode_cursor(page[-1].created_at.isoformat(), page[-1].id) if len(rows) > limit else None
    )
    return AuditEventPage(
        events=[
            AuditEventOut(
                id=row.id,
                actor_type=row.actor_type,
                actor_id=row.actor_id,
                action=row.action,
                resource_type=row.resource_type,
                resource_id=row.resource_id,
                metadata=row.metadata_ or {},
                created_at=row.created_at,
            )
            for row in page
        ],
        next=next_cursor,
    )
