"""The GitHub calls a review makes: at most 5 + ⌈files/100⌉ + ⌈findings/50⌉. The summary
comment's id is kept on the pull request (the next review updates it with one call), else it
is found among the comments the pull request's one GraphQL read returns; a summary someone
deleted is posted again. The check run appears with the estimate, or with the outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.review.job import Retry
from sandbox.github import pull_request_event
from tests.review.conftest import NAME, NUMBER, OWNER, World

LISTING = f"/repos/{OWNER}/{NAME}/issues/{NUMBER}/comments"


async def _push(world: World, sha: str, text: str) -> None:
    world.github.add_commit(
        OWNER, NAME, sha, world.head_sha,
        [{"filename": "notes.py", "status": "added", "content": text}], "More notes",
    )  # fmt: skip
    world.github.update_pull_request(OWNER, NAME, NUMBER, head_sha=sha)
    world.head_sha = sha
    await world.deliver(
        "pull_request",
        pull_request_event(world.github, OWNER, NAME, NUMBER, "synchronize", before=sha),
    )
    assert await world.review_pending() == ["completed"]


async def test_the_next_review_updates_the_summary_by_its_id(world: World) -> None:
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]
    (summary,) = world.summaries()
    rows = await world.hook.rows("SELECT summary_comment_id FROM pull_requests")
    assert rows == [{"summary_comment_id": summary.id}]

    before = len(world.github.requests)
    await _push(world, "d00d" + "1" * 36, "def half(x):\n    return x / 0\n")
    calls = [(r.method, r.path) for r in world.github.requests[before:]]
    assert ("GET", LISTING) not in calls
    assert ("PATCH", f"/repos/{OWNER}/{NAME}/issues/comments/{summary.id}") in calls
    (updated,) = world.summaries()
    assert updated.id == summary.id
    assert "d00d11111111" in updated.body


async def test_a_deleted_summary_is_posted_again(world: World) -> None:
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]
    (summary,) = world.summaries()
    del world.github.issue_comments[summary.id]  # someone deleted it

    await _push(world, "d00d" + "2" * 36, "def twice(x):\n    return x * 2\n")
    (again,) = world.summaries()
    assert again.id != summary.id
    rows = await world.hook.rows("SELECT summary_comment_id FROM pull_requests")
    assert rows == [{"summary_comment_id": again.id}]


def _calls(world: World, since: int) -> list[tuple[str, str]]:
    """GitHub calls a review made, the installation token's minting aside."""
    return [
        (r.method, r.path)
        for r in world.github.requests[since:]
        if not r.path.endswith("/access_tokens")
    ]


async def _reviewed_with_the_summary_id_lost(world: World) -> Any:
    """A reviewed PR whose summary id is not kept, as after a worker that posted the summary
    and died before keeping it; the summary."""
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]
    (summary,) = world.summaries()
    await world.hook.execute("UPDATE pull_requests SET summary_comment_id = NULL")
    return summary


async def _first_attempt_retries(world: World) -> dict[str, Any]:
    """A run whose first attempt showed its check run (the estimate), then met a model
    outage and is waiting to retry."""
    world.models.fail_next(529)
    await world.open_pull_request()
    (run,) = await world.runs()
    with pytest.raises(Retry):
        await world.review(run["id"])
    (check,) = world.check_runs(run["head_sha"])
    assert check.status == "in_progress"
    return run


async def test_a_review_makes_no_more_github_calls_than_its_goal(world: World) -> None:
    # Goal: 5 + ⌈files / 100⌉ + ⌈findings / 50⌉, here 5 + 1 + 1 for the 2-file PR.
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]
    first = _calls(world, 0)
    assert world.review_comments(), "the review posted inline comments"
    assert first == [
        ("POST", "/graphql"),  # the PR, commits, .sentinel.yml and its last comments
        ("GET", f"/repos/{OWNER}/{NAME}/pulls/{NUMBER}/files"),
        ("POST", "/graphql"),  # the changed files' new texts
        ("POST", f"/repos/{OWNER}/{NAME}/check-runs"),  # in progress, with the estimate
        ("POST", f"/repos/{OWNER}/{NAME}/pulls/{NUMBER}/reviews"),
        ("PATCH", f"/repos/{OWNER}/{NAME}/check-runs/{world.check_runs()[0].id}"),
        ("POST", LISTING),
    ]

    before = len(world.github.requests)
    await _push(world, "d00d" + "3" * 36, "def third(x):\n    return x / 0\n")
    assert len(_calls(world, before)) <= 7


async def test_a_summary_whose_id_was_lost_is_found_in_the_pull_requests_read(
    world: World,
) -> None:
    summary = await _reviewed_with_the_summary_id_lost(world)

    before = len(world.github.requests)
    await _push(world, "d00d" + "4" * 36, "def fourth(x):\n    return x / 0\n")
    (updated,) = world.summaries()
    assert updated.id == summary.id
    assert ("GET", LISTING) not in _calls(world, before)


async def test_an_older_summary_beyond_the_last_hundred_comments_is_still_found(
    world: World,
) -> None:
    summary = await _reviewed_with_the_summary_id_lost(world)
    for index in range(120):  # a busy discussion after it
        world.github.add_issue_comment(OWNER, NAME, body=f"comment {index}", issue_number=NUMBER)

    before = len(world.github.requests)
    await _push(world, "d00d" + "5" * 36, "def fifth(x):\n    return x / 0\n")
    (updated,) = world.summaries()
    assert updated.id == summary.id
    assert ("GET", LISTING) in _calls(world, before)


async def test_a_closed_pull_request_gets_one_completed_check_run_in_one_call(
    world: World,
) -> None:
    await world.open_pull_request()
    world.github.update_pull_request(OWNER, NAME, NUMBER, state="closed")
    assert await world.review_pending() == ["cancelled"]
    checks = [c for c in _calls(world, 0) if "check-runs" in c[1]]
    assert checks == [("POST", f"/repos/{OWNER}/{NAME}/check-runs")]
    (check,) = world.check_runs()
    assert (check.status, check.conclusion) == ("completed", "neutral")


async def test_a_run_stopped_after_its_estimate_closes_its_check_run(world: World) -> None:
    await world.open_pull_request()
    (older,) = await world.runs()
    # The check run is created with the estimate, just before the model calls.
    stalled = world.github.hold_next("POST", f"/repos/{OWNER}/{NAME}/check-runs")
    review = asyncio.create_task(world.review(older["id"]))
    await asyncio.wait_for(stalled.arrived.wait(), 30)
    await _push(world, "d00d" + "6" * 36, "def sixth(x):\n    return x / 0\n")
    stalled.release()
    assert await asyncio.wait_for(review, 60) == "stopped"

    (check,) = world.check_runs(older["head_sha"])
    assert (check.status, check.conclusion) == ("completed", "cancelled")
    assert check.output["title"] == "Sentinel stopped reviewing this commit"


async def test_a_run_stopped_on_a_later_attempt_closes_the_check_run_an_earlier_one_showed(
    world: World,
) -> None:
    run = await _first_attempt_retries(world)

    # The second attempt has read the pull request when a push supersedes the run.
    stalled = world.github.hold_next("GET", f"/repos/{OWNER}/{NAME}/pulls/{NUMBER}/files")
    again = asyncio.create_task(world.review(run["id"], attempt=2))
    await asyncio.wait_for(stalled.arrived.wait(), 30)
    await _push(world, "d00d" + "7" * 36, "def seventh(x):\n    return x / 0\n")
    stalled.release()
    assert await asyncio.wait_for(again, 60) == "stopped"
    (check,) = world.check_runs(run["head_sha"])
    assert (check.status, check.conclusion) == ("completed", "cancelled")


async def test_a_run_superseded_while_it_waits_to_retry_closes_its_check_run(
    world: World,
) -> None:
    run = await _first_attempt_retries(world)

    await _push(world, "d00d" + "8" * 36, "def eighth(x):\n    return x / 0\n")
    # The retry comes up, finds the run superseded, and closes what the first attempt showed.
    assert await world.review(run["id"], attempt=2) == "superseded"
    (check,) = world.check_runs(run["head_sha"])
    assert (check.status, check.conclusion) == ("completed", "cancelled")
    (ended, _) = await world.runs()
    assert ended["status"] == "superseded"
    assert check.output["summary"] == ended["status_reason"]  # the run's own words
