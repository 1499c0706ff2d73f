"""Console sessions: a browser signed in with an API token. The cookie carries a random
secret; only its SHA-256 is stored. A session acts as its token (same workspace and role),
ends when the token is revoked, at sign-out, or when it expires."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, LargeBinary, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantMixin, created_at_column, uuid_pk


class ConsoleSession(TenantMixin, Base):
    __tablename__ = "console_sessions"
    __table_args__ = (
        Index("ix_console_sessions_workspace_id", "workspace_id"),
        Index("uq_console_sessions_secret_hash", "secret_hash", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    api_token_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False
    )
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    owns_token: Mapped[bool] = mapped_column(
        Boolean,
        nullable=False,
        server_default=text("false"),
        default=False,
        comment="the token was minted for this session (GitHub sign-in): revoked with it",
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
