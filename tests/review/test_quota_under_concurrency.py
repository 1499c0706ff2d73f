"""The monthly quota holds when runs of one workspace start at the same moment: with one
review left, three pull requests reviewed side by side give one review and two skips."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sandbox.github import pull_request_event
from tests.review.conftest import HEAD_TEXT, NAME, OWNER, World, free_plan_reviews

NUMBERS = (7, 8, 9)


@pytest.fixture
async def one_review_left(world: World) -> AsyncIterator[None]:
    async with free_plan_reviews(world, 1):
        yield


async def _open_more_pull_requests(world: World) -> None:
    repository = world.github.repository(OWNER, NAME)
    assert repository is not None
    base_sha = world.github.git_for(repository).branches["main"]
    for number in NUMBERS[1:]:
        head = f"{number:02d}" + "e" * 38
        world.github.add_pull_request(
            OWNER, NAME, number, head, base_sha, f"Change {number}", None, "dev-dana",
            files=[{"filename": "calc.py", "status": "modified", "content": HEAD_TEXT}],
            head_ref=f"feature-{number}",
        )  # fmt: skip
        await world.deliver(
            "pull_request", pull_request_event(world.github, OWNER, NAME, number, "opened")
        )


@pytest.mark.usefixtures("one_review_left")
async def test_runs_started_together_do_not_overspend_the_last_review(world: World) -> None:
    await world.open_pull_request()
    await _open_more_pull_requests(world)
    runs = await world.runs()
    assert len(runs) == len(NUMBERS)
    world.models.delay_seconds = 1.0  # every review is under way before any finishes

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(world.review(run["id"]) for run in runs)), 60
    )

    assert sorted(outcomes) == ["completed", "skipped", "skipped"], outcomes
    assert (await world.usage())["review"] == 1
    skipped = [run for run in await world.runs() if run["status"] == "skipped"]
    assert all("1 review" in run["status_reason"] for run in skipped), skipped
