"""The review job: one run, from `queued` to a terminal status, exactly once.

  lock the run → running → check run in progress → policy snapshot (frozen on the run) →
  quota → files → reviewers (static always, the workspace's model when it has a key) →
  findings stored → review, check run, summary posted → usage recorded → completed.

Every step is idempotent: a job that runs twice (arq may), or a worker killed at any point,
never reviews twice, posts twice or bills twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, select

from app.backoff import backoff
from app.db import SystemContext, system_session, tenant_session
from app.github.client import web_host
from app.models import Run, RunStatus
from app.models.review import TERMINAL_RUN_STATUSES
from app.policy.resolve import snapshot_from
from app.publish.github_output import AppIdentity, CheckRun, Repo
from app.publish.render import SUMMARY_MARKER, failure_output
from app.review import queries
from app.review.errors import PermanentError, RunStopped, TransientError
from app.review.execute import ReviewInputs, ReviewPlan, execute_review
from app.review.github_source import (
    PullRequestData,
    fetch_pull_request,
    fetch_pull_request_files,
)
from app.review.provider_setup import pick_key
from app.review.queries import Claimed
from app.review.stopped_checks import STOPPED_FROM_OUTSIDE, close_earlier_check_run
from app.runs.repository import RunRepository
from app.worker_metrics import RETRIES, RUN_DURATION, RUN_QUEUE_WAIT, RUNS_FINISHED

if TYPE_CHECKING:
    from app.github.client import GitHubApp
    from app.resources import Resources

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=10)


class Retry(Exception):
    """Ask the queue to run the job again after `delay` (never sleep in a job)."""

    def __init__(self, delay: timedelta) -> None:
        super().__init__(str(delay))
        self.delay = delay


def retry_delay(
    attempt: int, retry_after: timedelta | None, *, doubling: bool = False
) -> timedelta:
    """Backoff by attempt, never before `retry_after`; with `doubling`, that floor doubles
    with every attempt (a minute, two, four... for GitHub's bare secondary rate limit)."""
    if doubling and retry_after is not None:
        retry_after = min(retry_after * 2 ** max(0, attempt - 1), LONGEST_RETRY)
    return backoff(attempt, first=FIRST_RETRY, longest=LONGEST_RETRY, at_least=retry_after)


async def _workspace_of(resources: Resources, run_id: uuid.UUID) -> uuid.UUID | None:
    """For jobs queued without their workspace (by an earlier version)."""
    async with system_session(resources.sessionmaker, SystemContext.RUN_LOOKUP) as session:
        return (
            await session.execute(select(Run.workspace_id).where(Run.id == run_id))
        ).scalar_one_or_none()


REASON_LIMIT = 1000


def one_line_reason(reason: str) -> str:
    """A run's reason is one line an admin can read in a list: GitHub's and providers'
    messages come with blank lines and one line per problem."""
    flat = " ".join(reason.split())
    return flat if len(flat) <= REASON_LIMIT else flat[: REASON_LIMIT - 1] + "…"


async def _transition(
    resources: Resources,
    ctx: Claimed,
    status: RunStatus,
    reason: str | None,
    *,
    metrics: dict[str, Any] | None = None,
) -> bool:
    """Move a pending run on; False when it had already finished (someone else ended it)."""
    values: dict[str, Any] = {
        "status": status,
        "status_reason": one_line_reason(reason) if reason is not None else None,
    }
    if status in TERMINAL_RUN_STATUSES:
        values["completed_at"] = datetime.now(UTC)
    if status is RunStatus.RUNNING:
        values["started_at"] = func.coalesce(Run.started_at, func.now())
    if metrics is not None:
        values["metrics"] = metrics
    async with tenant_session(resources.sessionmaker, ctx.workspace_id) as session:
        result = await session.execute(
            RunRepository(session, ctx.workspace_id)
            .update()
            .where(Run.id == ctx.run.id, Run.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))
            .values(**values)
            .returning(Run.id)
        )
        return result.first() is not None


def _identity(resources: Resources) -> AppIdentity:
    settings = resources.settings
    return AppIdentity(app_id=settings.github_app_id, bot_login=f"{settings.app_slug}[bot]")


async def review_run(
    resources: Resources,
    run_id: uuid.UUID,
    *,
    attempt: int = 1,
    workspace_id: uuid.UUID | None = None,
) -> str:
    """Run the review; returns what happened in a word. Raises Retry to be re-queued.
    `workspace_id` comes with the job (it saves a lookup); the run must belong to it."""
    started = time.monotonic()
    outcome = await _review_run(resources, run_id, attempt, workspace_id)
    if outcome in {status.value for status in TERMINAL_RUN_STATUSES}:
        RUNS_FINISHED.labels(outcome).inc()
        RUN_DURATION.observe(time.monotonic() - started)
    return outcome


async def _review_run(
    resources: Resources, run_id: uuid.UUID, attempt: int, workspace_id: uuid.UUID | None
) -> str:
    if workspace_id is None:
        workspace_id = await _workspace_of(resources, run_id)
        if workspace_id is None:
            return "missing"
    async with resources.run_locks.hold(run_id) as held:
        if not held:
            return "busy"  # another executor has it; this copy of the job does nothing
        claimed = await queries.claim(
            resources.direct, workspace_id, run_id, mark_running=resources.github_app is not None
        )
        if isinstance(claimed, str):
            if attempt > 1 and claimed in STOPPED_FROM_OUTSIDE:
                await close_earlier_check_run(resources, _identity(resources), workspace_id, run_id)
            return claimed
        ctx = claimed
        if resources.github_app is None:
            await _transition(
                resources,
                ctx,
                RunStatus.FAILED,
                "the GitHub App credentials are not configured (SENTINEL_GITHUB_APP_ID and "
                "SENTINEL_GITHUB_PRIVATE_KEY): Sentinel cannot read or comment on the PR",
            )
            return "failed"
        if attempt == 1:
            RUN_QUEUE_WAIT.observe(
                max(0.0, (datetime.now(UTC) - ctx.run.created_at).total_seconds())
            )
        github = resources.github_app.for_installation(ctx.installation.external_id)
        # One HTTP client for the whole review, instead of one per request.
        async with github:
            return await _execute(resources, resources.github_app, ctx, github, attempt)


async def _execute(
    resources: Resources, github_app: GitHubApp, ctx: Claimed, github: Any, attempt: int
) -> str:
    """The claimed run on GitHub: started, reviewed and published, or failed or retried."""
    run_id = ctx.run.id
    bound = log.bind(run_id=str(run_id), workspace_id=str(ctx.workspace_id))
    repo = Repo(github, ctx.repository.name, _identity(resources), fresh=ctx.first_execution)
    # Created when the review has its estimate, or when it ends before that.
    check_run = CheckRun(repo, ctx.run.head_sha, run_id)
    try:
        deadline = resources.settings.review_deadline_seconds
        scope = asyncio.timeout(deadline)
        try:
            async with scope:
                # First on its own: it also mints the installation token the calls after it
                # share (side by side, each would mint one).
                read = await _read_pull_request(github, ctx)
                return await _review(resources, ctx, repo, check_run, github, read)
        except TimeoutError:
            if not scope.expired():
                raise  # some other timeout, not the review's deadline
            raise PermanentError(
                f"the review took longer than its {deadline}-second deadline "
                "(SENTINEL_REVIEW_DEADLINE_SECONDS) and was stopped; narrow path_filters or "
                "split the pull request, then re-run the check"
            ) from None
    except RunStopped:
        bound.info("run.stopped")
        await _close_stopped_check_run(resources, ctx, check_run)
        return "stopped"
    except TransientError as error:
        if attempt >= MAX_ATTEMPTS:
            await _fail(resources, ctx, check_run, f"{error.reason}; gave up after "
                        f"{attempt} attempts")  # fmt: skip
            return "failed"
        if error.stale_token:
            await github_app.forget_installation_token(ctx.installation.external_id)
        delay = retry_delay(attempt, error.retry_after, doubling=error.doubling)
        RETRIES.labels("github" if "GitHub" in error.reason else "model").inc()
        bound.info("run.retrying", reason=error.reason, delay=delay.total_seconds())
        # Back to `queued` while it waits: a `running` run without a lock holder is one
        # the sweeper resumes at once, and a waiting retry must keep its backoff.
        await _transition(
            resources,
            ctx,
            RunStatus.QUEUED,
            f"retrying: {error.reason} (attempt {attempt + 1} in {int(delay.total_seconds())} s)",
        )
        raise Retry(delay) from None
    except PermanentError as error:
        await _fail(resources, ctx, check_run, error.reason)
        return "failed"


async def _close_stopped_check_run(resources: Resources, ctx: Claimed, check_run: CheckRun) -> None:
    """A run stopped mid-review must not leave its check spinning on the commit."""
    async with tenant_session(resources.sessionmaker, ctx.workspace_id) as session:
        reason = (
            await session.execute(
                RunRepository(session, ctx.workspace_id)
                .select(Run.status_reason)
                .where(Run.id == ctx.run.id)
            )
        ).scalar_one_or_none()
    try:
        await check_run.close_if_shown(
            conclusion="cancelled",
            title="Sentinel stopped reviewing this commit",
            summary=reason or "the review was stopped",
        )
    except (TransientError, PermanentError) as error:
        log.warning("run.check_run_not_updated", run_id=str(ctx.run.id), error=error.reason)


async def _fail(resources: Resources, ctx: Claimed, check_run: CheckRun, reason: str) -> None:
    log.warning("run.failed", run_id=str(ctx.run.id), reason=reason)
    title, summary = failure_output(reason, allowed_host=web_host(resources.settings))
    try:
        await check_run.complete(conclusion="neutral", title=title, summary=summary, annotations=[])
    except (TransientError, PermanentError) as error:
        log.warning("run.check_run_not_updated", run_id=str(ctx.run.id), error=error.reason)
    await _transition(resources, ctx, RunStatus.FAILED, reason)


async def _end_early(
    resources: Resources, ctx: Claimed, check_run: CheckRun, status: RunStatus, reason: str
) -> str:
    await check_run.complete(
        conclusion="neutral" if status is not RunStatus.SUPERSEDED else "skipped",
        title="Sentinel did not review this commit",
        summary=reason,
        annotations=[],
    )
    await _transition(resources, ctx, status, reason)
    return status.value


@dataclass(frozen=True)
class _PullRequestRead:
    pull: PullRequestData
    # The PR's files, read ahead when a full review is certain (else None: read later).
    files: list[dict[str, Any]] | None


async def _read_pull_request(github: Any, ctx: Claimed) -> _PullRequestRead:
    owner, _, name = ctx.repository.name.partition("/")
    pull = await fetch_pull_request(
        github, owner, name, ctx.run.pull_request_number, marker=SUMMARY_MARKER
    )
    if pull.state != "open" or pull.head_sha != ctx.run.head_sha:
        return _PullRequestRead(pull, None)
    return _PullRequestRead(pull, await _files_ahead(github, ctx))


async def _files_ahead(github: Any, ctx: Claimed) -> list[dict[str, Any]] | None:
    """The PR's files, when the review will certainly need all of them: not an incremental
    run (that depends on `.sentinel.yml`), and not a workspace out of its monthly reviews."""
    if ctx.since_head is not None or ctx.out_of_reviews:
        return None
    owner, _, name = ctx.repository.name.partition("/")
    return await fetch_pull_request_files(github, owner, name, ctx.run.pull_request_number)


async def _review(
    resources: Resources,
    ctx: Claimed,
    repo: Repo,
    check_run: CheckRun,
    github: Any,
    read: _PullRequestRead,
) -> str:
    pull = read.pull
    if pull.state != "open":
        return await _end_early(
            resources, ctx, check_run, RunStatus.CANCELLED, "the pull request is closed"
        )
    if pull.head_sha != ctx.run.head_sha:
        return await _end_early(
            resources,
            ctx,
            check_run,
            RunStatus.SUPERSEDED,
            f"a newer commit ({pull.head_sha[:12]}) was pushed before this one was reviewed",
        )
    snapshot = snapshot_from(ctx.sources, pull.repository_file)
    # Frozen on the run before any model call: every comment traces back to it. Only while
    # the run is still wanted: this also stands for the check before the first model call
    # (StopAwareProvider).
    await queries.freeze_snapshot(resources.direct, ctx.workspace_id, ctx.run.id, snapshot.stored())
    inputs = ReviewInputs(
        since_head=ctx.since_head if snapshot.review.incremental else None,
        stored_findings=ctx.stored_findings,
        key=pick_key(ctx.keys, snapshot.provider),
        input_tokens_this_month=ctx.input_tokens_this_month,
    )

    if not snapshot.review.enabled:
        return await _end_early(
            resources, ctx, check_run, RunStatus.SKIPPED,
            f"reviews are turned off ({snapshot.sources.get('enabled', 'policy')})",
        )  # fmt: skip
    if ctx.out_of_reviews:
        return await _end_early(
            resources, ctx, check_run, RunStatus.SKIPPED,
            f"the workspace's {snapshot.plan} plan includes {snapshot.limits.reviews_per_month} "
            "reviews a month and they are used up; upgrade the plan or wait for next month",
        )  # fmt: skip

    await execute_review(
        resources,
        ReviewPlan(
            run=ctx.run,
            repository=ctx.repository,
            installation=ctx.installation,
            pull=pull,
            snapshot=snapshot,
            repo=repo,
            github=github,
            check_run=check_run,
            inputs=inputs,
            files_read_ahead=read.files,
        ),
    )
    return "completed"
