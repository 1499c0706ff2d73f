"""Fixtures for the admin API tests: the real app served over HTTP, two workspaces with a row
in every table, and real API tokens of every role minted the way `sentinel token create` does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.audit import OPERATOR_CLI
from app.config import Settings
from app.db import tenant_session
from app.main import create_app
from app.models.identity import Role
from app.security.encryption import KeyRing
from app.tokens.service import create_api_token
from tests.support.factories import WorkspaceGraph, make_workspace_graph
from tests.support.live_server import serve


@pytest.fixture(scope="session")
async def api_url(settings: Settings) -> AsyncIterator[str]:
    async with serve(create_app(settings)) as base:
        yield base


@pytest.fixture(scope="session")
async def strict_api_url(settings: Settings) -> AsyncIterator[str]:
    """The app as production runs it: provider URLs must be public https."""
    strict = settings.model_copy(update={"allow_private_provider_urls": False})
    async with serve(create_app(strict)) as base:
        yield base


async def mint(
    sessionmaker: async_sessionmaker[AsyncSession], graph: WorkspaceGraph, role: Role
) -> str:
    async with tenant_session(sessionmaker, graph.workspace_id) as session:
        minted = await create_api_token(
            session, graph.workspace_id, role=role, name=f"test {role.value}", actor=OPERATOR_CLI
        )
    return minted.token


@dataclass
class World:
    """Workspace `acme` with a token of every role, and workspace `globex` with an owner."""

    acme: WorkspaceGraph
    globex: WorkspaceGraph
    tokens: dict[Role, str]
    globex_owner: str
    owner_engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.owner_engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return [dict(row) for row in result.mappings()]


@pytest.fixture
async def world(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner_engine: AsyncEngine,
    settings: Settings,
) -> World:
    keyring = KeyRing(settings.encryption_key_ring)
    acme = await make_workspace_graph(sessionmaker, "acme", keyring)
    globex = await make_workspace_graph(sessionmaker, "globex", keyring)
    tokens = {role: await mint(sessionmaker, acme, role) for role in Role}
    globex_owner = await mint(sessionmaker, globex, Role.OWNER)
    return World(acme, globex, tokens, globex_owner, owner_engine, sessionmaker)


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        yield http
