"""Plans, subscriptions and metered usage."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantMixin, created_at_column, uuid_pk


class Plan(Base):
    """A subscription plan (reference data: free, team, enterprise ship with the migrations)."""

    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    limits: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    features: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class Subscription(TenantMixin, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_workspace_id", "workspace_id"),
        # At most one live subscription per workspace.
        Index(
            "uq_subscriptions_live",
            "workspace_id",
            unique=True,
            postgresql_where=text("status IN ('active', 'trialing', 'past_due')"),
        ),
        CheckConstraint(
            "status IN ('active', 'trialing', 'past_due', 'canceled', 'ended')", name="status"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    plan_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("plans.id", ondelete="RESTRICT"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class UsageRecord(TenantMixin, Base):
    """Metered usage from a run. Append-only; exactly one record per (run, type)."""

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("run_id", "type"),
        ForeignKeyConstraint(
            ["run_id", "workspace_id"],
            ["runs.id", "runs.workspace_id"],
            name="fk_usage_records_run_workspace",
            ondelete="RESTRICT",
        ),
        # Usage sums of one workspace and period read only the index (an index-only scan):
        # the columns they group and sum ride along (app/usage/queries.py).
        Index(
            "ix_usage_records_workspace_id_created_at",
            "workspace_id",
            "created_at",
            postgresql_include=["type", "quantity", "repository_id", "model"],
        ),
        # The records feed pages by (xact_id, id) within a workspace (app/usage/queries.py).
        Index("ix_usage_records_workspace_id_xact_id_id", "workspace_id", "xact_id", "id"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        CheckConstraint("type IN ('review', 'llm_input_tokens', 'llm_output_tokens')", name="type"),
    )

    # A bigint identity: compact on a table that grows by millions, and an order for cursors.
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    repository_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    model: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    created_at: Mapped[datetime] = created_at_column()
    # The id of the transaction that wrote the row. The records feed returns only rows of
    # transactions older than every open one, so a row can never appear behind its cursor.
    xact_id: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("(pg_current_xact_id())::text::bigint")
    )
