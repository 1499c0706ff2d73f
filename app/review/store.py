"""Findings and where they were posted: stored append-only, read back for deduplication."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.github.provider import GITHUB
from app.models import Annotation, Finding, Provider, Run
from app.repository import WorkspaceRepository
from app.runs.repository import RunRepository
from reviewers.config import Category, Severity
from reviewers.findings import Finding as ReviewedFinding


class FindingRepository(WorkspaceRepository[Finding]):
    model = Finding


class AnnotationRepository(WorkspaceRepository[Annotation]):
    model = Annotation


def to_row(
    workspace_id: uuid.UUID, run_id: uuid.UUID, finding: ReviewedFinding, metadata: dict[str, Any]
) -> Finding:
    return Finding(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        run_id=run_id,
        severity=finding.severity.value,
        category=finding.category.value,
        title=finding.title[:500],
        description=finding.body,
        file_path=finding.path,
        line_start=finding.line_start,
        line_end=max(finding.line_end, finding.line_start),
        confidence=finding.confidence,
        metadata_={
            "fingerprint": finding.fingerprint,
            "suggestion": finding.suggestion,
            "source": finding.source,
            "reviewer": finding.reviewer,
            **metadata,
        },
    )


def from_row(row: Finding) -> ReviewedFinding:
    meta = row.metadata_ or {}
    return ReviewedFinding(
        path=row.file_path,
        line_start=row.line_start,
        line_end=row.line_end,
        severity=Severity(row.severity),
        category=Category(row.category),
        title=row.title,
        body=row.description,
        confidence=row.confidence,
        suggestion=meta.get("suggestion"),
        source=meta.get("source", "model"),
        reviewer=meta.get("reviewer", ""),
    )


async def findings_of_run(
    session: AsyncSession, workspace_id: uuid.UUID, run_id: uuid.UUID
) -> list[Finding]:
    repository = FindingRepository(session, workspace_id)
    statement = repository.select().where(Finding.run_id == run_id).order_by(Finding.created_at)
    return list((await session.execute(statement)).scalars())


async def posted_fingerprints(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    repository_id: uuid.UUID,
    pull_request_number: int,
    exclude_run_id: uuid.UUID,
) -> set[str]:
    """Fingerprints of findings earlier runs of this PR actually posted (inline or in the
    summary): a later run must not post them again."""
    repository = FindingRepository(session, workspace_id)
    statement = (
        repository.select(Finding.metadata_["fingerprint"].astext)
        .join(Run, Run.id == Finding.run_id)
        .join(Annotation, Annotation.finding_id == Finding.id)
        .where(
            Run.repository_id == repository_id,
            Run.pull_request_number == pull_request_number,
            Run.id != exclude_run_id,
        )
        .distinct()
    )
    return {value for value in (await session.execute(statement)).scalars() if value}


# Statements built once: the same statement object with a list of rows is compiled once and
# sent as one multi-row INSERT (SQLAlchemy's insertmanyvalues), however many rows there are.
_INSERT_FINDINGS = insert(cast(Table, Finding.__table__))
# Column name → ORM attribute (`metadata` is `metadata_` on the model); created_at is the
# database's.
_FINDING_COLUMNS = {
    column.key: Finding.__mapper__.get_property_by_column(column).key
    for column in Finding.__table__.columns
    if column.key != "created_at"
}
_INSERT_ANNOTATIONS = (
    insert(cast(Table, Annotation.__table__))
    # The `github` reference row, looked up by the same statement.
    .values(provider_id=select(Provider.id).where(Provider.slug == GITHUB).scalar_subquery())
    .on_conflict_do_nothing(index_elements=["finding_id", "type"])
)


async def insert_findings(session: AsyncSession, rows: list[Finding]) -> None:
    """Built by `to_row` (ids and all), written in one statement."""
    if not rows:
        return
    await session.execute(
        _INSERT_FINDINGS,
        [
            {key: getattr(row, attribute) for key, attribute in _FINDING_COLUMNS.items()}
            for row in rows
        ],
    )


async def record_annotations(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    rows: list[tuple[uuid.UUID, str, str | None]],
) -> None:
    """(finding id, type, external id) — once each, however often the job runs."""
    if not rows:
        return
    await session.execute(
        _INSERT_ANNOTATIONS,
        [
            {
                "workspace_id": workspace_id,
                "finding_id": finding_id,
                "type": kind,
                "external_id": external_id,
            }
            for finding_id, kind, external_id in rows
        ],
    )


async def latest_reviewed_head(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    repository_id: uuid.UUID,
    pull_request_number: int,
    current_head: str,
) -> str | None:
    """The head of the PR's most recent completed run on another commit (for incremental)."""
    statement = (
        RunRepository(session, workspace_id)
        .select(Run.head_sha)
        .where(
            Run.repository_id == repository_id,
            Run.pull_request_number == pull_request_number,
            Run.status == "completed",
            Run.head_sha != current_head,
        )
        .order_by(Run.completed_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
