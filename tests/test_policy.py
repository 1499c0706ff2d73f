"""Policy resolution and the `.sentinel.yml` schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import tenant_session
from app.models import Policy, RepositorySettings
from app.policy.resolve import parse_repository_file, resolve_snapshot
from app.policy.schema import SCHEMA_PATH, render
from tests.support.factories import make_workspace_graph

GOOD_FILE = """
enabled: true
drafts: true
min_severity: warning
max_comments: 10
path_filters: ["src/**", "!src/generated/**"]
path_instructions:
  - path: "src/payments/**"
    instructions: "Money: check rounding."
categories: [bug, security]
"""


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text() == render(), "run: python -m app.policy.schema"


def test_schema_accepts_a_good_file_and_rejects_admin_keys() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(yaml.safe_load(GOOD_FILE), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"provider": "openai"}, schema)


@pytest.mark.parametrize(
    ("text", "expected_keys", "problem"),
    [
        (GOOD_FILE, {"enabled", "drafts", "min_severity", "max_comments", "path_filters",
                     "path_instructions", "categories"}, None),
        ("model: gpt-4\nmin_severity: critical", {"min_severity"}, "`model` cannot be set"),
        ("api_key: sk-xyz", set(), "only workspace admins choose"),
        ("min_severity: extreme\ndrafts: true", {"drafts"}, "`min_severity`"),
        ("max_comments: -3", set(), "`max_comments`"),
        ("[1, 2]", set(), "must be a mapping"),
        ("key: [unclosed", set(), "not valid YAML (line 1)"),
        ("", set(), None),
    ],
)  # fmt: skip
def test_repository_file_keys_are_validated_one_by_one(
    text: str, expected_keys: set[str], problem: str | None
) -> None:
    accepted, errors = parse_repository_file(text)
    assert set(accepted) == expected_keys
    if problem is None:
        assert errors == []
    else:
        assert any(problem in error for error in errors), errors


async def test_layers_resolve_in_order_and_the_file_is_capped(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    graph = await make_workspace_graph(sessionmaker, "layers")
    async with tenant_session(sessionmaker, graph.workspace_id) as session:
        session.add(
            Policy(
                workspace_id=graph.workspace_id,
                name="default",
                version=2,
                config={"min_severity": "critical", "max_comments_cap": 5, "provider": "openai",
                        "model": "gpt-4.1", "fail_on_critical": True},
            )
        )  # fmt: skip
        await session.flush()
        settings_row = (
            await session.execute(
                RepositorySettings.__table__.select().where(
                    RepositorySettings.repository_id == graph.repository_id
                )
            )
        ).first()
        assert settings_row is not None  # the factory wrote {"min_severity": "warning"}
        snapshot = await resolve_snapshot(
            session, graph.workspace_id, graph.repository_id, "max_comments: 50\ndrafts: true\n"
        )
    assert snapshot.review.min_severity == "warning"
    assert snapshot.sources["min_severity"] == "repository settings"
    assert snapshot.review.drafts is True
    assert snapshot.sources["drafts"] == ".sentinel.yml"
    assert snapshot.review.max_comments == 5
    assert any("above the cap 5" in e for e in snapshot.repository_file_errors)
    assert (snapshot.provider, snapshot.model) == ("openai", "gpt-4.1")
    assert (snapshot.policy_name, snapshot.policy_version) == ("default", 2)
    assert snapshot.fail_on_critical is True
    assert snapshot.plan == "free"
    assert snapshot.limits.reviews_per_month == 50
    stored = snapshot.stored()
    assert stored["hash"] == snapshot.digest
    assert len(stored["hash"]) == 64
