"""Rows for tests, written as the service writes them (runtime role, system context)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import SystemContext, system_session
from app.models import (
    Annotation,
    ApiToken,
    AuditEvent,
    Connection,
    ConsoleSession,
    Finding,
    Installation,
    Invitation,
    ModelResponseRecord,
    Plan,
    Policy,
    Provider,
    ProviderKey,
    PullRequest,
    Repository,
    RepositorySettings,
    Run,
    Subscription,
    Team,
    TeamMember,
    UsageRecord,
    User,
    Workspace,
    WorkspaceDailyMetric,
)
from app.security.encryption import KeyRing
from app.security.tokens import generate_token, hash_token

_external_ids = count(1000)


@dataclass
class WorkspaceGraph:
    """One workspace with a row in every tenant table."""

    workspace_id: uuid.UUID
    slug: str
    user_id: uuid.UUID
    repository_id: uuid.UUID
    run_id: uuid.UUID
    finding_id: uuid.UUID


async def github_provider_id(session: AsyncSession) -> uuid.UUID:
    return (
        await session.execute(select(Provider.id).where(Provider.slug == "github"))
    ).scalar_one()


async def make_workspace_graph(
    sessionmaker: async_sessionmaker[AsyncSession], slug: str, keyring: KeyRing | None = None
) -> WorkspaceGraph:
    async with system_session(sessionmaker, SystemContext.PROVISIONING) as session:
        provider_id = await github_provider_id(session)
        plan_id = (await session.execute(select(Plan.id).where(Plan.name == "free"))).scalar_one()
        user = User(name=f"{slug} owner", email=f"owner@{slug}.test", github_id=next(_external_ids))
        session.add(user)
        await session.flush()
        workspace = Workspace(slug=slug, name=slug.title(), owner_user_id=user.id)
        session.add(workspace)
        await session.flush()
        ws = workspace.id
        team = Team(workspace_id=ws, name=f"{slug} team")
        session.add(team)
        await session.flush()
        session.add(TeamMember(workspace_id=ws, team_id=team.id, user_id=user.id, role="owner"))
        session.add(
            Invitation(
                workspace_id=ws,
                team_id=team.id,
                email=f"new@{slug}.test",
                role="member",
                token=hash_token(generate_token("inv_")),
                expires_at=datetime.now(UTC) + timedelta(days=7),
            )
        )
        session.add(Connection(workspace_id=ws, provider_id=provider_id, status="active"))
        installation = Installation(
            workspace_id=ws,
            provider_id=provider_id,
            external_id=next(_external_ids),
            account_login=slug,
        )
        session.add(installation)
        await session.flush()
        repository = Repository(
            workspace_id=ws,
            installation_id=installation.id,
            external_id=next(_external_ids),
            name=f"{slug}/app",
            default_branch="main",
        )
        session.add(repository)
        await session.flush()
        session.add(
            RepositorySettings(
                workspace_id=ws, repository_id=repository.id, settings={"min_severity": "warning"}
            )
        )
        session.add(
            PullRequest(workspace_id=ws, repository_id=repository.id, number=1, head_sha="a" * 40)
        )
        run = Run(
            workspace_id=ws,
            repository_id=repository.id,
            external_reference=f"{slug}/app#1@{'a' * 40}",
            kind="automatic",
            trigger="pull_request.opened",
            pull_request_number=1,
            head_sha="a" * 40,
            status="running",
        )
        session.add(run)
        await session.flush()
        finding = Finding(
            workspace_id=ws,
            run_id=run.id,
            severity="warning",
            category="bug",
            title="Off by one",
            description="The loop stops one early.",
            file_path="src/app.py",
            line_start=10,
            line_end=11,
            confidence=0.9,
        )
        session.add(finding)
        session.add(
            ModelResponseRecord(
                workspace_id=ws,
                run_id=run.id,
                request_digest="0" * 64,
                output={"findings": []},
                raw_text="{}",
                input_tokens=10,
                output_tokens=2,
                model="claude-sonnet-4-5",
                latency_seconds=0.1,
            )
        )
        await session.flush()
        session.add(
            Annotation(
                workspace_id=ws,
                finding_id=finding.id,
                provider_id=provider_id,
                external_id="1",
                type="review_comment",
            )
        )
        session.add(
            Policy(workspace_id=ws, name="default", config={"min_severity": "info"}, version=1)
        )
        session.add(
            Subscription(
                workspace_id=ws, plan_id=plan_id, status="active", started_at=datetime.now(UTC)
            )
        )
        session.add(
            UsageRecord(
                workspace_id=ws,
                run_id=run.id,
                repository_id=repository.id,
                type="review",
                quantity=1,
            )
        )
        keyring = keyring or KeyRing({1: b"k" * 32})
        sealed = keyring.seal(SecretStr("sk-test-" + slug), workspace_id=ws, provider="anthropic")
        session.add(
            ProviderKey(
                workspace_id=ws,
                provider="anthropic",
                encrypted_key=sealed.ciphertext,
                key_version=sealed.key_version,
                key_last4=slug[-4:],
            )
        )
        session.add(WorkspaceDailyMetric(workspace_id=ws, date=date(2026, 11, 1), runs_count=1))
        token = generate_token()
        api_token = ApiToken(
            workspace_id=ws,
            name="test",
            role="owner",
            token_hash=hash_token(token),
            token_prefix=token[:12],
        )
        session.add(api_token)
        await session.flush()
        session.add(
            ConsoleSession(
                workspace_id=ws,
                api_token_id=api_token.id,
                secret_hash=hash_token(generate_token("scs_")),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        session.add(
            AuditEvent(
                workspace_id=ws,
                actor_type="system",
                action="workspace.created",
                resource_type="workspace",
                resource_id=str(ws),
            )
        )
        await session.flush()
        return WorkspaceGraph(
            workspace_id=ws,
            slug=slug,
            user_id=user.id,
            repository_id=repository.id,
            run_id=run.id,
            finding_id=finding.id,
        )
