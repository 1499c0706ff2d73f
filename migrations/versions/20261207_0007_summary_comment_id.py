"""pull request summary comment id

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 06:30:00+00:00

The id of the one summary comment Sentinel keeps on a pull request: the next review updates
it directly instead of listing every comment of the pull request to find it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pull_requests", sa.Column("summary_comment_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("pull_requests", "summary_comment_id")
