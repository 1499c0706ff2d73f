"""Source-control platforms: providers, connections, installations, repositories, settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantMixin, created_at_column, updated_at_column, uuid_pk


class Provider(Base):
    """A supported platform (reference data: `github` ships with the migrations)."""

    __tablename__ = "providers"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    slug: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()


class Connection(TenantMixin, Base):
    """Authorization state between a workspace and a provider."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("workspace_id", "provider_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Installation(TenantMixin, Base):
    """Sentinel installed in a provider account (a GitHub App installation)."""

    __tablename__ = "installations"
    __table_args__ = (
        Index("ix_installations_workspace_id", "workspace_id"),
        UniqueConstraint("provider_id", "external_id"),
        UniqueConstraint("id", "workspace_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False
    )
    external_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    account_login: Mapped[str | None] = mapped_column(Text)
    account_type: Mapped[str | None] = mapped_column(String(30))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Repository(TenantMixin, Base):
    """A repository reachable through an installation. Soft deleted, never removed."""

    __tablename__ = "repositories"
    __table_args__ = (
        Index("ix_repositories_workspace_id", "workspace_id"),
        UniqueConstraint("installation_id", "external_id"),
        UniqueConstraint("id", "workspace_id"),
        ForeignKeyConstraint(
            ["installation_id", "workspace_id"],
            ["installations.id", "installations.workspace_id"],
            name="fk_repositories_installation_workspace",
            ondelete="RESTRICT",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    installation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    external_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False, comment="full name, owner/repo")
    default_branch: Mapped[str | None] = mapped_column(Text)
    is_enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true"), default=True
    )
    is_private: Mapped[bool | None] = mapped_column(Boolean)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class RepositorySettings(TenantMixin, Base):
    """The admin's settings document for one repository (validated like `.sentinel.yml`)."""

    __tablename__ = "repository_settings"
    __table_args__ = (
        Index("ix_repository_settings_workspace_id", "workspace_id"),
        UniqueConstraint("repository_id"),
        ForeignKeyConstraint(
            ["repository_id", "workspace_id"],
            ["repositories.id", "repositories.workspace_id"],
            name="fk_repository_settings_repository_workspace",
            ondelete="RESTRICT",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    repository_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    settings: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
