"""The summary comment's id is kept on the pull request: the next review updates it with one
call instead of listing the pull request's comments; a summary someone deleted is posted
again."""

from __future__ import annotations

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
