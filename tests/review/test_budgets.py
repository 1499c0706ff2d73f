"""The run's token limits hold in the whole job, against the simulators over real HTTP: the
policy's per-run limit and the workspace's monthly budget stop a review before any call they
cannot pay for, and a provider that finds a chunk too long gets it in parts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.audit import OPERATOR_CLI
from app.db import tenant_session
from app.main import create_app
from app.models import Policy
from app.models.identity import Role
from app.tokens.service import create_api_token
from sandbox.github import pull_request_event
from tests.review.conftest import NAME, NUMBER, OWNER, World
from tests.support.live_server import serve


async def _default_policy(world: World, config: dict[str, Any], version: int = 1) -> None:
    (workspace,) = await world.hook.rows("SELECT id FROM workspaces")
    async with tenant_session(world.resources.sessionmaker, workspace["id"]) as session:
        session.add(
            Policy(workspace_id=workspace["id"], name="default", version=version, config=config)
        )


async def _reviewed(world: World) -> dict[str, Any]:
    await world.open_pull_request()
    (run,) = await world.runs()
    assert await world.review(run["id"]) == "completed"
    (run,) = await world.runs()
    assert run["status"] == "completed", run["status_reason"]
    return run


async def test_a_used_up_monthly_budget_calls_no_model_and_says_why(world: World) -> None:
    await _default_policy(world, {"monthly_input_tokens": 10_000_000})
    first = await _reviewed(world)
    spent = first["metrics"]["input_tokens"]
    assert len(world.models.calls) == 1
    assert spent > 0
    # A new policy version leaves less than one prompt of this month's budget.
    budget = spent + 500
    await _default_policy(world, {"monthly_input_tokens": budget}, version=2)
    world.models.reset()
    await world.comment("@sentinel full review")
    assert await world.review_pending() == ["completed"]
    _, run = await world.runs()
    assert run["status"] == "completed", run["status_reason"]
    assert world.models.calls == []
    reasons = dict(run["metrics"]["not_reviewed"])
    assert set(reasons) == {"calc.py", "settings.py"}
    assert reasons["calc.py"] == (
        f"not reviewed: over the workspace's monthly budget of {budget:,} model input tokens "
        "(500 left this month; raise `monthly_input_tokens` in the policy or wait for next month)"
    )
    (summary,) = world.summaries()
    assert f"monthly budget of {budget:,} model input tokens" in summary.body


async def test_the_monthly_budget_lets_through_what_it_has_left(world: World) -> None:
    await _default_policy(world, {"monthly_input_tokens": 10_000_000})
    run = await _reviewed(world)
    assert len(world.models.calls) == 1
    assert run["metrics"]["not_reviewed"] == []


async def test_the_per_run_limit_is_enforced(world: World) -> None:
    await _default_policy(world, {"max_input_tokens": 1000})
    run = await _reviewed(world)
    assert world.models.calls == []  # one prompt alone costs more than 1,000 tokens
    assert {reason for _, reason in run["metrics"]["not_reviewed"]} == {
        "not reviewed: over the run's limit of 1,000 input tokens"
    }


async def test_a_chunk_the_provider_finds_too_long_is_reviewed_in_parts(world: World) -> None:
    # Two large files beside the PR's two small ones: the whole chunk and its halves differ by
    # far more than a prompt's random data boundary can (tens of tokens), so the test is exact.
    big = "".join(f"def step_{i}(value):\n    return value * {i} + {i}\n\n\n" for i in range(60))
    head = "d00d" + "3" * 36
    world.github.add_commit(
        OWNER, NAME, head, world.head_sha,
        [{"filename": f"big_{n}.py", "status": "added", "content": big} for n in (1, 2)],
        "Two large modules",
    )  # fmt: skip
    world.github.update_pull_request(OWNER, NAME, NUMBER, head_sha=head)
    world.head_sha = head
    probe = await _reviewed(world)
    assert probe["metrics"]["not_reviewed"] == []
    (reserved,) = [call.body["max_tokens"] for call in world.models.calls]
    # The provider's window now holds 300 tokens less than the whole chunk it was sent: the
    # half with both large files is still too long, each large file alone fits.
    world.models.reset()
    world.models.context_window = probe["metrics"]["input_tokens"] + reserved - 300
    await world.comment("@sentinel full review")
    assert await world.review_pending() == ["completed"]
    _, run = await world.runs()
    assert run["status"] == "completed", run["status_reason"]
    assert run["metrics"]["not_reviewed"] == []
    statuses = [r.status for r in world.models.requests]
    assert statuses == [400, 400, 200, 200, 200]  # whole, half, then quarters and a half
    assert run["metrics"]["model_calls"] == len(statuses)
    assert run["metrics"]["files_reviewed"] == 4


async def test_the_estimate_is_on_the_check_run_before_the_call_and_the_cost_after(
    world: World,
) -> None:
    seen_during_the_call: list[str] = []

    def answer(call: Any) -> Any:
        (check_run,) = world.check_runs()
        seen_during_the_call.append(check_run.output["summary"])
        return world.models.reviewer.review(call.prompt)

    world.models.respond_with(answer)
    run = await _reviewed(world)
    (during,) = seen_during_the_call
    estimated = run["metrics"]["estimated_input_tokens"]
    assert during.startswith("Sentinel is reviewing this commit. Planned: 1 model call for 2 files")
    assert f"~{estimated:,} input tokens and at most 4,096 output tokens" in during
    assert "at `claude-sonnet-5-5` list prices" in during
    # The plan's price is never below what the provider counted (its tokens per cl100k are
    # fewer than the planner assumes for Anthropic).
    assert run["metrics"]["input_tokens"] <= estimated
    cost = run["metrics"]["cost_usd"]
    expected = (3 * run["metrics"]["input_tokens"] + 15 * run["metrics"]["output_tokens"]) / 1e6
    assert abs(float(cost) - expected) < 0.0001
    (check_run,) = world.check_runs()
    assert (
        "Estimated before the first model call: 1 model call for 2 files"
        in (check_run.output["summary"])
    )
    (summary,) = world.summaries()
    assert "at list prices" in summary.body


async def test_the_preview_plans_a_run_without_calling_a_model(world: World) -> None:
    await world.open_pull_request()
    (run,) = await world.runs()
    (workspace,) = await world.hook.rows("SELECT id, slug FROM workspaces")
    async with tenant_session(world.resources.sessionmaker, workspace["id"]) as session:
        minted = await create_api_token(
            session, workspace["id"], role=Role.MEMBER, name="preview", actor=OPERATOR_CLI
        )
    headers = {"Authorization": f"Bearer {minted.token}"}
    async with serve(create_app(world.settings)) as base, httpx.AsyncClient(base_url=base) as api:
        url = f"/v1/workspaces/{workspace['slug']}/runs/{run['id']}/preview"
        response = await api.get(url, headers=headers)
        assert response.status_code == 200, response.text
        plan = response.json()
        missing = await api.get(
            f"/v1/workspaces/{workspace['slug']}/runs/{uuid.uuid4()}/preview", headers=headers
        )
    assert missing.status_code == 404
    assert world.models.requests == []
    assert (plan["provider"], plan["model"]) == ("anthropic", "claude-sonnet-5-5")
    assert [sorted(call["files"]) for call in plan["calls"]] == [["calc.py", "settings.py"]]
    assert plan["files_in_diff"] == plan["files_planned"] == 2
    assert plan["max_input_tokens"] == 400_000
    assert plan["output_tokens_at_most"] == 4_096
    assert float(plan["cost_at_most_usd"]) > 0
    # The review itself then sends what the preview planned.
    assert await world.review(run["id"]) == "completed"
    (reviewed,) = await world.runs()
    assert reviewed["metrics"]["estimated_input_tokens"] == plan["estimated_input_tokens"]


LONG_MAIN = (
    "def add(a, b):\n    return a + b\n\n\n"
    "def ratio(total, zero):\n    return total / zero  # BUG: zero is never checked\n\n\n"
    "def main():\n"
    '    """Print a few sums."""\n'
    + "".join(f"    print(add({i}, {i}))\n" for i in range(12))
    + "    return 0\n"
)
CHANGED_MAIN = LONG_MAIN.replace("print(add(6, 6))", "print(add(6, 7))")


async def test_the_prompt_shows_the_whole_enclosing_function_from_the_head(world: World) -> None:
    await _reviewed(world)
    for sha, parent, text in (
        ("d00d" + "1" * 36, world.head_sha, LONG_MAIN),
        ("d00d" + "2" * 36, "d00d" + "1" * 36, CHANGED_MAIN),
    ):
        world.github.add_commit(
            OWNER, NAME, sha, parent,
            [{"filename": "calc.py", "status": "modified", "content": text}], "Longer main",
        )  # fmt: skip
    world.github.update_pull_request(OWNER, NAME, NUMBER, head_sha="d00d" + "2" * 36)
    world.head_sha = "d00d" + "2" * 36
    world.models.reset()
    before = len(world.github.requests)
    await world.deliver(
        "pull_request",
        pull_request_event(world.github, OWNER, NAME, NUMBER, "synchronize", before=world.head_sha),
    )
    assert "completed" in await world.review_pending()
    (call,) = world.models.calls
    diff = call.prompt.split("BEGIN diff]]", 1)[1]
    # git shows 3 lines around the change; the prompt shows main() whole, labelled by it.
    assert "in: def main():" in diff
    assert '"""Print a few sums."""' in diff  # line 10, 6 above the hunk's first line
    assert "print(add(0, 0))" in diff
    assert "return 0" in diff
    assert "def ratio" not in diff.split("FILE: calc.py", 1)[1]  # outside main()
    # The texts came in one GraphQL request for the whole pull request.
    graphql = [
        r
        for r in world.github.requests[before:]
        if r.path == "/graphql" and "object(oid" in r.json["query"]
    ]
    assert len(graphql) == 1
