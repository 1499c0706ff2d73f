"""`installation`, `installation_repositories` and `installation_target` events.

These run in the PROVISIONING system context: `installation.created` makes the workspace.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.audit import Actor, record_audit_event
from app.github.context import IntakeContext, Outcome, RetryLater
from app.github.provider import github_provider_id
from app.github.repositories import RepositoryRepository, find_installation
from app.models import Installation, Repository
from app.runs.service import stop_pending_runs
from app.workspaces.provisioning import ensure_connection, provision_workspace


def _actor(ctx: IntakeContext) -> Actor:
    sender = ctx.payload.get("sender") or {}
    return Actor(type="github", id=sender.get("login"))


def _installation_metadata(installation: dict[str, Any]) -> dict[str, Any]:
    account = installation.get("account") or {}
    return {
        "account_id": account.get("id"),
        "target_type": installation.get("target_type"),
        "app_id": installation.get("app_id"),
        "repository_selection": installation.get("repository_selection"),
        "permissions": installation.get("permissions") or {},
        "events": installation.get("events") or [],
    }


async def _known_installation(ctx: IntakeContext) -> Installation | None:
    provider_id = await github_provider_id(ctx.session)
    found = await find_installation(
        ctx.session, provider_id, int(ctx.payload["installation"]["id"])
    )
    ctx.installation = found
    return found


async def installation_created(ctx: IntakeContext) -> Outcome:
    data = ctx.payload["installation"]
    account = data["account"]
    provider_id = await github_provider_id(ctx.session)
    installation = await find_installation(ctx.session, provider_id, int(data["id"]))
    if installation is None:
        workspace, created = await provision_workspace(
            ctx.session, account=account, sender=ctx.payload.get("sender")
        )
        installation = Installation(
            workspace_id=workspace.id,
            provider_id=provider_id,
            external_id=int(data["id"]),
            account_login=account["login"],
            account_type=account.get("type"),
            metadata_=_installation_metadata(data),
        )
        ctx.session.add(installation)
        await ctx.session.flush()
        reason = f"installed on {account['login']}; " + (
            f"workspace {workspace.slug} created" if created else f"linked to {workspace.slug}"
        )
    else:
        installation.deleted_at = None
        installation.suspended_at = None
        installation.account_login = account["login"]
        installation.metadata_ = _installation_metadata(data)
        reason = f"installation {data['id']} on {account['login']} was already recorded"
    ctx.installation = installation
    await ensure_connection(ctx.session, installation.workspace_id, provider_id, "active")
    repositories = RepositoryRepository(ctx.session, installation.workspace_id)
    for repo in ctx.payload.get("repositories") or []:
        await repositories.upsert(installation, repo)
    await record_audit_event(
        ctx.session,
        installation.workspace_id,
        actor=_actor(ctx),
        action="installation.created",
        resource_type="installation",
        resource_id=str(installation.id),
        metadata={"external_id": data["id"], "account": account["login"]},
    )
    return Outcome.done(reason)


async def installation_deleted(ctx: IntakeContext) -> Outcome:
    installation = await _known_installation(ctx)
    if installation is None:
        return Outcome.ignored("the installation was never recorded")
    installation.deleted_at = datetime.now(UTC)
    repositories = RepositoryRepository(ctx.session, installation.workspace_id)
    repository_ids = await repositories.ids_of_installation(installation)
    stopped = await stop_pending_runs(
        ctx.session,
        installation.workspace_id,
        reason=f"the GitHub App was uninstalled from {installation.account_login}",
        repository_ids=repository_ids,
    )
    await repositories.soft_delete(installation)
    await ensure_connection(
        ctx.session, installation.workspace_id, installation.provider_id, "revoked"
    )
    await record_audit_event(
        ctx.session,
        installation.workspace_id,
        actor=_actor(ctx),
        action="installation.deleted",
        resource_type="installation",
        resource_id=str(installation.id),
        metadata={"runs_stopped": len(stopped)},
    )
    return Outcome.done(f"uninstalled; {len(stopped)} pending run(s) stopped")


async def installation_suspend(ctx: IntakeContext) -> Outcome:
    installation = await _known_installation(ctx)
    if installation is None:
        return Outcome.ignored("the installation was never recorded")
    installation.suspended_at = datetime.now(UTC)
    repository_ids = await RepositoryRepository(
        ctx.session, installation.workspace_id
    ).ids_of_installation(installation)
    stopped = await stop_pending_runs(
        ctx.session,
        installation.workspace_id,
        reason=f"the GitHub App was suspended on {installation.account_login}; "
        "unsuspend it in the account's GitHub App settings to resume reviews",
        repository_ids=repository_ids,
    )
    return Outcome.done(f"suspended; {len(stopped)} pending run(s) stopped")


async def installation_unsuspend(ctx: IntakeContext) -> Outcome:
    installation = await _known_installation(ctx)
    if installation is None:
        return Outcome.ignored("the installation was never recorded")
    installation.suspended_at = None
    return Outcome.done("unsuspended; reviews resume with the next push")


async def installation_new_permissions_accepted(ctx: IntakeContext) -> Outcome:
    installation = await _known_installation(ctx)
    if installation is None:
        return Outcome.ignored("the installation was never recorded")
    installation.metadata_ = {
        **installation.metadata_,
        **_installation_metadata(ctx.payload["installation"]),
    }
    return Outcome.done("new permissions recorded")


async def installation_repositories_added(ctx: IntakeContext) -> Outcome:
    installation = await _known_installation(ctx)
    if installation is None:
        raise RetryLater(
            f"installation {ctx.payload['installation']['id']} is not known yet "
            "(its installation.created delivery has not been processed)"
        )
    repositories = RepositoryRepository(ctx.session, installation.workspace_id)
    added = ctx.payload.get("repositories_added") or []
    for repo in added:
        await repositories.upsert(installation, repo)
    return Outcome.done(f"{len(added)} repository(ies) added")


async def installation_repositories_removed(ctx: IntakeContext) -> Outcome:
    installation = await _known_installation(ctx)
    if installation is None:
        return Outcome.ignored("the installation was never recorded")
    removed = [int(repo["id"]) for repo in ctx.payload.get("repositories_removed") or []]
    repositories = RepositoryRepository(ctx.session, installation.workspace_id)
    repository_ids = await repositories.soft_delete(installation, removed)
    stopped = await stop_pending_runs(
        ctx.session,
        installation.workspace_id,
        reason="the repository was removed from the GitHub App installation",
        repository_ids=repository_ids,
    )
    return Outcome.done(
        f"{len(repository_ids)} repository(ies) removed; {len(stopped)} pending run(s) stopped"
    )


async def installation_target_renamed(ctx: IntakeContext) -> Outcome:
    installation = await _known_installation(ctx)
    if installation is None:
        return Outcome.ignored("the installation was never recorded")
    new_login = ctx.payload["account"]["login"]
    old_login = installation.account_login or ""
    installation.account_login = new_login
    repositories = RepositoryRepository(ctx.session, installation.workspace_id)
    rows = await ctx.session.execute(
        repositories.select().where(Repository.installation_id == installation.id)
    )
    for repository in rows.scalars():
        owner, _, name = repository.name.partition("/")
        if owner == old_login:
            repository.name = f"{new_login}/{name}"
    return Outcome.done(f"account renamed from {old_login} to {new_login}")
