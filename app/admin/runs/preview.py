"""`GET /v1/workspaces/{workspace}/runs/{run_id}/preview`: what reviewing a run's commit would
cost, planned as the worker plans it, without calling any model.

The pull request's title, body and commits are read as the review reads them (they are in
every prompt). The diff is the run's own (base...head, from GitHub's compare API with the
installation's token; the pull request's file list when compare cannot give all of it). The
policy is the run's frozen snapshot, or for a run that has not started, what applies now
(without the repository's `.sentinel.yml`, which only a review reads). The model is the one
the review would use; its key is not opened. The monthly budget left is read from the usage
records.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from app.admin.deps import WorkspaceContext
from app.admin.runs.repository import RunRepository
from app.errors import ApiError
from app.github.client import GitHubApp
from app.models import Installation, ProviderKey, Repository
from app.policy.resolve import PolicySnapshot, load_policy_sources, snapshot_from
from app.review.errors import ReviewError
from app.review.execute import MAX_OUTPUT_TOKENS, input_allowance
from app.review.file_texts import fetch_new_texts
from app.review.github_source import (
    fetch_compare_files,
    fetch_pull_request,
    fetch_pull_request_files,
)
from app.review.provider_setup import pick_key
from app.review.queries import INPUT_TOKENS_THIS_MONTH, month_start
from reviewers.diff import parse_github_file
from reviewers.engine import PullRequestContext
from reviewers.preview import preview
from reviewers.pricing import price_for, price_table
from reviewers.providers.catalog import DEFAULT_MODELS, ProviderName, context_window_for


class PlannedCallOut(BaseModel):
    files: list[str]
    estimated_input_tokens: int
    partial: bool


class NotReviewedOut(BaseModel):
    path: str
    reason: str


class RunPreview(BaseModel):
    provider: str
    model: str
    context_window: int
    calls: list[PlannedCallOut]
    files_in_diff: int
    files_planned: int
    estimated_input_tokens: int
    output_tokens_at_most: int
    cost_at_most_usd: str | None
    max_model_calls: int
    max_input_tokens: int | None
    not_reviewed: list[NotReviewedOut]


async def run_preview(
    context: WorkspaceContext, run_id: Any, github_app: GitHubApp | None
) -> RunPreview:
    found = await RunRepository(context.session, context.workspace_id).one(run_id)
    if found is None:
        raise ApiError(404, "not_found", f"no run {run_id} in this workspace")
    run, _ = found
    where = await _repository(context, run.repository_id)
    if where is None:
        raise ApiError(409, "repository_gone", "the run's repository is no longer connected")
    repository, installation = where
    snapshot = await _snapshot(context, run)
    key = pick_key(await _keys(context), snapshot.provider)
    if key is None:
        raise ApiError(
            409,
            "no_model_key",
            "this run would be reviewed by the static reviewers alone: the workspace has no "
            "model key for it (add one under provider keys), so there is no model cost",
        )
    if github_app is None:
        raise ApiError(503, "github_not_configured", "Sentinel is not connected to a GitHub App")
    github = github_app.for_installation(installation.external_id)
    owner, _, name = repository.name.partition("/")
    try:
        pull = await fetch_pull_request(github, owner, name, run.pull_request_number)
        entries = None
        if run.base_sha:
            entries = await fetch_compare_files(github, owner, name, run.base_sha, run.head_sha)
        if entries is None:
            entries = await fetch_pull_request_files(github, owner, name, run.pull_request_number)
    except ReviewError as error:
        raise ApiError(502, "github_unavailable", str(error)) from None
    files = await asyncio.to_thread(lambda: [parse_github_file(entry) for entry in entries])
    new_texts = await fetch_new_texts(github, context.workspace_id, repository.name, files, entries)
    provider: ProviderName = key.provider  # type: ignore[assignment]
    model = snapshot.model or key.model or DEFAULT_MODELS[provider]
    allowance = input_allowance(snapshot, await _spent_this_month(context, snapshot))

    def plan() -> RunPreview:
        planned = preview(
            files,
            config=snapshot.review,
            pr=PullRequestContext(
                title=pull.title, body=pull.body, commit_messages=pull.commit_messages
            ),
            provider=provider,
            model=model,
            context_window=context_window_for(provider, model),
            max_output_tokens=MAX_OUTPUT_TOKENS,
            max_model_calls=snapshot.limits.max_model_calls,
            price=price_for(model, price_table(context.settings.model_prices)),
            new_texts=new_texts,
            **allowance,
        )
        return RunPreview.model_validate(planned.as_dict())

    # Parsing and pricing a large diff is CPU work: off the event loop.
    return await asyncio.to_thread(plan)


async def _repository(
    context: WorkspaceContext, repository_id: Any
) -> tuple[Repository, Installation] | None:
    statement = (
        select(Repository, Installation)
        .join(
            Installation,
            (Installation.id == Repository.installation_id)
            & (Installation.workspace_id == Repository.workspace_id),
        )
        .where(Repository.workspace_id == context.workspace_id, Repository.id == repository_id)
    )
    row = (await context.session.execute(statement)).first()
    return (row[0], row[1]) if row is not None else None


async def _snapshot(context: WorkspaceContext, run: Any) -> PolicySnapshot:
    if run.policy_snapshot:
        stored = {k: v for k, v in run.policy_snapshot.items() if k != "hash"}
        return PolicySnapshot.model_validate(stored)
    sources = await load_policy_sources(context.session, context.workspace_id, run.repository_id)
    return snapshot_from(sources, None)


async def _keys(context: WorkspaceContext) -> list[ProviderKey]:
    statement = (
        select(ProviderKey)
        .where(ProviderKey.workspace_id == context.workspace_id)
        .order_by(ProviderKey.provider)
    )
    return list((await context.session.execute(statement)).scalars())


async def _spent_this_month(context: WorkspaceContext, snapshot: PolicySnapshot) -> int | None:
    """Counted as the review's claim counts it (app/review/queries.py)."""
    if snapshot.limits.monthly_input_tokens is None:
        return None
    connection = await context.session.connection()
    result = await connection.exec_driver_sql(
        INPUT_TOKENS_THIS_MONTH,
        {"workspace": context.workspace_id, "month_start": month_start()},
    )
    return int(result.scalar_one())
