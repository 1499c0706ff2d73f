"""run model responses

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 14:50:00+00:00

Each model answer of a run is kept the moment it arrives, so a run executed again after a
Postgres restart or a killed worker never calls the customer's model twice for one chunk.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from migration_sql import disable_tenant_rls, enable_tenant_rls, grant_runtime, make_append_only
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "run_model_responses"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column(
            "request_digest",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the request: model, prompt, schema",
        ),
        sa.Column("output", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("latency_seconds", sa.Float(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "workspace_id"],
            ["runs.id", "runs.workspace_id"],
            name="fk_run_model_responses_run_workspace",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_run_model_responses_workspace_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_model_responses")),
        sa.UniqueConstraint(
            "run_id", "request_digest", name=op.f("uq_run_model_responses_run_id_request_digest")
        ),
    )
    op.create_index(
        "ix_run_model_responses_workspace_id_created_at",
        TABLE,
        ["workspace_id", "created_at"],
        unique=False,
    )
    enable_tenant_rls(TABLE)
    grant_runtime(TABLE, "SELECT, INSERT")
    make_append_only(TABLE)


def downgrade() -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    disable_tenant_rls(TABLE)
    op.drop_index("ix_run_model_responses_workspace_id_created_at", table_name=TABLE)
    op.drop_table(TABLE)
