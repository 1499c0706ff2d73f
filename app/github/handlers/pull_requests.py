"""`pull_request` events: one review run per head, newer heads supersede older ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.github.context import IntakeContext, Outcome
from app.github.repositories import RepositoryRepository
from app.models import PullRequest, Repository, RunKind
from app.policy.drafts import drafts_enabled
from app.runs.repository import PullRequestRepository
from app.runs.service import ReviewRequest, record_stale_head, start_review, stop_pending_runs


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _locked_pull_request(ctx: IntakeContext) -> tuple[Repository, PullRequest]:
    repository = await RepositoryRepository(ctx.session, ctx.workspace_id).upsert(
        ctx.known_installation, ctx.payload["repository"]
    )
    number = int(ctx.payload["pull_request"]["number"])
    state = await PullRequestRepository(ctx.session, ctx.workspace_id).lock(repository.id, number)
    return repository, state


def reason_not_to_review(
    ctx: IntakeContext, repository: Repository, state: PullRequest
) -> str | None:
    """Why a PR event must not start a review (shared with comment commands), or None."""
    if ctx.known_installation.suspended_at is not None:
        return "the GitHub App installation is suspended; unsuspend it on GitHub to resume"
    if repository.deleted_at is not None:
        return f"{repository.name} is no longer part of the installation"
    if repository.archived_at is not None:
        return f"{repository.name} is archived"
    if not repository.is_enabled:
        return f"reviews are disabled for {repository.name}; enable the repository in Sentinel"
    return None


async def pull_request_review_event(ctx: IntakeContext) -> Outcome:
    """opened, reopened, ready_for_review, synchronize."""
    pr = ctx.payload["pull_request"]
    repository, state = await _locked_pull_request(ctx)
    head_sha, base_sha = pr["head"]["sha"], pr["base"]["sha"]
    seen_at = _timestamp(pr.get("updated_at"))
    request = ReviewRequest(
        repository=repository,
        pull_request=state,
        head_sha=head_sha,
        base_sha=base_sha,
        kind=RunKind.AUTOMATIC,
        trigger=ctx.delivery.name,
        seen_at=seen_at,
    )
    newer_head = (
        state.head_sha
        if state.head_sha != head_sha
        and state.head_seen_at is not None
        and seen_at is not None
        and seen_at < state.head_seen_at
        else None
    )
    if newer_head is not None:
        await record_stale_head(ctx.session, ctx.workspace_id, request, newer_head)
        return Outcome.ignored(
            f"{head_sha[:12]} is older than the head already seen ({newer_head[:12]})"
        )

    state.head_sha, state.base_sha, state.head_seen_at = head_sha, base_sha, seen_at
    state.is_draft = bool(pr.get("draft"))
    state.state = "open"

    reason = reason_not_to_review(ctx, repository, state)
    if reason is None and state.paused:
        reason = (
            f"reviews are paused on this pull request by @{state.paused_by}; "
            f"comment `@{ctx.settings.app_slug} resume` to resume"
        )
    if reason is None and state.is_draft:
        if not await drafts_enabled(ctx.session, ctx.workspace_id, repository.id):
            reason = "the pull request is a draft; drafts are reviewed only when the policy "
            reason += "enables `drafts`"
    if reason is not None:
        # A newer head still makes the PR's older pending runs pointless.
        await stop_pending_runs(
            ctx.session,
            ctx.workspace_id,
            reason=f"not reviewing {head_sha[:12]}: {reason}",
            repository_ids=[repository.id],
            pull_request_number=state.number,
        )
        return Outcome.ignored(reason)

    run = await start_review(ctx.session, ctx.workspace_id, request, ctx.jobs)
    if run is None:
        return Outcome.ignored(f"{head_sha[:12]} already has its automatic review")
    return Outcome.done(f"run {run.id} queued for {repository.name}#{state.number}")


async def pull_request_closed(ctx: IntakeContext) -> Outcome:
    repository, state = await _locked_pull_request(ctx)
    merged = bool(ctx.payload["pull_request"].get("merged"))
    state.state = "merged" if merged else "closed"
    stopped = await stop_pending_runs(
        ctx.session,
        ctx.workspace_id,
        reason=f"the pull request was {'merged' if merged else 'closed'}",
        repository_ids=[repository.id],
        pull_request_number=state.number,
    )
    return Outcome.done(f"pull request {state.state}; {len(stopped)} pending run(s) stopped")


async def pull_request_converted_to_draft(ctx: IntakeContext) -> Outcome:
    repository, state = await _locked_pull_request(ctx)
    state.is_draft = True
    if await drafts_enabled(ctx.session, ctx.workspace_id, repository.id):
        return Outcome.done("converted to draft; drafts are reviewed by policy")
    stopped = await stop_pending_runs(
        ctx.session,
        ctx.workspace_id,
        reason="the pull request was converted to a draft",
        repository_ids=[repository.id],
        pull_request_number=state.number,
    )
    return Outcome.done(f"converted to draft; {len(stopped)} pending run(s) stopped")
