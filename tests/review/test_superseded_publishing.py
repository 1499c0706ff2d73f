"""One summary comment per PR, whatever order two runs of it publish in: an older head's run
that is superseded while it publishes never posts a second summary, nor overwrites the newer."""

from __future__ import annotations

import asyncio

from sandbox.github import pull_request_event
from tests.review.conftest import NAME, NUMBER, OWNER, World

COMMENTS = f"/repos/{OWNER}/{NAME}/issues/{NUMBER}/comments"


async def _push_new_head(world: World) -> str:
    newer = "d00d" + "2" * 36
    world.github.add_commit(
        OWNER, NAME, newer, world.head_sha,
        [{"filename": "notes.py", "status": "added", "content": "def half(x):\n    return 1\n"}],
        "Add notes",
    )  # fmt: skip
    world.github.update_pull_request(OWNER, NAME, NUMBER, head_sha=newer)
    await world.deliver(
        "pull_request",
        pull_request_event(world.github, OWNER, NAME, NUMBER, "synchronize", before=newer),
    )
    return newer


async def test_a_run_superseded_while_it_posts_its_summary_never_posts_a_second(
    world: World,
) -> None:
    await world.open_pull_request()
    (older,) = await world.runs()
    # The older run has found no summary and is creating one when GitHub stalls.
    stalled = world.github.hold_next("POST", COMMENTS)
    older_review = asyncio.create_task(world.review(older["id"]))
    await asyncio.wait_for(stalled.arrived.wait(), 30)

    newer_head = await _push_new_head(world)
    (_, newer) = await world.runs()
    newer_review = asyncio.create_task(world.review(newer["id"]))
    await asyncio.sleep(0.5)  # the newer run reaches its summary while the older is stalled
    stalled.release()
    outcomes = await asyncio.wait_for(asyncio.gather(older_review, newer_review), 60)

    assert outcomes[1] == "completed"
    (summary,) = world.summaries()
    assert newer_head[:7] in summary.body  # the newest review's summary, updated in place
    first, second = await world.runs()
    assert first["status"] == "superseded"
    assert second["status"] == "completed", second["status_reason"]
