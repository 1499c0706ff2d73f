"""GitHub's secondary rate limit in both its forms: with `retry-after`, and bare (403 or 429,
the message alone). Either way the run waits at least a minute, longer each time, and is
never failed for it."""

from __future__ import annotations

import pytest

from app.review.job import Retry
from tests.review.conftest import NAME, NUMBER, OWNER, World

REVIEWS = f"/repos/{OWNER}/{NAME}/pulls/{NUMBER}/reviews"


@pytest.mark.parametrize("status", [403, 429])
async def test_a_bare_secondary_rate_limit_defers_a_minute_then_longer(
    world: World, status: int
) -> None:
    world.github.fail_next_secondary_rate_limit(REVIEWS, count=2, retry_after=None, status=status)
    await world.open_pull_request()
    (run,) = await world.runs()

    with pytest.raises(Retry) as first:
        await world.review(run["id"], attempt=1)
    assert first.value.delay.total_seconds() >= 60
    (run,) = await world.runs()
    assert run["status"] == "queued"
    assert run["status_reason"].startswith(f"retrying: GitHub's secondary rate limit ({status})")
    assert "\n" not in run["status_reason"]

    with pytest.raises(Retry) as second:
        await world.review(run["id"], attempt=2)
    assert second.value.delay.total_seconds() >= 120  # doubled, not back to a minute

    assert await world.review(run["id"], attempt=3) == "completed"
    assert len(world.reviews()) == 1


async def test_a_plain_permission_403_still_fails_with_what_to_do(world: World) -> None:
    world.github.fail_next(REVIEWS, 403, body={"message": "Resource not accessible by integration"})
    await world.open_pull_request()
    (run,) = await world.runs()
    assert await world.review(run["id"]) == "failed"
    (run,) = await world.runs()
    assert "GitHub refused access (403)" in run["status_reason"]
    assert "\n" not in run["status_reason"]


async def test_a_failed_review_says_why_in_one_line(world: World) -> None:
    """GitHub's 422 comes with blank lines and one line per problem; the run's reason is one
    line all the same, and keeps what GitHub said."""
    message = (
        "Invalid request.\n\nFor 'properties/body', nil is not a string.\n"
        'For \'properties/event\', "MAYBE" is not a member of ["COMMENT"].'
    )
    world.github.fail_next(REVIEWS, 422, count=3, body={"message": message})
    world.github.fail_next(f"/repos/{OWNER}/{NAME}/issues/{NUMBER}/comments", 422, count=3,
                           body={"message": message})  # fmt: skip
    await world.open_pull_request()
    (run,) = await world.runs()
    await world.review(run["id"])
    (run,) = await world.runs()
    assert run["status"] == "failed", run
    assert "\n" not in run["status_reason"]
    assert "nil is not a string" in run["status_reason"]
