"""`check_run.rerequested` / `requested_action` on Sentinel's own check: review again."""

from __future__ import annotations

from app.github.context import IntakeContext, Outcome
from app.github.handlers.pull_requests import reason_not_to_review
from app.github.repositories import RepositoryRepository
from app.models import RunKind
from app.runs.repository import PullRequestRepository
from app.runs.service import ReviewRequest, start_review

CHECK_NAME = "Sentinel"


def _is_ours(ctx: IntakeContext) -> bool:
    check_run = ctx.payload["check_run"]
    app = check_run.get("app") or {}
    if check_run.get("name") != CHECK_NAME:
        return False
    if ctx.settings.github_app_id is not None:
        return app.get("id") == ctx.settings.github_app_id
    return app.get("slug") == ctx.settings.app_slug


async def check_run_rerun(ctx: IntakeContext) -> Outcome:
    if not _is_ours(ctx):
        return Outcome.ignored("not Sentinel's check run")
    check_run = ctx.payload["check_run"]
    head_sha = check_run["head_sha"]
    repository = await RepositoryRepository(ctx.session, ctx.workspace_id).upsert(
        ctx.known_installation, ctx.payload["repository"]
    )
    pull_requests = PullRequestRepository(ctx.session, ctx.workspace_id)
    linked = check_run.get("pull_requests") or []
    base_sha: str | None = None
    if linked:
        number = int(linked[0]["number"])
        base_sha = (linked[0].get("base") or {}).get("sha")
    else:
        # GitHub leaves pull_requests empty for forks: find the PR by its head.
        known = await pull_requests.find_by_head(repository.id, head_sha)
        if known is None:
            return Outcome.ignored(f"no pull request known with head {head_sha[:12]}")
        number = known.number
    state = await pull_requests.lock(repository.id, number)
    reason = reason_not_to_review(ctx, repository, state)
    if reason is not None:
        return Outcome.ignored(reason)
    run = await start_review(
        ctx.session,
        ctx.workspace_id,
        ReviewRequest(
            repository=repository,
            pull_request=state,
            head_sha=head_sha,
            base_sha=base_sha or state.base_sha,
            kind=RunKind.MANUAL,
            trigger=ctx.delivery.name,
        ),
        ctx.jobs,
    )
    if run is None:
        return Outcome.ignored(f"{head_sha[:12]} could not be queued")
    return Outcome.done(f"re-run requested on GitHub: run {run.id} queued")
