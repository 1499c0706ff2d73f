"""Writing a run's usage records: exactly once per (run, type), whatever retries happen."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import UsageRecord
from app.repository import WorkspaceRepository


class UsageRepository(WorkspaceRepository[UsageRecord]):
    model = UsageRecord


@dataclass(frozen=True)
class RunUsage:
    run_id: uuid.UUID
    repository_id: uuid.UUID
    repository: str
    pull_request_number: int
    provider: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    model_calls: int


_INSERT_USAGE = insert(cast(Table, UsageRecord.__table__)).on_conflict_do_nothing(
    index_elements=["run_id", "type"]
)


async def record_run_usage(session: AsyncSession, workspace_id: uuid.UUID, usage: RunUsage) -> None:
    """`review` (1) always; token records only when a model was actually called."""
    metadata = {
        "provider": usage.provider,
        "model": usage.model,
        "repository": usage.repository,
        "pull_request": usage.pull_request_number,
    }
    quantities = {"review": 1}
    if usage.model_calls > 0:
        quantities["llm_input_tokens"] = usage.input_tokens
        quantities["llm_output_tokens"] = usage.output_tokens
    rows = [
        {
            "workspace_id": workspace_id,
            "run_id": usage.run_id,
            "repository_id": usage.repository_id,
            "type": usage_type,
            "quantity": quantity,
            "model": usage.model if usage_type != "review" else None,
            "metadata": metadata,
        }
        for usage_type, quantity in quantities.items()
    ]
    # The unique (run_id, type) makes a replay a no-op instead of a second charge.
    await session.execute(_INSERT_USAGE, rows)
