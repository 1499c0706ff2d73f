"""API tokens: minted once by the CLI, stored as a hash, resolved, revocable."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.audit import OPERATOR_CLI
from app.config import Settings
from app.db import tenant_session
from app.models.identity import Role
from app.security.tokens import hash_token, token_matches
from app.tokens.service import authenticate_api_token, create_api_token, revoke_api_token
from tests.support.factories import make_workspace_graph

SENTINEL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "sentinel"


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SENTINEL_DATABASE_URL": settings.database_url}
    return subprocess.run(
        [str(SENTINEL), *args], env=env, capture_output=True, text=True, check=False
    )


async def test_token_create_prints_the_token_alone_and_stores_its_hash(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    owner_engine: AsyncEngine,
) -> None:
    graph = await make_workspace_graph(sessionmaker, "hooli")
    result = _cli(
        settings,
        "token",
        "create",
        "--workspace",
        "Hooli",
        "--role",
        "billing",
        "--name",
        "billing export",
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    assert token.startswith("snt_")
    async with owner_engine.connect() as connection:
        row = (
            (
                await connection.execute(
                    text("SELECT * FROM api_tokens WHERE name = 'billing export'")
                )
            )
            .mappings()
            .one()
        )
        dump = (
            await connection.execute(
                text("SELECT string_agg(row_to_json(t)::text, '') FROM api_tokens t")
            )
        ).scalar_one()
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token not in dump
    assert row["role"] == "billing"
    principal = await authenticate_api_token(sessionmaker, token)
    assert principal is not None
    assert principal.workspace_id == graph.workspace_id
    assert principal.role is Role.BILLING
    # The workspace can be named by id as well as by slug.
    by_id = _cli(
        settings, "token", "create", "--workspace", str(graph.workspace_id), "--role", "owner"
    )
    assert by_id.returncode == 0, by_id.stderr


async def test_token_create_errors_are_one_line(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_workspace_graph(sessionmaker, "piedpiper")
    for args, message in [
        (("--workspace", "nobody", "--role", "owner"), "no workspace 'nobody'"),
        (("--workspace", "piedpiper", "--role", "root"), "--role 'root' is not a role"),
    ]:
        result = _cli(settings, "token", "create", *args)
        assert result.returncode != 0
        assert result.stdout == ""
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


async def test_tokens_resolve_only_while_valid(
    sessionmaker: async_sessionmaker[AsyncSession], owner_engine: AsyncEngine
) -> None:
    graph = await make_workspace_graph(sessionmaker, "vandelay")
    async with tenant_session(sessionmaker, graph.workspace_id) as session:
        minted = await create_api_token(
            session, graph.workspace_id, role=Role.ADMIN, name="ci", actor=OPERATOR_CLI
        )
    token = minted.token
    assert await authenticate_api_token(sessionmaker, token) is not None
    assert await authenticate_api_token(sessionmaker, token[:-1] + "x") is None
    assert await authenticate_api_token(sessionmaker, "not-a-token") is None
    async with tenant_session(sessionmaker, graph.workspace_id) as session:
        assert await revoke_api_token(
            session, graph.workspace_id, minted.row.id, actor=OPERATOR_CLI
        )
        # Revoking twice reports that nothing changed.
        assert not await revoke_api_token(
            session, graph.workspace_id, minted.row.id, actor=OPERATOR_CLI
        )
    assert await authenticate_api_token(sessionmaker, token) is None
    async with owner_engine.connect() as connection:
        actions = (
            (
                await connection.execute(
                    text(
                        "SELECT action FROM audit_events"
                        " WHERE resource_type = 'api_token' ORDER BY id"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["api_token.created", "api_token.revoked"]


async def test_token_of_a_deleted_workspace_no_longer_resolves(
    sessionmaker: async_sessionmaker[AsyncSession], owner_engine: AsyncEngine
) -> None:
    graph = await make_workspace_graph(sessionmaker, "soylent")
    async with tenant_session(sessionmaker, graph.workspace_id) as session:
        minted = await create_api_token(
            session, graph.workspace_id, role=Role.OWNER, name="x", actor=OPERATOR_CLI
        )
    async with owner_engine.begin() as connection:
        await connection.execute(
            text("UPDATE workspaces SET deleted_at = now() WHERE id = :id"),
            {"id": graph.workspace_id},
        )
    assert await authenticate_api_token(sessionmaker, minted.token) is None


def test_token_comparison_is_by_hash() -> None:
    assert token_matches("snt_abc", hash_token("snt_abc"))
    assert not token_matches("snt_abd", hash_token("snt_abc"))
