"""console sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00+00:00

A browser signed in to the web console: a random secret in an HttpOnly cookie, stored as its
SHA-256, acting as the API token it was opened with (or, signed in with GitHub, one minted
for it and revoked with it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from migration_sql import disable_tenant_rls, enable_tenant_rls, grant_runtime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "console_sessions"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("api_token_id", sa.UUID(), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(), nullable=False),
        sa.Column(
            "owns_token",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="the token was minted for this session (GitHub sign-in): revoked with it",
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_token_id"],
            ["api_tokens.id"],
            name=op.f("fk_console_sessions_api_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_console_sessions_workspace_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    op.create_index("ix_console_sessions_workspace_id", TABLE, ["workspace_id"])
    op.create_index("uq_console_sessions_secret_hash", TABLE, ["secret_hash"], unique=True)
    enable_tenant_rls(TABLE)
    # DELETE: the sweeper forgets sessions a day after they ended.
    grant_runtime(TABLE, "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    disable_tenant_rls(TABLE)
    op.drop_index("uq_console_sessions_secret_hash", table_name=TABLE)
    op.drop_index("ix_console_sessions_workspace_id", table_name=TABLE)
    op.drop_table(TABLE)
