"""runs by pull request

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 17:35:00+00:00

Every pull request event supersedes the PR's pending runs, and a review reads the PR's earlier
runs (posted fingerprints, the last reviewed head): without this index each of those scanned
every run of the repository, a cost that grew with the repository's history.
Built CONCURRENTLY: runs is the busiest table, and writes must not wait for the build.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_runs_repository_id_pull_request_number"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "runs",
            ["repository_id", "pull_request_number"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name="runs", postgresql_concurrently=True, if_exists=True)
