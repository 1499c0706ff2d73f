"""A world for review tests: the GitHub simulator with one installed repository and a pull
request whose diff carries real defects, the Anthropic simulator, Sentinel's receiver and
the worker's resources with the App configured and the workspace's key saved."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from app.config import Settings
from app.db import tenant_session
from app.provider_keys.service import save_provider_key
from app.resources import Resources
from app.review.job import review_run
from app.security.encryption import KeyRing
from app.sweeper import sweep
from sandbox.github import (
    GitHubState,
    installation_event,
    issue_comment_event,
    pull_request_event,
    serve_github,
)
from sandbox.models import ModelFakeState, serve_anthropic
from tests.github.conftest import SECRET, Hook, api_url, flush_queue, hook, resources  # noqa: F401
from tests.support.github_app import with_simulated_app

OWNER, NAME, NUMBER = "acme", "calculator", 7
INSTALLATION = 4242
MODEL_KEY = "sk-ant-test-0123456789abcdef"
BASE_TEXT = "def add(a, b):\n    return a + b\n\n\ndef main():\n    print(add(1, 2))\n"
HEAD_TEXT = (
    "def add(a, b):\n    return a + b\n\n\n"
    "def ratio(total, zero):\n    return total / zero  # BUG: zero is never checked\n\n\n"
    "def main():\n    print(add(1, 2))\n"
)
SECRET_FILE = 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLF"\nDEBUG = False\n'


@dataclass
class World:
    github: GitHubState
    models: ModelFakeState
    hook: Hook
    resources: Resources  # the worker's, with the GitHub App configured
    settings: Settings
    head_sha: str

    async def deliver(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = await self.hook.send(event, payload)
        assert response.status_code in (200, 202), response.text
        await sweep(self.resources, grace=timedelta(0))
        return await self.hook.delivery(response.json()["delivery"])

    async def open_pull_request(self) -> dict[str, Any]:
        return await self.deliver(
            "pull_request", pull_request_event(self.github, OWNER, NAME, NUMBER, "opened")
        )

    async def comment(self, body: str, association: str = "OWNER") -> dict[str, Any]:
        comment = self.github.add_issue_comment(
            OWNER, NAME, None, body, "acme-admin", issue_number=NUMBER
        )
        payload = issue_comment_event(self.github, OWNER, NAME, comment.id)
        payload["comment"]["author_association"] = association
        return await self.deliver("issue_comment", payload)

    async def runs(self) -> list[dict[str, Any]]:
        return await self.hook.rows(
            "SELECT id, workspace_id, status, status_reason, head_sha, kind, trigger, metrics, "
            "policy_snapshot FROM runs ORDER BY created_at"
        )

    async def review(self, run_id: Any, attempt: int = 1) -> str:
        return await review_run(self.resources, run_id, attempt=attempt)

    async def review_pending(self) -> list[str]:
        outcomes = []
        for run in await self.runs():
            if run["status"] == "queued":
                outcomes.append(await self.review(run["id"]))
        return outcomes

    def reviews(self) -> list[Any]:
        return self.github.reviews_for(OWNER, NAME, NUMBER)

    def review_comments(self) -> list[Any]:
        return self.github.review_comments(OWNER, NAME, NUMBER)

    def summaries(self) -> list[Any]:
        return [
            c for c in self.github.issue_comments_on(OWNER, NAME, NUMBER)
            if "sentinel:summary" in c.body
        ]  # fmt: skip

    def check_runs(self, head: str | None = None) -> list[Any]:
        return self.github.check_runs_for(OWNER, NAME, head or self.head_sha)

    async def usage(self) -> dict[str, int]:
        rows = await self.hook.rows("SELECT type, quantity FROM usage_records")
        return {row["type"]: row["quantity"] for row in rows}


def _arrange(github: GitHubState) -> str:
    github.add_installation(INSTALLATION, OWNER, account_type="Organization")
    github.add_repository(INSTALLATION, OWNER, NAME, 5550001)
    github.set_file(OWNER, NAME, "main", "calc.py", BASE_TEXT)
    repository = github.repository(OWNER, NAME)
    assert repository is not None
    base_sha = github.git_for(repository).branches["main"]
    head_sha = "c0ffee" + "0" * 34
    github.add_pull_request(
        OWNER, NAME, NUMBER, head_sha, base_sha, "Add ratio", "Adds a ratio helper.",
        "dev-dana",
        files=[
            {"filename": "calc.py", "status": "modified", "content": HEAD_TEXT},
            {"filename": "settings.py", "status": "added", "content": SECRET_FILE},
        ],
    )  # fmt: skip
    return head_sha


@pytest.fixture
async def world(
    settings: Settings,
    hook: Hook,  # noqa: F811 - the fixture imported above
) -> AsyncIterator[World]:
    github = GitHubState(webhook_secret=SECRET, slug="sentinel")
    head_sha = _arrange(github)
    models = ModelFakeState(api_keys=[MODEL_KEY])
    async with serve_github(github), serve_anthropic(models) as model_url:
        worker_settings = with_simulated_app(settings, github)
        worker = await Resources.build(worker_settings)
        try:
            world = World(github, models, hook, worker, worker_settings, head_sha)
            await world.deliver("installation", installation_event(github, INSTALLATION))
            (workspace,) = await hook.rows("SELECT id FROM workspaces")
            async with tenant_session(worker.sessionmaker, workspace["id"]) as session:
                await save_provider_key(
                    session,
                    KeyRing(worker_settings.encryption_key_ring),
                    workspace_id=workspace["id"],
                    provider="anthropic",
                    api_key=SecretStr(MODEL_KEY),
                    base_url=model_url,
                    model="claude-sonnet-5-5",
                )
            yield world
        finally:
            await worker.close()


@asynccontextmanager
async def free_plan_reviews(world: World, reviews_per_month: int) -> AsyncIterator[None]:
    """The free plan with this monthly quota of reviews (restored afterwards: plans are
    reference data shared by every test)."""
    engine = world.hook.owner_engine
    async with engine.begin() as connection:
        original = (
            await connection.execute(text("SELECT limits FROM plans WHERE name = 'free'"))
        ).scalar_one()
        await connection.execute(
            text(
                "UPDATE plans SET limits = jsonb_set(limits, '{reviews_per_month}', "
                "to_jsonb(CAST(:reviews AS int))) WHERE name = 'free'"
            ),
            {"reviews": reviews_per_month},
        )
    try:
        yield
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE plans SET limits = CAST(:limits AS jsonb) WHERE name = 'free'"),
                {"limits": json.dumps(original)},
            )


@pytest.fixture
async def no_reviews_left(world: World) -> AsyncIterator[None]:
    async with free_plan_reviews(world, 0):
        yield
