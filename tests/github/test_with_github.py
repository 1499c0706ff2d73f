"""Intake against the GitHub simulator over real HTTP, with the real githubkit client:
command acknowledgements, asking GitHub for a PR's head, recovering failed deliveries, and
the real `sentinel worker` process draining the queue."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.github.acknowledge import TransientGitHubError, acknowledge_command
from app.github.recovery import recover_deliveries
from app.resources import Resources
from app.sweeper import sweep
from sandbox.github import GitHubState, deliver, issue_comment_event, serve_github
from tests.github.conftest import SECRET, Hook
from tests.support.github_app import with_simulated_app
from tests.support.github_payloads import GitHubWorld
from tests.support.redis_server import free_port

SENTINEL = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "sentinel"
INSTALLATION = 5150
HEAD = "a1" * 20
BASE = "b2" * 20
COMMENT_ID = 777


@pytest.fixture
async def github() -> AsyncIterator[GitHubState]:
    state = GitHubState(webhook_secret=SECRET)
    state.add_installation(INSTALLATION, "Codertocat", account_type="User")
    state.add_repository(INSTALLATION, "Codertocat", "Hello-World", 186853002)
    state.add_pull_request(
        "Codertocat", "Hello-World", 2, HEAD, BASE, "Add a feature", "Body", "octocat"
    )
    async with serve_github(state):
        yield state


@pytest.fixture
async def app_resources(settings: Settings, github: GitHubState) -> AsyncIterator[Resources]:
    built = await Resources.build(with_simulated_app(settings, github))
    yield built
    await built.close()


@pytest.fixture
async def installed(hook: Hook, github: GitHubState) -> GitHubWorld:
    world = GitHubWorld(installation_id=INSTALLATION, app_id=github.app_id)
    await hook.deliver("installation", world.installation())
    return world


async def _process(hook: Hook, resources: Resources, event: str, payload: dict) -> dict:  # type: ignore[type-arg]
    response = await hook.send(event, payload)
    assert response.status_code == 202
    await sweep(resources, grace=timedelta(0))
    return await hook.delivery(response.json()["delivery"])


async def _command(
    hook: Hook, github: GitHubState, resources: Resources, body: str, association: str
) -> dict[str, Any]:
    """A maintainer's `@sentinel` comment on PR 2, delivered and processed: its inbox row."""
    github.add_issue_comment(
        "Codertocat", "Hello-World", COMMENT_ID, body, "Codertocat", issue_number=2
    )
    payload = issue_comment_event(github, "Codertocat", "Hello-World", COMMENT_ID)
    payload["comment"]["author_association"] = association
    return await _process(hook, resources, "issue_comment", payload)


async def test_review_command_asks_github_for_an_unseen_head_and_reacts(
    hook: Hook, github: GitHubState, app_resources: Resources, installed: GitHubWorld
) -> None:
    row = await _command(hook, github, app_resources, "@sentinel review", "OWNER")
    assert row["outcome"] == "handled", row
    (run,) = await hook.rows("SELECT head_sha, base_sha, kind FROM runs")
    assert run == {"head_sha": HEAD, "base_sha": BASE, "kind": "manual"}
    assert any(r.path.endswith("/pulls/2") for r in github.requests)

    assert await acknowledge_command(app_resources, row["id"], "eyes")
    assert [(r["comment_id"], r["content"]) for r in github.reactions] == [(COMMENT_ID, "eyes")]
    # The installation token was minted once and is reused from the shared cache.
    assert await acknowledge_command(app_resources, row["id"], "eyes")
    assert github.tokens_issued(INSTALLATION) == 1


async def test_acknowledgement_reports_github_outages_as_transient(
    hook: Hook, github: GitHubState, app_resources: Resources, installed: GitHubWorld
) -> None:
    row = await _command(hook, github, app_resources, "@sentinel pause", "MEMBER")
    github.fail_next("/repos/Codertocat/Hello-World/issues/comments", 502)
    with pytest.raises(TransientGitHubError):
        await acknowledge_command(app_resources, row["id"], "+1")
    assert await acknowledge_command(app_resources, row["id"], "+1")


async def test_acknowledgement_replaces_a_revoked_token(
    hook: Hook, github: GitHubState, app_resources: Resources, installed: GitHubWorld
) -> None:
    row = await _command(hook, github, app_resources, "@sentinel pause", "MEMBER")
    assert await acknowledge_command(app_resources, row["id"], "+1")
    issued = github.tokens_issued(INSTALLATION)
    github.revoke_tokens(INSTALLATION)
    # Refused (401): retried later, with the cached token forgotten ...
    with pytest.raises(TransientGitHubError, match="401"):
        await acknowledge_command(app_resources, row["id"], "eyes")
    # ... so the retry mints a new one instead of failing until the cache expires.
    assert await acknowledge_command(app_resources, row["id"], "eyes")
    assert github.tokens_issued(INSTALLATION) == issued + 1


async def test_recovery_redelivers_what_github_failed_to_deliver(
    hook: Hook, github: GitHubState, app_resources: Resources, api_url: str
) -> None:
    # Sentinel is down: GitHub's delivery fails and GitHub will not retry by itself.
    github.webhook_url = f"http://127.0.0.1:{free_port()}/webhooks/github"
    world = GitHubWorld(installation_id=INSTALLATION, app_id=github.app_id)
    lost = await deliver(github, "installation", world.installation())
    assert lost.status_code == 0
    # Sentinel is back.
    github.webhook_url = f"{api_url}/webhooks/github"
    delivered = await deliver(github, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert delivered.status_code == 202

    report = await recover_deliveries(app_resources)
    assert report.requested == [lost.guid]
    row = await hook.delivery(lost.guid)
    assert row["event"] == "installation"
    await sweep(app_resources, grace=timedelta(0))
    assert len(await hook.rows("SELECT id FROM workspaces")) == 1
    # Nothing left to recover.
    assert (await recover_deliveries(app_resources)).requested == []


async def test_sentinel_worker_process_drains_the_queue(
    hook: Hook, github: GitHubState, settings: Settings, installed: GitHubWorld
) -> None:
    github.add_issue_comment(
        "Codertocat", "Hello-World", COMMENT_ID, "@sentinel pause", "Codertocat", issue_number=2
    )
    payload = issue_comment_event(github, "Codertocat", "Hello-World", COMMENT_ID)
    payload["comment"]["author_association"] = "COLLABORATOR"
    response = await hook.send("issue_comment", payload)
    assert response.status_code == 202
    app_settings = with_simulated_app(settings, github)
    assert app_settings.github_private_key is not None
    env = {
        **os.environ,
        "SENTINEL_DATABASE_URL": app_settings.database_url,
        "SENTINEL_REDIS_URL": app_settings.redis_url,
        "SENTINEL_GITHUB_APP_ID": str(github.app_id),
        "SENTINEL_GITHUB_PRIVATE_KEY": app_settings.github_private_key.get_secret_value(),
        "SENTINEL_GITHUB_API_URL": github.base_url,
    }
    worker = await asyncio.create_subprocess_exec(
        str(SENTINEL), "worker", "--burst", env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(worker.communicate(), timeout=120)
    assert worker.returncode == 0, stderr.decode()[-2000:]
    row = await hook.delivery(response.json()["delivery"])
    assert row["outcome"] == "handled"
    (pull_request,) = await hook.rows("SELECT paused, paused_by FROM pull_requests")
    assert pull_request == {"paused": True, "paused_by": "Codertocat"}
    assert [r["content"] for r in github.reactions] == ["+1"]
    # Neither the App's key nor an installation token reaches the worker's logs.
    logs = stderr.decode()
    assert github.private_key_pem.splitlines()[1] not in logs
    assert github.issued_tokens
    assert all(issued.token not in logs for issued in github.issued_tokens)
