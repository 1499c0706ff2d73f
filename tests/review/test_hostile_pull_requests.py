"""A pull request (and the model) as an attacker would shape them: the review stays bounded in
time, and secrets in the PR's prose never reach the customer's model."""

from __future__ import annotations

from app.resources import Resources
from app.review.job import review_run
from tests.review.conftest import NAME, NUMBER, OWNER, World

GITHUB_TOKEN = "ghp_" + "Zk3Qm9Xr2Lp7Wv5Tn8Bd4Hs6Jf1Gc0Ya2UeR7"


async def test_a_review_past_its_deadline_fails_with_the_reason(world: World) -> None:
    world.models.delay_seconds = 30  # a model (or a parse) that would hold the worker
    short = await Resources.build(world.settings.model_copy(update={"review_deadline_seconds": 1}))
    try:
        await world.open_pull_request()
        (run,) = await world.runs()
        assert await review_run(short, run["id"]) == "failed"
    finally:
        await short.close()
    (run,) = await world.runs()
    assert run["status"] == "failed"
    assert run["status_reason"].startswith("the review took longer than its 1-second deadline")
    assert "\n" not in run["status_reason"]
    (check_run,) = world.check_runs()
    assert check_run.conclusion == "neutral"


async def test_secrets_in_the_title_body_and_commits_are_masked_before_the_model(
    world: World,
) -> None:
    pull = world.github.pull_request(OWNER, NAME, NUMBER)
    assert pull is not None
    pull.title = f"Rotate {GITHUB_TOKEN}"
    pull.body = f'Deploy with\napi_token = "q8Zr2LmX0vT4kP9w"\nand {GITHUB_TOKEN}'
    await world.open_pull_request()
    assert await world.review_pending() == ["completed"]
    prompt = world.models.calls[0].prompt
    assert GITHUB_TOKEN not in prompt
    assert "q8Zr2LmX0vT4kP9w" not in prompt
    assert "ghp_…" in prompt  # masked, so the model still knows a token was pasted
    assert "Deploy with" in prompt
