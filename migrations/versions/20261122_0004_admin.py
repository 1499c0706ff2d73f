"""admin API: the usage records feed's transaction ids and the usage query indexes

`usage_records.xact_id` is the id of the transaction that wrote a row. The records feed pages
by (xact_id, id) and returns only rows whose transaction is older than every transaction still
open (`pg_snapshot_xmin`), so a row committed later can never land behind a cursor already
handed out. Rows that exist before this revision get the migrating transaction's id: they are
all committed and all older than anything written afterwards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


USAGE_SUMS_INDEX = "ix_usage_records_workspace_id_created_at"
# What a usage sum groups and sums: carried in the index, so a workspace's month is read from
# the index alone instead of from thousands of heap pages.
USAGE_SUMS_INCLUDE = ["type", "quantity", "repository_id", "model"]


def upgrade() -> None:
    op.add_column(
        "usage_records",
        sa.Column(
            "xact_id",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id())::text::bigint"),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_usage_records_workspace_id_xact_id_id",
        "usage_records",
        ["workspace_id", "xact_id", "id"],
        unique=False,
    )
    op.drop_index(USAGE_SUMS_INDEX, table_name="usage_records")
    op.create_index(
        USAGE_SUMS_INDEX,
        "usage_records",
        ["workspace_id", "created_at"],
        unique=False,
        postgresql_include=USAGE_SUMS_INCLUDE,
    )


def downgrade() -> None:
    op.drop_index(USAGE_SUMS_INDEX, table_name="usage_records")
    op.create_index(USAGE_SUMS_INDEX, "usage_records", ["workspace_id", "created_at"], unique=False)
    op.drop_index("ix_usage_records_workspace_id_xact_id_id", table_name="usage_records")
    op.drop_column("usage_records", "xact_id")
