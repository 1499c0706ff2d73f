"""`pull_request`, `issue_comment` and `check_run` events: one live run per PR head."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.github.processing import process_delivery
from app.sweeper import sweep
from tests.github.conftest import Hook
from tests.support.github_payloads import GitHubWorld
from tests.support.queue import queued_job

HEAD_1 = "1" * 40
HEAD_2 = "2" * 40


@pytest.fixture
async def installed(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())


async def _runs(hook: Hook) -> list[dict[str, object]]:
    return await hook.rows(
        "SELECT id, workspace_id, status, status_reason, kind, trigger, head_sha, "
        "external_reference "
        "FROM runs ORDER BY created_at"
    )


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("action", ["opened", "reopened", "ready_for_review", "synchronize"])
async def test_review_events_queue_one_run(hook: Hook, world: GitHubWorld, action: str) -> None:
    row = await hook.deliver("pull_request", world.pull_request(action, head_sha=HEAD_1))
    assert row["outcome"] == "handled"
    (run,) = await _runs(hook)
    assert run["status"] == "queued"
    assert run["kind"] == "automatic"
    assert run["trigger"] == f"pull_request.{action}"
    assert run["external_reference"] == f"{world.full_name}#2@{HEAD_1}"
    assert await queued_job(hook.resources.queue, str(run["id"])) == (
        "review_run",
        [str(run["id"]), str(run["workspace_id"])],
    )
    (pull_request,) = await hook.rows("SELECT number, head_sha, state FROM pull_requests")
    assert pull_request == {"number": 2, "head_sha": HEAD_1, "state": "open"}


@pytest.mark.usefixtures("installed")
async def test_newer_head_supersedes_pending_runs(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    await hook.deliver(
        "pull_request",
        world.pull_request("synchronize", head_sha=HEAD_2, updated_at="2026-11-20T10:05:00Z"),
    )
    first, second = await _runs(hook)
    assert first["status"] == "superseded"
    assert f"superseded by a newer review of {HEAD_2[:12]}" in str(first["status_reason"])
    assert second["status"] == "queued"


@pytest.mark.usefixtures("installed")
async def test_same_head_twice_is_one_run(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    again = await hook.deliver("pull_request", world.pull_request("reopened", head_sha=HEAD_1))
    assert again["outcome"] == "ignored"
    assert "already has its automatic review" in again["outcome_reason"]
    assert len(await _runs(hook)) == 1


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("order", ["in order", "reversed", "concurrently"])
async def test_opened_and_synchronize_racing_leave_one_live_run(
    hook: Hook, world: GitHubWorld, order: str
) -> None:
    opened = await hook.send("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    pushed = await hook.send(
        "pull_request",
        world.pull_request("synchronize", head_sha=HEAD_2, updated_at="2026-11-20T10:05:00Z"),
    )
    ids = [(await hook.delivery(r.json()["delivery"]))["id"] for r in (opened, pushed)]
    if order == "in order":
        for inbox_id in ids:
            await process_delivery(hook.resources, inbox_id)
    elif order == "reversed":
        for inbox_id in reversed(ids):
            await process_delivery(hook.resources, inbox_id)
    else:
        await asyncio.gather(*[process_delivery(hook.resources, i) for i in ids])
    runs = {run["head_sha"]: run for run in await _runs(hook)}
    assert runs[HEAD_2]["status"] == "queued"
    assert runs[HEAD_1]["status"] == "superseded"
    live = [run for run in runs.values() if run["status"] in ("queued", "running")]
    assert len(live) == 1


@pytest.mark.usefixtures("installed")
async def test_disabled_repository_gets_no_run_and_says_why(hook: Hook, world: GitHubWorld) -> None:
    async with hook.owner_engine.begin() as connection:
        from sqlalchemy import text

        await connection.execute(text("UPDATE repositories SET is_enabled = false"))
    row = await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    assert row["outcome"] == "ignored"
    assert row["outcome_reason"] == (
        f"reviews are disabled for {world.full_name}; enable the repository in Sentinel"
    )
    assert await _runs(hook) == []


@pytest.mark.usefixtures("installed")
async def test_drafts_are_skipped_unless_the_policy_enables_them(
    hook: Hook, world: GitHubWorld
) -> None:
    row = await hook.deliver(
        "pull_request", world.pull_request("opened", head_sha=HEAD_1, draft=True)
    )
    assert row["outcome"] == "ignored"
    assert "draft" in row["outcome_reason"]
    assert await _runs(hook) == []
    # Ready for review: reviewed.
    ready = await hook.deliver(
        "pull_request",
        world.pull_request("ready_for_review", head_sha=HEAD_1, updated_at="2026-11-20T10:01:00Z"),
    )
    assert ready["outcome"] == "handled"
    # A policy that enables drafts: a draft's new head is reviewed too.
    from sqlalchemy import text

    async with hook.owner_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO policies (workspace_id, name, config, version) "
                "SELECT id, 'default', '{\"drafts\": true}', 1 FROM workspaces"
            )
        )
    await hook.deliver(
        "pull_request",
        world.pull_request("converted_to_draft", updated_at="2026-11-20T10:02:00Z"),
    )
    pushed = await hook.deliver(
        "pull_request",
        world.pull_request(
            "synchronize", head_sha=HEAD_2, draft=True, updated_at="2026-11-20T10:03:00Z"
        ),
    )
    assert pushed["outcome"] == "handled"


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("closed", "the pull request was closed"),
        ("converted_to_draft", "the pull request was converted to a draft"),
    ],
)
async def test_close_and_draft_stop_pending_runs(
    hook: Hook, world: GitHubWorld, action: str, reason: str
) -> None:
    await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    row = await hook.deliver(
        "pull_request", world.pull_request(action, updated_at="2026-11-20T10:09:00Z")
    )
    assert row["outcome_reason"].endswith("1 pending run(s) stopped")
    (run,) = await _runs(hook)
    assert (run["status"], run["status_reason"]) == ("cancelled", reason)


@pytest.mark.usefixtures("installed")
async def test_ignored_pull_request_actions_are_recorded(hook: Hook, world: GitHubWorld) -> None:
    payload = world.pull_request("opened")
    payload["action"] = "labeled"
    row = await hook.deliver("pull_request", payload)
    assert row["outcome"] == "ignored"
    assert row["outcome_reason"] == "pull_request.labeled is not an event Sentinel acts on"


# --- comment commands ---------------------------------------------------------------------


@pytest.mark.usefixtures("installed")
async def test_review_command_from_a_member_queues_a_manual_run(
    hook: Hook, world: GitHubWorld
) -> None:
    await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    (automatic,) = await _runs(hook)
    assert automatic["status"] == "queued"
    row = await hook.deliver("issue_comment", world.comment("@sentinel full review please"))
    assert row["outcome"] == "handled"
    automatic_after, manual = await _runs(hook)
    assert manual["kind"] == "manual"
    assert manual["trigger"] == "issue_comment.full_review"
    assert manual["head_sha"] == HEAD_1
    # The newer request supersedes the pending one of the same PR.
    assert automatic_after["status"] == "superseded"
    # The command is acknowledged on GitHub by a job (ids only).
    assert await queued_job(hook.resources.queue, f"ack:{row['id']}") == (
        "acknowledge_command",
        [row["id"], "eyes"],
    )


@pytest.mark.usefixtures("installed")
async def test_review_command_while_a_review_is_pending_adds_none(
    hook: Hook, world: GitHubWorld
) -> None:
    await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    row = await hook.deliver("issue_comment", world.comment("@Sentinel review"))
    assert row["outcome"] == "ignored"
    assert "already queued or running" in row["outcome_reason"]
    assert len(await _runs(hook)) == 1


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("association", ["NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR"])
async def test_command_from_an_outsider_is_ignored(
    hook: Hook, world: GitHubWorld, association: str
) -> None:
    await hook.deliver("pull_request", world.pull_request("closed", head_sha=HEAD_1))
    row = await hook.deliver(
        "issue_comment", world.comment("@sentinel full review", association=association)
    )
    assert row["outcome"] == "ignored"
    assert f"({association}) may not command Sentinel" in row["outcome_reason"]
    assert await _runs(hook) == []
    assert await queued_job(hook.resources.queue, f"ack:{row['id']}") is None


@pytest.mark.usefixtures("installed")
async def test_pause_and_resume_persist_per_pull_request(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    paused = await hook.deliver("issue_comment", world.comment("@sentinel pause"))
    assert paused["outcome_reason"] == "paused by @Codertocat; 1 pending run(s) stopped"
    (pull_request,) = await hook.rows("SELECT paused, paused_by FROM pull_requests")
    assert pull_request == {"paused": True, "paused_by": "Codertocat"}
    pushed = await hook.deliver(
        "pull_request",
        world.pull_request("synchronize", head_sha=HEAD_2, updated_at="2026-11-20T10:05:00Z"),
    )
    assert pushed["outcome"] == "ignored"
    assert "paused on this pull request by @Codertocat" in pushed["outcome_reason"]
    # Another PR of the same repository is not paused.
    other = await hook.deliver("pull_request", world.pull_request("opened", number=7))
    assert other["outcome"] == "handled"

    resumed = await hook.deliver("issue_comment", world.comment("@sentinel resume"))
    assert resumed["outcome"] == "handled"
    (pull_request,) = await hook.rows("SELECT paused FROM pull_requests WHERE number = 2")
    assert pull_request["paused"] is False
    third = await hook.deliver(
        "pull_request",
        world.pull_request("synchronize", head_sha="3" * 40, updated_at="2026-11-20T10:09:00Z"),
    )
    assert third["outcome"] == "handled"


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    ("body", "on_pr", "reason"),
    [
        ("LGTM, thanks!", True, "no @sentinel command"),
        ("> @sentinel review\nquoting the bot", True, "no @sentinel command"),
        ("```\n@sentinel review\n```", True, "no @sentinel command"),
        ("@sentinel review", False, "a comment on an issue, not on a pull request"),
    ],
)
async def test_comments_that_are_not_commands(
    hook: Hook, world: GitHubWorld, body: str, on_pr: bool, reason: str
) -> None:
    row = await hook.deliver("issue_comment", world.comment(body, on_pr=on_pr))
    assert (row["outcome"], row["outcome_reason"]) == ("ignored", reason)


@pytest.mark.usefixtures("installed")
async def test_review_command_on_an_unknown_head_without_app_credentials_retries(
    hook: Hook, world: GitHubWorld
) -> None:
    row = await hook.deliver("issue_comment", world.comment("@sentinel review", number=42))
    assert row["processed_at"] is None
    assert "GitHub App credentials are not set" in row["last_error"]


# --- check runs ---------------------------------------------------------------------------


@pytest.mark.usefixtures("installed")
async def test_rerun_of_sentinels_check_queues_a_run(
    hook: Hook, world: GitHubWorld, settings: object
) -> None:
    from app.config import Settings

    assert isinstance(settings, Settings)
    await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    # Without SENTINEL_GITHUB_APP_ID, Sentinel's check is recognised by the App's slug.
    payload = world.check_run(head_sha=HEAD_1)
    payload["check_run"]["app"]["slug"] = settings.app_slug
    row = await hook.deliver("check_run", payload)
    assert row["outcome"] == "handled", row
    _, rerun = await _runs(hook)
    assert (rerun["kind"], rerun["trigger"]) == ("manual", "check_run.rerequested")


@pytest.mark.usefixtures("installed")
async def test_rerun_of_another_apps_check_is_ignored(hook: Hook, world: GitHubWorld) -> None:
    payload = world.check_run(head_sha=HEAD_1)
    payload["check_run"]["app"]["slug"] = "some-other-ci"
    row = await hook.deliver("check_run", payload)
    assert (row["outcome"], row["outcome_reason"]) == ("ignored", "not Sentinel's check run")


# --- everything else ----------------------------------------------------------------------


async def test_ping_and_app_authorization_are_handled(hook: Hook) -> None:
    from tests.support.github_payloads import load

    ping = await hook.deliver("ping", load("ping", "payload"))
    assert ping["outcome"] == "handled"
    assert ping["outcome_reason"].startswith("ping from hook")
    revoked = await hook.deliver(
        "github_app_authorization", load("github_app_authorization", "revoked")
    )
    assert revoked["outcome"] == "handled"


async def test_unknown_events_are_acknowledged_and_ignored(hook: Hook) -> None:
    row = await hook.deliver("star", {"action": "created", "starred_at": "2026-11-20T10:00:00Z"})
    assert (row["outcome"], row["outcome_reason"]) == (
        "ignored",
        "star.created is not an event Sentinel acts on",
    )


async def test_pull_request_for_an_unknown_installation_waits_and_is_not_lost(
    hook: Hook, world: GitHubWorld
) -> None:
    early = await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    assert early["processed_at"] is None
    assert early["attempts"] == 1
    await hook.deliver("installation", world.installation())
    # Due again (as the backoff would make it): the sweeper processes it.
    async with hook.owner_engine.begin() as connection:
        from sqlalchemy import text

        await connection.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now()"))
    await sweep(hook.resources, grace=timedelta(0))
    row = await hook.delivery(early["delivery_id"])
    assert row["outcome"] == "handled"
    assert len(await _runs(hook)) == 1


async def test_a_delivery_that_keeps_failing_is_parked_until_redelivered(
    hook: Hook, world: GitHubWorld
) -> None:
    from app.github.processing import MAX_ATTEMPTS

    row = await hook.deliver("pull_request", world.pull_request("opened", head_sha=HEAD_1))
    for _ in range(MAX_ATTEMPTS - 1):
        await process_delivery(hook.resources, row["id"])
    parked = await hook.delivery(row["delivery_id"])
    assert parked["attempts"] == MAX_ATTEMPTS
    assert parked["outcome"] == "failed"
    assert parked["processed_at"] is None
    # The sweeper leaves a parked delivery alone.
    await sweep(hook.resources, grace=timedelta(0))
    assert (await hook.delivery(row["delivery_id"]))["attempts"] == MAX_ATTEMPTS
    await hook.deliver("installation", world.installation())
    redelivered = await hook.deliver(
        "pull_request", world.pull_request("opened", head_sha=HEAD_1), guid=row["delivery_id"]
    )
    assert redelivered["outcome"] == "handled"
