"""API tokens for the REST API. Only a SHA-256 of the token is stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantMixin, created_at_column, uuid_pk
from app.models.identity import ROLE_CHECK


class ApiToken(TenantMixin, Base):
    __tablename__ = "api_tokens"
    __table_args__ = (
        Index("ix_api_tokens_workspace_id", "workspace_id"),
        Index("uq_api_tokens_token_hash", "token_hash", unique=True),
        CheckConstraint(ROLE_CHECK, name="role"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    token_prefix: Mapped[str] = mapped_column(
        String(20), nullable=False, comment="the first characters, to recognise a token"
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
