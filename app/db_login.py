"""The runtime role's login, set up by `sentinel migrate` (as the owner, after the migrations).

The service must not connect as the tables' owner: an owner session that switches role can
`RESET ROLE` back past row-level security. So the API and the worker log in as the runtime
role itself (app/config.py `runtime_database_url`), which owns nothing, is not superuser and
cannot bypass RLS. The migrations create that role (NOLOGIN, holding the grants); here it gets
LOGIN with its derived password, or, when SENTINEL_DATABASE_RUNTIME_URL names another login
role, that role is made a member of it.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.config import RUNTIME_ROLE, ConfigError, Settings
from app.direct_db import libpq_url


def ensure_runtime_login(settings: Settings) -> str:
    """Make the runtime URL's role able to log in with the runtime grants; returns its name."""
    owner = make_url(settings.database_url).username
    with psycopg.connect(libpq_url(settings.database_url), autocommit=True) as connection:
        if settings.database_runtime_url:
            login = make_url(settings.database_runtime_url).username or ""
            if login == owner or _owns_tables(connection, login):
                raise ConfigError(
                    f"SENTINEL_DATABASE_RUNTIME_URL logs in as {login!r}, which owns the "
                    "tables: row-level security would not apply; use a role of its own"
                )
            if login != RUNTIME_ROLE:
                connection.execute(
                    sql.SQL("GRANT {} TO {}").format(
                        sql.Identifier(RUNTIME_ROLE), sql.Identifier(login)
                    )
                )
            return login
        password = settings.runtime_role_password
        connection.execute(
            sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(RUNTIME_ROLE),
                sql.Literal(password) if password is not None else sql.SQL("NULL"),
            )
        )
        return RUNTIME_ROLE


def _owns_tables(connection: psycopg.Connection, role: str) -> bool:
    row = connection.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
        (role,),
    ).fetchone()
    return bool(row and row[0])
