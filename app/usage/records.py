"""A run's usage records, written once per (run, type) by app/review/queries.py `finish`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


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


def usage_rows(workspace_id: uuid.UUID, usage: RunUsage) -> list[dict[str, Any]]:
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
    return [
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
