"""Migrations: from an empty database, idempotent, complete, and in step with the models."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from alembic import command

from tests.conftest import _libpq_url, create_database, drop_database
from tests.support.migrations import alembic_config

SENTINEL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "sentinel"

# Every table and field of the authoritative data model (sentinel-data-model.md).
SEED_MODEL = {
    "users": ["id", "name", "email", "avatar_url", "created_at", "updated_at"],
    "workspaces": ["id", "name", "owner_user_id", "created_at", "updated_at"],
    "teams": ["id", "workspace_id", "name", "created_at", "updated_at"],
    "team_members": ["id", "team_id", "user_id", "role", "created_at", "updated_at"],
    "invitations": ["id", "team_id", "email", "role", "token", "expires_at", "created_at"],
    "providers": ["id", "name", "slug", "created_at"],
    "connections": [
        "id", "workspace_id", "provider_id", "status", "metadata", "created_at", "updated_at",
    ],
    "installations": [
        "id", "workspace_id", "provider_id", "external_id", "metadata", "created_at",
        "updated_at",
    ],
    "repositories": [
        "id", "workspace_id", "installation_id", "external_id", "name", "default_branch",
        "is_enabled", "created_at", "updated_at",
    ],
    "repository_settings": ["id", "repository_id", "settings", "created_at", "updated_at"],
    "runs": [
        "id", "workspace_id", "repository_id", "external_reference", "status", "started_at",
        "completed_at", "metrics", "policy_snapshot", "created_at",
    ],
    "findings": [
        "id", "run_id", "workspace_id", "severity", "category", "title", "description",
        "file_path", "line_start", "line_end", "confidence", "metadata", "created_at",
    ],
    "annotations": ["id", "finding_id", "provider_id", "external_id", "type", "created_at"],
    "policies": ["id", "workspace_id", "name", "config", "version", "created_at"],
    "plans": ["id", "name", "limits", "features", "created_at"],
    "subscriptions": [
        "id", "workspace_id", "plan_id", "status", "started_at", "ends_at", "created_at",
    ],
    "usage_records": ["id", "workspace_id", "run_id", "type", "quantity", "metadata", "created_at"],
    "provider_keys": [
        "id", "workspace_id", "provider", "encrypted_key", "created_at", "updated_at",
    ],
    "workspace_daily_metrics": [
        "workspace_id", "date", "runs_count", "findings_count", "critical_count",
        "warning_count", "tokens_estimated",
    ],
    # What the service adds: the webhook inbox, API tokens, the audit trail.
    "webhook_deliveries": [
        "delivery_id", "event", "action", "installation_id", "payload", "received_at",
        "processed_at", "attempts", "last_error",
    ],
    "api_tokens": ["token_hash", "workspace_id", "role", "name", "last_used_at", "revoked_at"],
    "audit_events": [
        "workspace_id", "actor_type", "actor_id", "action", "resource_type", "resource_id",
        "metadata", "created_at",
    ],
}  # fmt: skip


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"sentinel_test_migrate_{secrets.token_hex(4)}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


def _migrate(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SENTINEL_DATABASE_URL": url}
    return subprocess.run(
        [str(SENTINEL), "migrate"], env=env, capture_output=True, text=True, check=False
    )


def test_migrate_twice_on_an_empty_database(empty_database: str) -> None:
    first = _migrate(empty_database)
    assert first.returncode == 0, first.stderr
    second = _migrate(empty_database)
    assert second.returncode == 0, second.stderr
    assert "is at the latest schema" in second.stderr


def test_migrate_started_twice_at_once(empty_database: str) -> None:
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(_migrate, [empty_database, empty_database]))
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]


def test_every_seed_table_and_field_exists(database_url: str) -> None:
    with psycopg.connect(_libpq_url(database_url)) as connection:
        rows = connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    missing = {
        table: sorted(set(fields) - columns.get(table, set()))
        for table, fields in SEED_MODEL.items()
        if set(fields) - columns.get(table, set())
    }
    assert missing == {}


def test_models_and_migrations_agree(database_url: str) -> None:
    # Fails with "New upgrade operations detected" when a model changed without a migration.
    command.check(alembic_config(database_url))


def test_downgrade_to_base_and_back(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    with psycopg.connect(_libpq_url(empty_database)) as connection:
        left = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    assert left == [("alembic_version",)]
    command.upgrade(config, "head")
