"""Running Alembic from tests the way `sentinel migrate` does."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app.cli import ALEMBIC_INI
from app.config import Settings
from app.db_login import ensure_runtime_login


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    url = Settings(database_url=database_url).database_url
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def run_migrations(
    database_url: str, revision: str = "head", settings: Settings | None = None
) -> None:
    command.upgrade(alembic_config(database_url), revision)
    if revision == "head":
        # As `sentinel migrate` does: the runtime role may log in (trust auth here).
        ensure_runtime_login(settings or Settings(database_url=database_url))
