"""Shaping runs for the API: the policy version a run used, findings with their annotations."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from app.admin.cursors import encode_cursor
from app.admin.deps import WorkspaceContext
from app.admin.runs.repository import (
    AnnotationRepository,
    FindingRepository,
    RunFilters,
    RunRepository,
)
from app.admin.runs.schemas import (
    AnnotationOut,
    FindingOut,
    PolicyUsed,
    RunDetail,
    RunOut,
    RunPage,
)
from app.errors import ApiError
from app.models import Run, RunStatus


def _policy_used(snapshot: dict[str, Any] | None) -> PolicyUsed | None:
    if not snapshot:
        return None
    name = snapshot.get("policy_name")
    version = snapshot.get("policy_version")
    return PolicyUsed(
        name=name if isinstance(name, str) else None,
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
    )


def run_out(run: Run, repository: str | None) -> RunOut:
    return RunOut(
        id=run.id,
        repository_id=run.repository_id,
        repository=repository,
        pull_request_number=run.pull_request_number,
        head_sha=run.head_sha,
        base_sha=run.base_sha,
        kind=run.kind,
        trigger=run.trigger,
        status=RunStatus(run.status),
        status_reason=run.status_reason,
        started_at=run.started_at,
        completed_at=run.completed_at,
        created_at=run.created_at,
        updated_at=run.updated_at,
        metrics=run.metrics or {},
        policy=_policy_used(run.policy_snapshot),
    )


async def list_runs(
    context: WorkspaceContext,
    filters: RunFilters,
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
) -> RunPage:
    repository = RunRepository(context.session, context.workspace_id)
    rows = await repository.page(filters, after, limit + 1)
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1][0]
        next_cursor = encode_cursor(last.created_at.isoformat(), last.id)
    return RunPage(runs=[run_out(run, name) for run, name in page], next=next_cursor)


async def run_detail(context: WorkspaceContext, run_id: uuid.UUID) -> RunDetail:
    found = await RunRepository(context.session, context.workspace_id).one(run_id)
    if found is None:
        raise ApiError(404, "not_found", f"no run {run_id} in this workspace")
    run, repository = found
    findings = await FindingRepository(context.session, context.workspace_id).of_run(run.id)
    annotations = await AnnotationRepository(context.session, context.workspace_id).of_findings(
        [finding.id for finding in findings]
    )
    by_finding: dict[uuid.UUID, list[AnnotationOut]] = defaultdict(list)
    for annotation in annotations:
        by_finding[annotation.finding_id].append(
            AnnotationOut(
                id=annotation.id,
                type=annotation.type,
                external_id=annotation.external_id,
                created_at=annotation.created_at,
            )
        )
    return RunDetail(
        **run_out(run, repository).model_dump(),
        policy_snapshot=run.policy_snapshot,
        findings=[
            FindingOut(
                id=finding.id,
                severity=finding.severity,
                category=finding.category,
                title=finding.title,
                description=finding.description,
                file_path=finding.file_path,
                line_start=finding.line_start,
                line_end=finding.line_end,
                confidence=finding.confidence,
                metadata=finding.metadata_ or {},
                created_at=finding.created_at,
                annotations=by_finding.get(finding.id, []),
            )
            for finding in findings
        ],
    )
