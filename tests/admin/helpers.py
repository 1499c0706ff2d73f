"""Rows the admin tests need beyond `make_workspace_graph`: more members, invitations, runs
and usage records, written as the service writes them (runtime role, system context)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import SystemContext, system_session
from app.models import (
    Installation,
    Invitation,
    Repository,
    Run,
    Team,
    TeamMember,
    UsageRecord,
    User,
)
from app.security.tokens import generate_token, hash_token
from tests.support.factories import WorkspaceGraph

_numbers = count(1)


async def add_member(
    sessionmaker: async_sessionmaker[AsyncSession], graph: WorkspaceGraph, role: str
) -> uuid.UUID:
    """A new user in the workspace's team with `role`; returns the membership id."""
    number = next(_numbers)
    async with system_session(sessionmaker, SystemContext.PROVISIONING) as session:
        team_id = (
            await session.execute(select(Team.id).where(Team.workspace_id == graph.workspace_id))
        ).scalar_one()
        user = User(name=f"person {number}", email=f"person{number}@{graph.slug}.test")
        session.add(user)
        await session.flush()
        member = TeamMember(
            workspace_id=graph.workspace_id, team_id=team_id, user_id=user.id, role=role
        )
        session.add(member)
        await session.flush()
        return member.id


async def add_invitation(
    sessionmaker: async_sessionmaker[AsyncSession],
    graph: WorkspaceGraph,
    role: str = "member",
    *,
    expires_in: timedelta = timedelta(days=7),
) -> tuple[uuid.UUID, str]:
    """A pending invitation; returns (id, token)."""
    token = generate_token("inv_")
    async with system_session(sessionmaker, SystemContext.PROVISIONING) as session:
        team_id = (
            await session.execute(select(Team.id).where(Team.workspace_id == graph.workspace_id))
        ).scalar_one()
        row = Invitation(
            workspace_id=graph.workspace_id,
            team_id=team_id,
            email=f"invitee{next(_numbers)}@example.test",
            role=role,
            token=hash_token(token),
            expires_at=datetime.now(UTC) + expires_in,
        )
        session.add(row)
        await session.flush()
        return row.id, token


async def add_run(
    session: AsyncSession,
    graph: WorkspaceGraph,
    *,
    status: str = "completed",
    created_at: datetime | None = None,
    repository_id: uuid.UUID | None = None,
) -> uuid.UUID:
    number = next(_numbers)
    head = f"{number:040x}"
    run = Run(
        workspace_id=graph.workspace_id,
        repository_id=repository_id or graph.repository_id,
        external_reference=f"{graph.slug}/app#{number}@{head}",
        kind="manual",
        trigger="pull_request.opened",
        pull_request_number=number,
        head_sha=head,
        status=status,
        **({"created_at": created_at} if created_at is not None else {}),
    )
    session.add(run)
    await session.flush()
    return run.id


def usage_record(
    graph: WorkspaceGraph,
    run_id: uuid.UUID,
    usage_type: str,
    quantity: int,
    *,
    created_at: datetime,
    model: str | None = None,
) -> UsageRecord:
    return UsageRecord(
        workspace_id=graph.workspace_id,
        run_id=run_id,
        repository_id=graph.repository_id,
        type=usage_type,
        quantity=quantity,
        model=model,
        created_at=created_at,
    )


async def add_repository(
    sessionmaker: async_sessionmaker[AsyncSession], graph: WorkspaceGraph, name: str
) -> uuid.UUID:
    """Another repository on the workspace's installation."""
    async with system_session(sessionmaker, SystemContext.PROVISIONING) as session:
        installation_id = (
            await session.execute(
                select(Installation.id).where(Installation.workspace_id == graph.workspace_id)
            )
        ).scalar_one()
        repository = Repository(
            workspace_id=graph.workspace_id,
            installation_id=installation_id,
            external_id=900_000 + next(_numbers),
            name=name,
        )
        session.add(repository)
        await session.flush()
        return repository.id
