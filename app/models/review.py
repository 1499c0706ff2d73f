"""Review runs, the findings they produce, and where findings were surfaced."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantMixin, created_at_column, updated_at_column, uuid_pk


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


TERMINAL_RUN_STATUSES = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.SKIPPED,
        RunStatus.SUPERSEDED,
        RunStatus.CANCELLED,
    }
)


class RunKind(StrEnum):
    # automatic: one per (repository, pull request, head SHA), deduplicated by the database.
    AUTOMATIC = "automatic"
    # manual: asked for by a person (a PR comment command, a check-run re-run).
    MANUAL = "manual"


def _in_list(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Run(TenantMixin, Base):
    """One review execution. Immutable once it reaches a terminal status (a trigger enforces)."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("id", "workspace_id"),
        ForeignKeyConstraint(
            ["repository_id", "workspace_id"],
            ["repositories.id", "repositories.workspace_id"],
            name="fk_runs_repository_workspace",
            ondelete="RESTRICT",
        ),
        Index("ix_runs_workspace_id_created_at", "workspace_id", "created_at"),
        Index("ix_runs_repository_id_created_at", "repository_id", "created_at"),
        # A pull request's runs: superseded by each event, read back by each review.
        Index("ix_runs_repository_id_pull_request_number", "repository_id", "pull_request_number"),
        Index(
            "uq_runs_automatic_head",
            "repository_id",
            "pull_request_number",
            "head_sha",
            unique=True,
            postgresql_where=text("kind = 'automatic'"),
        ),
        CheckConstraint(_in_list("status", RunStatus), name="status"),
        CheckConstraint(_in_list("kind", RunKind), name="kind"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    repository_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    external_reference: Mapped[str] = mapped_column(
        Text, nullable=False, comment="owner/repo#number@head_sha"
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    trigger: Mapped[str] = mapped_column(
        String(60), nullable=False, comment="what asked for the run, e.g. pull_request.opened"
    )
    pull_request_number: Mapped[int] = mapped_column(Integer, nullable=False)
    head_sha: Mapped[str] = mapped_column(String(64), nullable=False)
    base_sha: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default=text("'queued'"), default=RunStatus.QUEUED
    )
    status_reason: Mapped[str | None] = mapped_column(
        Text, comment="why the run is in its status, in words an admin can act on"
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    metrics: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    policy_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Finding(TenantMixin, Base):
    """An issue a reviewer found in a run. Append-only: UPDATE and DELETE are rejected."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("id", "workspace_id"),
        ForeignKeyConstraint(
            ["run_id", "workspace_id"],
            ["runs.id", "runs.workspace_id"],
            name="fk_findings_run_workspace",
            ondelete="RESTRICT",
        ),
        Index("ix_findings_run_id", "run_id"),
        Index("ix_findings_workspace_id_created_at", "workspace_id", "created_at"),
        CheckConstraint("severity IN ('critical', 'warning', 'info')", name="severity"),
        CheckConstraint(
            "category IN ('bug', 'security', 'performance', 'maintainability', 'style', "
            "'docs', 'test')",
            name="category",
        ),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence"),
        CheckConstraint("line_end >= line_start", name="line_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    category: Mapped[str] = mapped_column(String(30), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    file_path: Mapped[str] = mapped_column(Text, nullable=False)
    line_start: Mapped[int] = mapped_column(Integer, nullable=False)
    line_end: Mapped[int] = mapped_column(Integer, nullable=False)
    confidence: Mapped[float] = mapped_column(Float, nullable=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    created_at: Mapped[datetime] = created_at_column()


class Annotation(TenantMixin, Base):
    """Where a finding was surfaced on the platform (review comment, check annotation...).

    Append-only: UPDATE and DELETE are rejected.
    """

    __tablename__ = "annotations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["finding_id", "workspace_id"],
            ["findings.id", "findings.workspace_id"],
            name="fk_annotations_finding_workspace",
            ondelete="RESTRICT",
        ),
        UniqueConstraint("finding_id", "type"),
        Index("ix_annotations_workspace_id_created_at", "workspace_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    finding_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False
    )
    external_id: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(
        String(40), nullable=False, comment="review_comment, check_annotation or summary"
    )
    created_at: Mapped[datetime] = created_at_column()


class ModelResponseRecord(TenantMixin, Base):
    """A model's answer to one request of a run, kept the moment it arrives.

    A run that is executed again (a Postgres restart, a worker killed, a retry) reuses these
    instead of calling the customer's model a second time for the same chunk. Append-only.
    """

    __tablename__ = "run_model_responses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["run_id", "workspace_id"],
            ["runs.id", "runs.workspace_id"],
            name="fk_run_model_responses_run_workspace",
            ondelete="RESTRICT",
        ),
        UniqueConstraint("run_id", "request_digest"),
        Index("ix_run_model_responses_workspace_id_created_at", "workspace_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    request_digest: Mapped[str] = mapped_column(
        String(64), nullable=False, comment="SHA-256 of the request: model, prompt, schema"
    )
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    raw_text: Mapped[str] = mapped_column(Text, nullable=False)
    input_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    output_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    model: Mapped[str] = mapped_column(Text, nullable=False)
    latency_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
