"""A new GitHub installation becomes a workspace: the account's workspace, its team with the
installing user as owner, a free subscription and a GitHub connection."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Actor, record_audit_event
from app.models import (
    Connection,
    Installation,
    Plan,
    Subscription,
    Team,
    TeamMember,
    User,
    Workspace,
)
from app.models.identity import Role

DEFAULT_PLAN = "free"


def slug_for(login: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]", "-", login.lower()).strip("-._")
    return slug or "workspace"


async def upsert_github_user(session: AsyncSession, account: dict[str, Any]) -> User:
    """The GitHub user as a Sentinel user (global, keyed by GitHub's numeric id)."""
    values = {
        "name": account.get("name") or account["login"],
        "github_login": account["login"],
        "avatar_url": account.get("avatar_url"),
        "updated_at": datetime.now(UTC),
    }
    statement = (
        insert(User)
        .values(id=uuid.uuid4(), github_id=int(account["id"]), **values)
        .on_conflict_do_update(index_elements=["github_id"], set_=values)
        .returning(User)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one()


async def _workspace_of_account(session: AsyncSession, account_id: int) -> Workspace | None:
    """The live workspace an earlier installation of the same account was linked to."""
    statement = (
        select(Workspace)
        .join(Installation, Installation.workspace_id == Workspace.id)
        .where(
            Installation.metadata_["account_id"].as_integer() == account_id,
            Workspace.deleted_at.is_(None),
        )
        .order_by(Installation.created_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _free_slug(session: AsyncSession, login: str, account_id: int) -> str:
    slug = slug_for(login)
    taken = await session.execute(
        select(Workspace.id).where(Workspace.slug == slug, Workspace.deleted_at.is_(None))
    )
    return slug if taken.first() is None else f"{slug}-{account_id}"


async def provision_workspace(
    session: AsyncSession, *, account: dict[str, Any], sender: dict[str, Any] | None
) -> tuple[Workspace, bool]:
    """The account's workspace, created with its team, owner, plan and connection if new.

    Runs in the PROVISIONING system context: the workspace does not exist yet.
    Returns (workspace, created).
    """
    existing = await _workspace_of_account(session, int(account["id"]))
    if existing is not None:
        return existing, False

    owner = await upsert_github_user(session, sender or account)
    workspace = Workspace(
        id=uuid.uuid4(),
        slug=await _free_slug(session, account["login"], int(account["id"])),
        name=account["login"],
        owner_user_id=owner.id,
    )
    session.add(workspace)
    await session.flush()
    team = Team(workspace_id=workspace.id, name=account["login"])
    session.add(team)
    await session.flush()
    session.add(
        TeamMember(workspace_id=workspace.id, team_id=team.id, user_id=owner.id, role=Role.OWNER)
    )
    plan_id = (await session.execute(select(Plan.id).where(Plan.name == DEFAULT_PLAN))).scalar_one()
    session.add(
        Subscription(
            workspace_id=workspace.id,
            plan_id=plan_id,
            status="active",
            started_at=datetime.now(UTC),
        )
    )
    await session.flush()
    await record_audit_event(
        session,
        workspace.id,
        actor=Actor(type="github", id=owner.github_login),
        action="workspace.provisioned",
        resource_type="workspace",
        resource_id=str(workspace.id),
        metadata={"slug": workspace.slug, "account": account["login"], "plan": DEFAULT_PLAN},
    )
    return workspace, True


async def ensure_connection(
    session: AsyncSession, workspace_id: uuid.UUID, provider_id: uuid.UUID, status: str
) -> None:
    statement = (
        insert(Connection)
        .values(workspace_id=workspace_id, provider_id=provider_id, status=status)
        .on_conflict_do_update(
            index_elements=["workspace_id", "provider_id"],
            set_={"status": status, "updated_at": datetime.now(UTC)},
        )
    )
    await session.execute(statement)
