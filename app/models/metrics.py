"""Precomputed per-day aggregates for dashboards, updated asynchronously by a rollup."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantMixin, updated_at_column


class WorkspaceDailyMetric(TenantMixin, Base):
    __tablename__ = "workspace_daily_metrics"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("workspaces.id", ondelete="RESTRICT"), primary_key=True
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    runs_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    findings_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    critical_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    warning_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    tokens_estimated: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0")
    )
    updated_at: Mapped[datetime] = updated_at_column()
