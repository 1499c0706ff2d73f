"""The `sentinel` command. Operator mistakes print one line to stderr and exit non-zero."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from app.config import ConfigError, Settings, load_settings
from app.log_config import configure_logging

P = ParamSpec("P")
R = TypeVar("R")

REPO_ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = REPO_ROOT / "alembic.ini"

cli = typer.Typer(
    name="sentinel",
    help="Sentinel, AI code review for GitHub pull requests.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
token_cli = typer.Typer(help="API tokens for the REST API.", no_args_is_help=True)
keys_cli = typer.Typer(help="Encryption of stored provider keys.", no_args_is_help=True)
cli.add_typer(token_cli, name="token")
cli.add_typer(keys_cli, name="keys")


class OperatorError(Exception):
    """A mistake the operator can fix; printed as one line."""


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"sentinel: error: {message}", err=True)
    return typer.Exit(code)


def _database_label(settings: Settings) -> str:
    url = make_url(settings.database_url)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def operator_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors an operator can act on into one line on stderr, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            raise fail(str(error), code=2) from None
        except OperatorError as error:
            raise fail(str(error)) from None
        except OperationalError as error:
            first_line = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise fail(f"cannot use Postgres: {first_line}") from None
        except DBAPIError as error:
            first_line = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise fail(f"database error: {first_line}") from None

    return wrapper


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level)
    return settings


def _run(coroutine: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coroutine)


@cli.command()
@operator_errors
def migrate() -> None:
    """Apply all database migrations to SENTINEL_DATABASE_URL (idempotent)."""
    from alembic import command
    from alembic.config import Config

    settings = _settings()
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    command.upgrade(config, "head")
    from app.db_login import ensure_runtime_login

    login = ensure_runtime_login(settings)
    typer.echo(
        f"database {_database_label(settings)} is at the latest schema; "
        f"the service logs in as {login}",
        err=True,
    )


@cli.command()
@operator_errors
def api(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the webhook receiver and the REST API."""
    import uvicorn

    from app.main import create_app

    settings = _settings()
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)


@cli.command()
@operator_errors
def worker(
    burst: Annotated[bool, typer.Option(help="Drain the queue, then exit 0.")] = False,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port.")
    ] = None,
) -> None:
    """Run the worker: reviews, webhook processing, the sweeper, delivery recovery."""
    from prometheus_client import start_http_server

    from app.worker import run_worker

    settings = _settings()
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1")
    run_worker(settings, burst=burst)


class ReportFormat(StrEnum):
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"


@cli.command()
@operator_errors
def review(
    patch: Annotated[str, typer.Argument(help="A unified diff file, or - for stdin.")],
    format: Annotated[
        ReportFormat, typer.Option("--format", help="How to print the findings.")
    ] = ReportFormat.MARKDOWN,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the plan (calls, files, estimated tokens and cost) and call no model.",
        ),
    ] = False,
) -> None:
    """Review a unified diff offline with the same reviewers: the static ones always, a model
    when ANTHROPIC_API_KEY or OPENAI_API_KEY is set. Exits 0 even with findings."""
    # Imported here: the model SDKs take seconds to import, and only this command needs them.
    from app.offline_review import OfflineReviewError, preview_patch, review_patch

    try:
        text = sys.stdin.read() if patch == "-" else Path(patch).read_text()
    except OSError as error:
        raise OperatorError(f"cannot read {patch}: {error.strerror}") from None
    configure_logging("WARNING")
    if dry_run and format is ReportFormat.SARIF:
        raise OperatorError("--dry-run prints a plan, as markdown or json, not sarif")
    try:
        if dry_run:
            report = preview_patch(text, format.value)
        else:
            report = _run(review_patch(text, format.value))
    except OfflineReviewError as error:
        raise OperatorError(str(error)) from None
    typer.echo(report, nl=False)


@token_cli.command("create")
@operator_errors
def token_create(
    workspace: Annotated[str, typer.Option(help="Workspace slug or id.")],
    role: Annotated[str, typer.Option(help="owner, admin, member or billing.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Mint an API token and print it, alone, on stdout. It is shown only this once."""
    from app.models.identity import Role

    try:
        parsed_role = Role(role)
    except ValueError:
        raise OperatorError(
            f"--role {role!r} is not a role; use owner, admin, member or billing"
        ) from None
    settings = _settings()
    token = _run(_create_token(settings, workspace, parsed_role, name))
    typer.echo(token)


async def _create_token(settings: Settings, workspace_ref: str, role: Any, name: str) -> str:
    from app.audit import OPERATOR_CLI
    from app.db import (
        SystemContext,
        create_engine,
        create_sessionmaker,
        system_session,
        tenant_session,
    )
    from app.tokens.service import create_api_token
    from app.workspaces.lookup import find_workspace

    engine = create_engine(settings, pool_size=1, max_overflow=0)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with system_session(sessionmaker, SystemContext.OPERATOR_CLI) as session:
            workspace = await find_workspace(session, workspace_ref)
        if workspace is None:
            raise OperatorError(f"no workspace {workspace_ref!r} (give its slug or id)")
        async with tenant_session(sessionmaker, workspace.id) as session:
            minted = await create_api_token(
                session, workspace.id, role=role, name=name, actor=OPERATOR_CLI
            )
        return minted.token
    finally:
        await engine.dispose()


@keys_cli.command("rotate")
@operator_errors
def keys_rotate() -> None:
    """Re-encrypt every stored provider key under the newest SENTINEL_ENCRYPTION_KEYS version."""
    from app.security.encryption import KeyRing

    settings = _settings()
    keyring = KeyRing(settings.encryption_key_ring)
    report = _run(_rotate(settings, keyring))
    typer.echo(
        f"re-encrypted {report.resealed} provider key(s) under key version {report.newest_version}",
        err=True,
    )
    if report.failures:
        for failure in report.failures:
            typer.echo(f"sentinel: error: {failure}", err=True)
        raise typer.Exit(1)


async def _rotate(settings: Settings, keyring: Any) -> Any:
    from app.db import create_engine, create_sessionmaker
    from app.provider_keys.service import rotate_provider_keys

    engine = create_engine(settings, pool_size=1, max_overflow=0)
    try:
        return await rotate_provider_keys(create_sessionmaker(engine), keyring)
    finally:
        await engine.dispose()


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
