"""`repository` events: keep names, default branches and liveness true."""

from __future__ import annotations

from datetime import UTC, datetime

from app.github.context import IntakeContext, Outcome
from app.github.repositories import RepositoryRepository
from app.models import Installation, Repository
from app.runs.service import stop_pending_runs


async def _repository(ctx: IntakeContext) -> tuple[Installation, Repository]:
    repositories = RepositoryRepository(ctx.session, ctx.workspace_id)
    return ctx.known_installation, await repositories.upsert(
        ctx.known_installation, ctx.payload["repository"]
    )


async def repository_renamed(ctx: IntakeContext) -> Outcome:
    _, repository = await _repository(ctx)
    return Outcome.done(f"renamed to {repository.name}")


async def repository_transferred(ctx: IntakeContext) -> Outcome:
    _, repository = await _repository(ctx)
    return Outcome.done(f"transferred; now {repository.name}")


async def repository_edited(ctx: IntakeContext) -> Outcome:
    _, repository = await _repository(ctx)
    return Outcome.done(f"{repository.name} updated (default branch {repository.default_branch})")


async def repository_archived(ctx: IntakeContext) -> Outcome:
    _, repository = await _repository(ctx)
    repository.archived_at = datetime.now(UTC)
    stopped = await stop_pending_runs(
        ctx.session,
        ctx.workspace_id,
        reason=f"{repository.name} was archived on GitHub: an archived repository takes no reviews",
        repository_ids=[repository.id],
    )
    return Outcome.done(f"{repository.name} archived; {len(stopped)} pending run(s) stopped")


async def repository_unarchived(ctx: IntakeContext) -> Outcome:
    _, repository = await _repository(ctx)
    repository.archived_at = None
    return Outcome.done(f"{repository.name} unarchived")


async def repository_deleted(ctx: IntakeContext) -> Outcome:
    repositories = RepositoryRepository(ctx.session, ctx.workspace_id)
    external_id = int(ctx.payload["repository"]["id"])
    deleted = await repositories.soft_delete(ctx.known_installation, [external_id])
    if not deleted:
        return Outcome.ignored("the repository was not recorded, or already deleted")
    stopped = await stop_pending_runs(
        ctx.session,
        ctx.workspace_id,
        reason="the repository was deleted on GitHub",
        repository_ids=deleted,
    )
    return Outcome.done(f"repository deleted; {len(stopped)} pending run(s) stopped")
