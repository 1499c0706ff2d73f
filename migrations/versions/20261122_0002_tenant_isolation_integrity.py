"""tenant isolation, integrity rules and reference data

The runtime role, row-level security on every tenant table, the append-only, soft-delete and
terminal-run triggers, and the reference rows (the `github` provider, the plans).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:30:00+00:00
"""

import json
from collections.abc import Sequence

from alembic import op
from migration_sql import (
    RUNTIME_ROLE,
    disable_tenant_rls,
    enable_tenant_rls,
    grant_runtime,
    make_append_only,
    make_soft_delete_only,
)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "teams",
    "team_members",
    "invitations",
    "connections",
    "installations",
    "repositories",
    "repository_settings",
    "runs",
    "findings",
    "annotations",
    "policies",
    "subscriptions",
    "usage_records",
    "provider_keys",
    "workspace_daily_metrics",
    "api_tokens",
    "audit_events",
)
APPEND_ONLY_TABLES = ("findings", "annotations", "usage_records", "audit_events")
SOFT_DELETE_TABLES = ("workspaces", "repositories", "users")
REFERENCE_TABLES = ("providers", "plans")
TERMINAL_RUN_STATUSES = ("completed", "failed", "skipped", "superseded", "cancelled")

# Limits: null means unlimited. Features are switches the product reads.
PLANS = {
    "free": {
        "limits": {"reviews_per_month": 50, "repositories": 3, "files_per_review": 50},
        "features": {
            "byok": True,
            "incremental_reviews": True,
            "path_instructions": False,
            "named_policies": False,
            "audit_log": False,
            "usage_export": False,
        },
    },
    "team": {
        "limits": {"reviews_per_month": 2000, "repositories": 50, "files_per_review": 300},
        "features": {
            "byok": True,
            "incremental_reviews": True,
            "path_instructions": True,
            "named_policies": True,
            "audit_log": True,
            "usage_export": True,
        },
    },
    "enterprise": {
        "limits": {"reviews_per_month": None, "repositories": None, "files_per_review": 3000},
        "features": {
            "byok": True,
            "incremental_reviews": True,
            "path_instructions": True,
            "named_policies": True,
            "audit_log": True,
            "usage_export": True,
        },
    },
}


def _runtime_privileges(table: str) -> str:
    """Privileges mirror the integrity rules, so the service cannot even ask to break them."""
    if table in APPEND_ONLY_TABLES:
        return "SELECT, INSERT"
    if table in SOFT_DELETE_TABLES or table == "runs":
        return "SELECT, INSERT, UPDATE"
    return "SELECT, INSERT, UPDATE, DELETE"


def upgrade() -> None:
    # The runtime role: cluster-wide, so create it only once; never a superuser, never
    # BYPASSRLS, owns nothing. The migrating user (the owner) must be able to SET ROLE to it.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{RUNTIME_ROLE}') THEN
                CREATE ROLE {RUNTIME_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB
                    NOCREATEROLE NOINHERIT;
            END IF;
            IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               AND NOT pg_has_role(current_user, '{RUNTIME_ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {RUNTIME_ROLE} TO %I', current_user);
            END IF;
        END
        $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {RUNTIME_ROLE}")

    # The transaction's scope, written by app/db.py with set_config(..., true). NULLIF: a
    # transaction-local setting reads back as '' (not NULL) once its transaction ended.
    op.execute(
        """
        CREATE FUNCTION sentinel_workspace_id() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT NULLIF(current_setting('sentinel.workspace_id', true), '')::uuid $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION sentinel_system_context() RETURNS text
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT NULLIF(current_setting('sentinel.system_context', true), '') $$
        """
    )

    for table in TENANT_TABLES:
        enable_tenant_rls(table)
        grant_runtime(table, _runtime_privileges(table))
    # The tenant itself: a workspace sees only its own row.
    enable_tenant_rls("workspaces", column="id")
    grant_runtime("workspaces", _runtime_privileges("workspaces"))
    # Users are global (one person, many workspaces): a workspace sees its members only.
    op.execute("ALTER TABLE users ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE users FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        CREATE POLICY workspace_members ON users AS PERMISSIVE FOR ALL TO PUBLIC
        USING (
            sentinel_system_context() IS NOT NULL
            OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.user_id = users.id)
        )
        WITH CHECK (
            sentinel_system_context() IS NOT NULL OR sentinel_workspace_id() IS NOT NULL
        )
        """
    )
    grant_runtime("users", _runtime_privileges("users"))
    # System tables: the webhook inbox is written before a workspace is known.
    grant_runtime("webhook_deliveries")
    for table in REFERENCE_TABLES:
        grant_runtime(table, "SELECT")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {RUNTIME_ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {RUNTIME_ROLE}")

    # Integrity rules, enforced for every role including the owner.
    op.execute(
        """
        CREATE FUNCTION sentinel_reject_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION sentinel_reject_hard_delete() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% rows are soft deleted: set deleted_at instead of DELETE',
                TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    terminal = ", ".join(f"'{status}'" for status in TERMINAL_RUN_STATUSES)
    op.execute(
        f"""
        CREATE FUNCTION sentinel_guard_run() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'runs are never deleted'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF OLD.status IN ({terminal}) THEN
                RAISE EXCEPTION 'run % is %: a finished run cannot change', OLD.id, OLD.status
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF NEW.workspace_id IS DISTINCT FROM OLD.workspace_id
               OR NEW.repository_id IS DISTINCT FROM OLD.repository_id
               OR NEW.pull_request_number IS DISTINCT FROM OLD.pull_request_number
               OR NEW.head_sha IS DISTINCT FROM OLD.head_sha
               OR NEW.kind IS DISTINCT FROM OLD.kind
               OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
                RAISE EXCEPTION 'run % : what a run reviews cannot change', OLD.id
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER runs_guard BEFORE UPDATE OR DELETE ON runs "
        "FOR EACH ROW EXECUTE FUNCTION sentinel_guard_run()"
    )
    for table in APPEND_ONLY_TABLES:
        make_append_only(table)
    for table in SOFT_DELETE_TABLES:
        make_soft_delete_only(table)

    op.execute(
        "INSERT INTO providers (name, slug) VALUES ('GitHub', 'github') "
        "ON CONFLICT (slug) DO NOTHING"
    )
    for name, plan in PLANS.items():
        op.execute(
            "INSERT INTO plans (name, limits, features) VALUES "
            f"('{name}', '{json.dumps(plan['limits'])}'::jsonb, "
            f"'{json.dumps(plan['features'])}'::jsonb) ON CONFLICT (name) DO NOTHING"
        )


def downgrade() -> None:
    op.execute("DELETE FROM plans WHERE name IN ('free', 'team', 'enterprise')")
    op.execute("DELETE FROM providers WHERE slug = 'github'")
    for table in SOFT_DELETE_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_soft_delete_only ON {table}")
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP TRIGGER IF EXISTS runs_guard ON runs")
    op.execute("DROP FUNCTION IF EXISTS sentinel_guard_run()")
    op.execute("DROP FUNCTION IF EXISTS sentinel_reject_hard_delete()")
    op.execute("DROP FUNCTION IF EXISTS sentinel_reject_change()")
    op.execute("DROP POLICY IF EXISTS workspace_members ON users")
    op.execute("ALTER TABLE users NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE users DISABLE ROW LEVEL SECURITY")
    for table in (*TENANT_TABLES, "workspaces"):
        disable_tenant_rls(table)
    op.execute("DROP FUNCTION IF EXISTS sentinel_system_context()")
    op.execute("DROP FUNCTION IF EXISTS sentinel_workspace_id()")
    for table in (*TENANT_TABLES, "workspaces", "users", "webhook_deliveries", *REFERENCE_TABLES):
        op.execute(f"REVOKE ALL ON {table} FROM {RUNTIME_ROLE}")
    op.execute(f"REVOKE USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public FROM {RUNTIME_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {RUNTIME_ROLE}")
