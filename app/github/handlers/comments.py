"""`issue_comment.created` on a pull request: the `@SLUG` commands of maintainers."""

from __future__ import annotations

from datetime import UTC, datetime

from app.github.client import app_is_configured
from app.github.commands import ALLOWED_ASSOCIATIONS, Command, parse_command
from app.github.context import IntakeContext, Outcome, RetryLater
from app.github.handlers.pull_requests import reason_not_to_review
from app.github.repositories import RepositoryRepository
from app.models import PullRequest, RunKind
from app.runs.repository import PullRequestRepository, RunRepository
from app.runs.service import ReviewRequest, start_review, stop_pending_runs

ACKNOWLEDGE_JOB = "acknowledge_command"
REACTIONS = {
    Command.REVIEW: "eyes",
    Command.FULL_REVIEW: "eyes",
    Command.PAUSE: "+1",
    Command.RESUME: "+1",
}


def acknowledge(ctx: IntakeContext, command: Command) -> None:
    inbox_id = ctx.delivery.inbox_id
    ctx.jobs.add(ACKNOWLEDGE_JOB, inbox_id, REACTIONS[command], job_id=f"ack:{inbox_id}")


async def _head_of(ctx: IntakeContext, state: PullRequest) -> tuple[str, str | None]:
    """The PR's head (and base) SHA: as last seen in a webhook, else asked of GitHub."""
    if state.head_sha:
        return state.head_sha, state.base_sha
    if ctx.github_app is None or not app_is_configured(ctx.settings):
        raise RetryLater("the PR's head is unknown and the GitHub App credentials are not set")
    github = ctx.github_app.for_installation(ctx.known_installation.external_id)
    owner, _, name = ctx.payload["repository"]["full_name"].partition("/")
    response = await github.rest.pulls.async_get(owner, name, state.number)
    pull = response.parsed_data
    state.head_sha, state.base_sha = pull.head.sha, pull.base.sha
    return pull.head.sha, pull.base.sha


async def issue_comment_created(ctx: IntakeContext) -> Outcome:
    issue, comment = ctx.payload["issue"], ctx.payload["comment"]
    if not issue.get("pull_request"):
        return Outcome.ignored("a comment on an issue, not on a pull request")
    command = parse_command(comment.get("body"), ctx.settings.app_slug)
    if command is None:
        return Outcome.ignored(f"no @{ctx.settings.app_slug} command")
    user = comment.get("user") or {}
    login = user.get("login", "?")
    if user.get("type") == "Bot":
        return Outcome.ignored(f"@{login} is a bot; bots may not command Sentinel")
    association = comment.get("author_association", "NONE")
    if association not in ALLOWED_ASSOCIATIONS:
        return Outcome.ignored(
            f"@{login} ({association}) may not command Sentinel: only owners, members and "
            "collaborators of the repository can"
        )

    repository = await RepositoryRepository(ctx.session, ctx.workspace_id).upsert(
        ctx.known_installation, ctx.payload["repository"]
    )
    state = await PullRequestRepository(ctx.session, ctx.workspace_id).lock(
        repository.id, int(issue["number"])
    )

    if command is Command.PAUSE:
        state.paused, state.paused_by, state.paused_at = True, login, datetime.now(UTC)
        stopped = await stop_pending_runs(
            ctx.session,
            ctx.workspace_id,
            reason=f"reviews were paused on this pull request by @{login}",
            repository_ids=[repository.id],
            pull_request_number=state.number,
        )
        acknowledge(ctx, command)
        return Outcome.done(f"paused by @{login}; {len(stopped)} pending run(s) stopped")
    if command is Command.RESUME:
        state.paused, state.paused_by, state.paused_at = False, None, None
        acknowledge(ctx, command)
        return Outcome.done(f"resumed by @{login}")

    reason = reason_not_to_review(ctx, repository, state)
    if reason is not None:
        return Outcome.ignored(reason)
    if issue.get("state") == "closed" or state.state != "open":
        return Outcome.ignored("the pull request is closed")
    head_sha, base_sha = await _head_of(ctx, state)
    if command is Command.REVIEW:
        pending = await RunRepository(ctx.session, ctx.workspace_id).pending_for_head(
            repository.id, state.number, head_sha
        )
        if pending is not None:
            acknowledge(ctx, command)
            return Outcome.ignored(f"a review of {head_sha[:12]} is already queued or running")
    run = await start_review(
        ctx.session,
        ctx.workspace_id,
        ReviewRequest(
            repository=repository,
            pull_request=state,
            head_sha=head_sha,
            base_sha=base_sha,
            kind=RunKind.MANUAL,
            trigger="issue_comment." + command.value.replace(" ", "_"),
        ),
        ctx.jobs,
    )
    acknowledge(ctx, command)
    if run is None:
        return Outcome.ignored(f"{head_sha[:12]} could not be queued")
    return Outcome.done(f"{command.value} asked by @{login}: run {run.id} queued")
