"""The heart of a run once its policy is frozen: diff → reviewers → findings → GitHub → usage.

A run whose findings are already stored (an earlier attempt got that far) does not call the
model again: it re-publishes what it has, which the GitHub output deduplicates.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from app.github.client import web_host
from app.models import Finding, Installation, ProviderKey, Repository, Run
from app.policy.resolve import PolicySnapshot
from app.publish.github_output import CheckRun, Repo
from app.publish.guard import PublishGuard
from app.publish.render import (
    Placed,
    RunFacts,
    annotation,
    check_output,
    check_text,
    comment_body,
    estimate_output,
    own_markup,
    review_body,
    summary_body,
)
from app.review import queries
from app.review.errors import ReviewError, from_provider
from app.review.file_texts import fetch_new_texts
from app.review.github_source import (
    PullRequestData,
    fetch_compare_files,
    fetch_pull_request_files,
)
from app.review.provider_setup import StopAwareProvider, open_provider
from app.review.store import (
    from_row,
    to_row,
)
from app.review.together import together
from app.security.encryption import KeyRing
from app.usage.records import RunUsage
from reviewers.anchor import anchor, suggestion_applies
from reviewers.budget import Plan
from reviewers.diff import FileDiff, parse_github_file
from reviewers.engine import PullRequestContext, ReviewResult, cap_comments, review
from reviewers.pricing import dollars, estimate, price_for, price_table
from reviewers.providers.base import ProviderError

if TYPE_CHECKING:
    from app.config import Settings
    from app.resources import Resources

log = structlog.get_logger(__name__)

# Output each model call may use: reserved in every call's window, and counted at most this
# much per call in the estimate shown before the calls.
MAX_OUTPUT_TOKENS = 4096
WITHHELD_CHECK_SUMMARY = (
    "Sentinel withheld this review's details because they would have contained a credential "
    "or unsafe markup. The workspace's audit log (`publish.blocked`) says why."
)


@dataclass(frozen=True)
class ReviewInputs:
    """What the review reads from the database before it starts (queries.claim)."""

    # The head of the PR's last completed review (incremental runs only).
    since_head: str | None
    # Findings an earlier attempt of this run already stored (then the model is not called).
    stored_findings: list[Finding]
    # The workspace's model key for this run; None: the static reviewer runs alone.
    key: ProviderKey | None
    # Model input tokens the workspace spent this month (when its policy sets a budget).
    input_tokens_this_month: int | None = None


@dataclass
class ReviewPlan:
    run: Run
    repository: Repository
    installation: Installation
    pull: PullRequestData
    snapshot: PolicySnapshot
    repo: Repo
    github: Any
    check_run: CheckRun
    inputs: ReviewInputs
    # The PR's files when they were read ahead with the pull request (a full review).
    files_read_ahead: list[dict[str, Any]] | None = None

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.run.workspace_id


async def _files(plan: ReviewPlan) -> tuple[list[dict[str, Any]], str]:
    """The files to review and a description of the mode (full or since which head)."""
    owner, _, name = plan.repository.name.partition("/")
    run = plan.run
    since = plan.inputs.since_head
    if since is None and plan.files_read_ahead is not None:
        return plan.files_read_ahead, "full review"
    if since is not None:
        files = await fetch_compare_files(plan.github, owner, name, since, run.head_sha)
        if files is not None:
            return files, f"changes since {since[:12]}"
    files = await fetch_pull_request_files(plan.github, owner, name, run.pull_request_number)
    return files, "full review"


def _unlisted(plan: ReviewPlan, listed: int) -> list[tuple[str, str]]:
    """What GitHub did not list: its files API stops at 3,000 files, so a larger pull request
    is named as partly unreviewed rather than silently cut."""
    missing = plan.pull.changed_files - listed
    if missing <= 0:
        return []
    return [(f"{missing} more file(s)", "GitHub lists at most 3,000 files of a pull request")]


def _limit_files(
    files: list[FileDiff], limit: int | None, plan_name: str
) -> tuple[list[FileDiff], list[tuple[str, str]]]:
    if limit is None or len(files) <= limit:
        return files, []
    ordered = sorted(files, key=lambda f: -(f.additions + f.deletions))
    kept, dropped = ordered[:limit], ordered[limit:]
    reason = f"over the {plan_name} plan's {limit} files per review"
    return kept, [(f.path, reason) for f in dropped]


async def _run_reviewers(
    resources: Resources,
    plan: ReviewPlan,
    files: list[FileDiff],
    entries: list[dict[str, Any]],
) -> tuple[ReviewResult, str | None, str | None, list[str], dict[str, str]]:
    """(result, provider, model, secrets that must never be posted, the estimate and cost
    as the run's metrics keep them)."""
    key = plan.inputs.key
    context = PullRequestContext(
        title=plan.pull.title, body=plan.pull.body, commit_messages=plan.pull.commit_messages
    )
    config = plan.snapshot.review
    if key is None:
        result = await review(files, config=config, provider=None, pr=context, max_model_calls=0)
        return result, None, None, [], {}
    # Context for the prompt, read before the provider's client opens (it must be closed).
    new_texts = await fetch_new_texts(
        plan.github, plan.workspace_id, plan.repository.name, files, entries
    )
    chosen = await open_provider(
        key,
        keyring=KeyRing(resources.settings.encryption_key_ring),
        model=plan.snapshot.model,
        allow_private_urls=resources.settings.allow_private_provider_urls,
        transport=resources.model_transport,
    )
    secret = chosen.api_key.get_secret_value()
    # The policy snapshot was frozen only while the run was still running (job.py).
    guarded = StopAwareProvider(
        chosen.provider, resources.sessionmaker, plan.workspace_id, plan.run.id, checked=True
    )
    price = price_for(chosen.provider.model, price_table(resources.settings.model_prices))

    async def show_estimate(planned: Plan) -> None:
        """Before the first call: what the run will send and may cost, on the check run."""
        estimated = estimate(
            calls=len(planned.chunks),
            files=len({p for chunk in planned.chunks for p in chunk.paths}),
            input_tokens=planned.estimated_input_tokens,
            max_output_tokens=MAX_OUTPUT_TOKENS,
            price=price,
        )
        shown["estimate"] = estimated.describe(chosen.provider.model)
        if estimated.cost_at_most is not None:
            shown["estimated_cost_usd"] = str(estimated.cost_at_most)
        title, summary = estimate_output(shown["estimate"])
        try:
            await plan.check_run.show(title=title, summary=summary)
        except ReviewError as error:
            # Only a progress note: the review goes on, and the final check run says it all.
            log.warning("review.estimate_not_shown", run_id=str(plan.run.id), reason=str(error))

    shown: dict[str, str] = {}
    try:
        result = await review(
            files,
            config=config,
            provider=guarded,
            pr=context,
            max_model_calls=plan.snapshot.limits.max_model_calls,
            max_output_tokens=MAX_OUTPUT_TOKENS,
            forbidden=[secret],
            on_plan=show_estimate,
            new_texts=new_texts,
            **input_allowance(plan.snapshot, plan.inputs.input_tokens_this_month),
        )
    except ProviderError as error:
        raise from_provider(error) from None
    finally:
        await chosen.provider.aclose()
    if price is not None:
        shown["cost_usd"] = str(price.cost(result.input_tokens, result.output_tokens))
    return result, chosen.provider.name, chosen.provider.model, [secret], shown


def input_allowance(snapshot: PolicySnapshot, spent_this_month: int | None) -> dict[str, Any]:
    """What the run's calls may send: the policy's per-run limit, or what the workspace's
    monthly token budget has left when that is less (with words saying so)."""
    limit = snapshot.limits.max_input_tokens
    budget = snapshot.limits.monthly_input_tokens
    if budget is None:
        return {"max_input_tokens": limit, "input_limit_reason": None}
    left = max(0, budget - (spent_this_month or 0))
    if left >= limit:
        return {"max_input_tokens": limit, "input_limit_reason": None}
    reason = (
        f"the workspace's monthly budget of {budget:,} model input tokens "
        f"({left:,} left this month; raise `monthly_input_tokens` in the policy or wait for "
        "next month)"
    )
    return {"max_input_tokens": left, "input_limit_reason": reason}


def _place(
    stored: list[tuple[uuid.UUID, Any]],
    files: list[FileDiff],
    already: set[str],
    max_comments: int,
) -> tuple[list[Placed], int]:
    """Anchor every finding; those already posted on this PR are left out (and counted)."""
    by_path = {f.path: f for f in files}
    fresh = [(fid, f) for fid, f in stored if f.fingerprint not in already]
    anchored = [(fid, anchor(f, files)) for fid, f in fresh]
    inline_ids = {
        id(a)
        for a in cap_comments([a for _, a in anchored if a.placement == "inline"], max_comments)
    }
    placed: list[Placed] = []
    for finding_id, anchored_finding in anchored:
        finding = anchored_finding.finding
        inline = anchored_finding.placement == "inline" and id(anchored_finding) in inline_ids
        reason = anchored_finding.reason
        if anchored_finding.placement == "inline" and not inline:
            reason = f"over the limit of {max_comments} inline comments"
        file = by_path.get(finding.path)
        placed.append(
            Placed(
                finding_id=finding_id,
                finding=finding,
                inline=inline,
                line=anchored_finding.line or finding.line_start,
                start_line=anchored_finding.start_line,
                suggestion_allowed=bool(
                    inline and file is not None and suggestion_applies(finding, file)
                ),
                reason="" if inline else reason,
            )
        )
    return placed, len(stored) - len(fresh)


async def execute_review(resources: Resources, plan: ReviewPlan) -> None:
    run = plan.run
    raw_files, mode = await _files(plan)
    # Parsing a 10 MB diff is CPU work: off the event loop, which other runs share.
    parsed = await asyncio.to_thread(lambda: [parse_github_file(entry) for entry in raw_files])
    files, over_limit = _limit_files(
        parsed, plan.snapshot.limits.files_per_review, plan.snapshot.plan
    )
    if mode == "full review":
        over_limit += _unlisted(plan, len(raw_files))
    metrics: dict[str, Any] = dict(run.metrics or {})
    stored = plan.inputs.stored_findings
    if not (metrics.get("reviewed") or stored):
        reviewed = await _run_reviewers(resources, plan, files, raw_files)
        result, provider_name, model_name, secrets, costs = reviewed
        metrics.update(costs)
        metrics.update(
            reviewed=True,
            provider=provider_name,
            model=model_name,
            prompt_version=result.prompt_version,
            mode=mode,
            files_reviewed=len(files) - len(result.not_reviewed),
            not_reviewed=[list(item) for item in (*over_limit, *result.not_reviewed)],
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            model_calls=result.model_calls,
            estimated_input_tokens=result.estimated_input_tokens,
            dropped_invalid=result.dropped_invalid,
            dropped_filtered=result.dropped_filtered,
            chunks_failed=[c.reason for c in result.chunks if not c.ok],
            policy_hash=plan.snapshot.digest,
        )
        about = {"prompt_version": result.prompt_version, "provider": provider_name,
                 "model": model_name}  # fmt: skip
        stored = [to_row(plan.workspace_id, run.id, f, about) for f in result.findings]
        already = await queries.store_findings(resources.direct, run, stored, metrics)
    else:
        secrets = []
        already = await queries.posted_fingerprints_if_running(resources.direct, run)
    await _publish_and_finish(resources, plan, stored, already, files, metrics, secrets)


async def _publish_and_finish(
    resources: Resources,
    plan: ReviewPlan,
    stored_rows: list[Finding],
    already: set[str],
    files: list[FileDiff],
    metrics: dict[str, Any],
    secrets: list[str],
) -> None:
    run = plan.run
    host = web_host(resources.settings)
    stored = [(row.id, from_row(row)) for row in stored_rows]
    placed, repeated = _place(stored, files, already, plan.snapshot.review.max_comments or 0)
    facts = RunFacts(
        run_id=run.id,
        head_sha=run.head_sha,
        mode=str(metrics.get("mode", "")),
        files_reviewed=int(metrics.get("files_reviewed", 0)),
        not_reviewed=[tuple(item) for item in metrics.get("not_reviewed", [])],
        provider=metrics.get("provider"),
        model=metrics.get("model"),
        input_tokens=int(metrics.get("input_tokens", 0)),
        output_tokens=int(metrics.get("output_tokens", 0)),
        prompt_version=str(metrics.get("prompt_version", "")),
        policy=_policy_label(plan.snapshot),
        notes=_notes(plan.snapshot, metrics),
        already_posted=repeated,
        estimate=str(metrics.get("estimate", "")),
        cost=_cost_words(metrics),
    )
    inline = [p for p in placed if p.inline]
    critical = any(p.finding.severity.value == "critical" for p in placed)
    guard = PublishGuard(
        allowed_host=host,
        secrets=[*secrets, *_deployment_secrets(resources.settings)],
        own_html=own_markup(run.id, placed),
    )
    conclusion = (
        "failure"
        if critical and plan.snapshot.fail_on_critical
        else ("neutral" if critical else "success")
    )
    # Rendering parses untrusted Markdown: off the event loop, like the review's own parsing.
    bodies = await asyncio.to_thread(_render, facts, placed, host)
    comments, body = bodies.comments, bodies.review
    annotations, full_summary = bodies.annotations, bodies.summary
    title, summary, details = bodies.check_title, bodies.check_summary, bodies.check_text

    async def post_review() -> int | None:
        """The review with its inline comments; its id stands for them (GitHub's answer
        does not list the comments, and reading them back would cost a call per 100)."""
        if not inline or not guard.allows(
            "review", markdown=[body, *(str(c["body"]) for c in comments)]
        ):
            return None
        event = "REQUEST_CHANGES" if critical and plan.snapshot.request_changes else "COMMENT"
        posted = await plan.repo.post_review(
            run.pull_request_number, run.id, commit_id=run.head_sha, body=body, event=event,
            comments=comments,
        )  # fmt: skip
        return int(posted["id"])

    async def complete_check_run() -> None:
        plain = [str(a[k]) for a in annotations for k in ("title", "message")]
        if guard.allows("check", markdown=[summary, details], plain=[title, *plain]):
            await plan.check_run.complete(
                conclusion=conclusion, title=title, summary=summary,
                annotations=annotations, text=details,
            )  # fmt: skip
            return
        # The check run still completes (a pending check would block merges forever),
        # saying only what happened: none of the withheld words.
        await plan.check_run.complete(
            conclusion=conclusion, title="Review output withheld",
            summary=WITHHELD_CHECK_SUMMARY, annotations=[],
        )  # fmt: skip

    async def upsert_summary() -> dict[str, Any] | None:
        if not guard.allows("summary", markdown=[full_summary]):
            return None
        async with queries.summary_turn(resources.direct, run) as turn:
            if not turn.current:
                return None  # superseded meanwhile: the newer run owns the summary
            # Kept on the PR, else found among the comments the pull request's read saw.
            posted = await plan.repo.upsert_summary(
                run.pull_request_number,
                full_summary,
                known_id=turn.comment_id or plan.pull.summary_comment_id,
                look=not plan.pull.all_comments_seen,
            )
            await turn.remember(int(posted["id"]))
            return posted

    # Three places on GitHub, side by side; each is idempotent if the job runs again.
    review_id, _, summary_comment = await together(
        post_review(), complete_check_run(), upsert_summary()
    )

    rows: list[tuple[uuid.UUID, str, str | None]] = []
    for item in placed:
        if item.inline and review_id is not None:
            rows.append((item.finding_id, "review_comment", str(review_id)))
            rows.append((item.finding_id, "check_annotation", str(plan.check_run.id)))
        elif not item.inline and summary_comment is not None:
            rows.append((item.finding_id, "summary", str(summary_comment["id"])))
    await queries.finish(
        resources.direct,
        run,
        annotations=rows,
        withheld=guard.withheld,
        usage=RunUsage(
            run_id=run.id,
            repository_id=run.repository_id,
            repository=plan.repository.name,
            pull_request_number=run.pull_request_number,
            provider=metrics.get("provider"),
            model=metrics.get("model"),
            input_tokens=int(metrics.get("input_tokens", 0)),
            output_tokens=int(metrics.get("output_tokens", 0)),
            model_calls=int(metrics.get("model_calls", 0)),
        ),
        metrics={
            **metrics,
            "inline_comments": len(inline),
            "summary_findings": len(placed) - len(inline),
            "already_posted": repeated,
            "blocked": [w.what for w in guard.withheld],
            "conclusion": conclusion,
        },
    )


@dataclass(frozen=True)
class _Bodies:
    comments: list[dict[str, object]]
    review: str
    annotations: list[dict[str, object]]
    summary: str
    check_title: str
    check_summary: str
    check_text: str


def _render(facts: RunFacts, placed: list[Placed], host: str) -> _Bodies:
    title, summary = check_output(facts, placed, allowed_host=host)
    return _Bodies(
        comments=[_review_comment(p, host) for p in placed if p.inline],
        review=review_body(facts, placed),
        annotations=[annotation(p, allowed_host=host) for p in placed if p.inline],
        summary=summary_body(facts, placed, allowed_host=host),
        check_title=title,
        check_summary=summary,
        check_text=check_text(facts, allowed_host=host),
    )


def _deployment_secrets(settings: Settings) -> list[str]:
    """Secrets of the deployment itself that no posted body may ever contain."""
    webhook = settings.github_webhook_secret
    return [webhook.get_secret_value()] if webhook is not None else []


def _review_comment(placed: Placed, host: str) -> dict[str, object]:
    comment: dict[str, object] = {
        "path": placed.finding.path,
        "body": comment_body(placed, allowed_host=host),
        "line": placed.line,
        "side": "RIGHT",
    }
    if placed.start_line is not None and placed.start_line != placed.line:
        comment["start_line"] = placed.start_line
        comment["start_side"] = "RIGHT"
    return comment


def _cost_words(metrics: dict[str, Any]) -> str:
    cost = metrics.get("cost_usd")
    return f"{dollars(Decimal(str(cost)))} at list prices" if cost is not None else ""


def _policy_label(snapshot: PolicySnapshot) -> str:
    if snapshot.policy_name is None:
        return f"defaults ({snapshot.plan} plan)"
    return f"{snapshot.policy_name} v{snapshot.policy_version} ({snapshot.plan} plan)"


def _notes(snapshot: PolicySnapshot, metrics: dict[str, Any]) -> list[str]:
    notes = [f"`.sentinel.yml`: {problem}" for problem in snapshot.repository_file_errors]
    notes += [
        f"part of the diff could not be reviewed: {r}" for r in metrics.get("chunks_failed", [])
    ]
    if metrics.get("dropped_invalid"):
        notes.append(
            f"{metrics['dropped_invalid']} malformed finding(s) from the model were dropped"
        )
    return notes
