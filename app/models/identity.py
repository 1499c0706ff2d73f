"""People and tenants: users, workspaces, the workspace's team, memberships, invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantMixin, created_at_column, updated_at_column, uuid_pk


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    BILLING = "billing"


ROLE_CHECK = "role IN ('owner', 'admin', 'member', 'billing')"


class User(Base):
    """An individual. Users are global (one person, many workspaces) and soft deleted."""

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_github_id", "github_id", unique=True),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(Text)
    github_id: Mapped[int | None] = mapped_column(BigInteger)
    github_login: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Workspace(Base):
    """The tenant. Everything else hangs off a workspace; it is soft deleted, never removed."""

    __tablename__ = "workspaces"
    __table_args__ = (
        Index(
            "uq_workspaces_slug_live",
            "slug",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9._-]*$'", name="slug_format"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    slug: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Team(TenantMixin, Base):
    """The membership container of a workspace: exactly one per workspace."""

    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("workspace_id"),
        UniqueConstraint("id", "workspace_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class TeamMember(TenantMixin, Base):
    __tablename__ = "team_members"
    __table_args__ = (
        Index("ix_team_members_workspace_id", "workspace_id"),
        UniqueConstraint("team_id", "user_id"),
        # The team must belong to the same workspace as the membership row.
        ForeignKeyConstraint(
            ["team_id", "workspace_id"],
            ["teams.id", "teams.workspace_id"],
            name="fk_team_members_team_workspace",
            ondelete="CASCADE",
        ),
        CheckConstraint(ROLE_CHECK, name="role"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    team_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Invitation(TenantMixin, Base):
    """An invitation to join a workspace's team. `token` holds only the SHA-256 of the token."""

    __tablename__ = "invitations"
    __table_args__ = (
        Index("ix_invitations_workspace_id", "workspace_id"),
        UniqueConstraint("token"),
        ForeignKeyConstraint(
            ["team_id", "workspace_id"],
            ["teams.id", "teams.workspace_id"],
            name="fk_invitations_team_workspace",
            ondelete="CASCADE",
        ),
        CheckConstraint(ROLE_CHECK, name="role"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    team_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    email: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    token: Mapped[bytes] = mapped_column(
        LargeBinary, nullable=False, comment="SHA-256 of the invitation token; never the token"
    )
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
