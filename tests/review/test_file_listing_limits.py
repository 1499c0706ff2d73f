"""GitHub lists a bounded number of files (compare: 300, the files API: 3,000). A review past
either bound never drops a file silently: it reads the whole pull request instead of a
truncated comparison, and names what GitHub did not list at all."""

from __future__ import annotations

from sandbox.github import pull_request_event
from tests.review.conftest import NAME, NUMBER, OWNER, World


def _many_files(count: int) -> list[dict[str, str]]:
    return [
        {"filename": f"gen/module_{i:04}.py", "status": "added", "content": f"VALUE = {i}\n"}
        for i in range(count)
    ]


async def _push(world: World, sha: str, files: list[dict[str, str]]) -> None:
    world.github.add_commit(OWNER, NAME, sha, world.head_sha, files, "Generate modules")
    world.github.update_pull_request(OWNER, NAME, NUMBER, head_sha=sha)
    world.head_sha = sha
    await world.deliver(
        "pull_request",
        pull_request_event(world.github, OWNER, NAME, NUMBER, "synchronize", before=sha),
    )
    await world.review_pending()


async def test_a_push_past_compares_300_files_reviews_the_whole_pull_request(
    world: World,
) -> None:
    await world.open_pull_request()
    await world.review_pending()

    await _push(world, "d00d" + "2" * 36, _many_files(301))

    _, second = await world.runs()
    assert second["status"] == "completed", second["status_reason"]
    # Compare would have listed only 300 of the 301 new files: the run read them all instead.
    assert second["metrics"]["mode"] == "full review"
    accounted = second["metrics"]["files_reviewed"] + len(second["metrics"]["not_reviewed"])
    assert accounted == 2 + 301
    assert not [p for p, why in second["metrics"]["not_reviewed"] if "GitHub lists" in why]


async def test_files_past_the_files_apis_3000_are_named_as_not_reviewed(world: World) -> None:
    await world.open_pull_request()
    await world.review_pending()

    await _push(world, "d00d" + "3" * 36, _many_files(3001))

    _, second = await world.runs()
    assert second["status"] == "completed", second["status_reason"]
    unlisted = [item for item in second["metrics"]["not_reviewed"] if "GitHub lists" in item[1]]
    # 3,003 files changed; GitHub lists 3,000 of them, and the other 3 are named, not lost.
    assert unlisted == [["3 more file(s)", "GitHub lists at most 3,000 files of a pull request"]]
    accounted = second["metrics"]["files_reviewed"] + len(second["metrics"]["not_reviewed"])
    assert accounted == 3000 + 1
