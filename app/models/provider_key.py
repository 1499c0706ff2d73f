"""BYOK model-provider credentials, encrypted at rest (see app/security/encryption.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantMixin, created_at_column, updated_at_column, uuid_pk


class ProviderKey(TenantMixin, Base):
    __tablename__ = "provider_keys"
    __table_args__ = (
        UniqueConstraint("workspace_id", "provider"),
        CheckConstraint("provider IN ('anthropic', 'openai')", name="provider"),
        CheckConstraint("key_version >= 1", name="key_version_positive"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider: Mapped[str] = mapped_column(String(30), nullable=False)
    encrypted_key: Mapped[bytes] = mapped_column(
        LargeBinary, nullable=False, comment="AES-256-GCM nonce || ciphertext || tag"
    )
    key_version: Mapped[int] = mapped_column(
        Integer, nullable=False, comment="version of SENTINEL_ENCRYPTION_KEYS that sealed it"
    )
    key_last4: Mapped[str] = mapped_column(String(4), nullable=False)
    base_url: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
