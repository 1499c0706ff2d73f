"""SQL that migrations repeat for every table: tenant isolation, grants, integrity triggers.

Imported by revision files as `from migration_sql import ...` (env.py puts this folder on the
path). Keep these functions stable: old revisions call them.
"""

from __future__ import annotations

from alembic import op

RUNTIME_ROLE = "sentinel_app"

# A row is visible and writable when it belongs to the transaction's workspace, or when the
# transaction runs in a named system context (app/db.py, SystemContext).
TENANT_PREDICATE = "{column} = sentinel_workspace_id() OR sentinel_system_context() IS NOT NULL"


def enable_tenant_rls(table: str, column: str = "workspace_id") -> None:
    """ENABLE and FORCE row-level security with one policy for every command."""
    predicate = TENANT_PREDICATE.format(column=column)
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
        f"USING ({predicate}) WITH CHECK ({predicate})"
    )


def disable_tenant_rls(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def grant_runtime(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    op.execute(f"REVOKE ALL ON {table} FROM {RUNTIME_ROLE}")
    op.execute(f"GRANT {privileges} ON {table} TO {RUNTIME_ROLE}")


def make_append_only(table: str) -> None:
    """Reject UPDATE and DELETE for everyone, the owner included."""
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION sentinel_reject_change()"
    )


def make_soft_delete_only(table: str) -> None:
    """Reject DELETE: rows of this table are retired by setting deleted_at."""
    op.execute(
        f"CREATE TRIGGER {table}_soft_delete_only BEFORE DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION sentinel_reject_hard_delete()"
    )
