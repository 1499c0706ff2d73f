"""The workspace (plan, subscription, usage against limits) and plan changes; runs with filters
and keyset pagination; run detail; daily metrics; the audit trail's pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from app.db import SystemContext, system_session
from app.models import Annotation, Finding, UsageRecord
from app.models.identity import Role
from tests.admin.conftest import World
from tests.admin.helpers import add_repository, add_run
from tests.conftest import BILLING_OPERATOR_TOKEN
from tests.support.factories import github_provider_id

WS = "/v1/workspaces/acme"


async def test_workspace_shows_plan_and_usage_this_period(
    world: World, client: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    async with system_session(world.sessionmaker, SystemContext.ROLLUP) as session:
        for moment in (
            now,
            now,
            now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            - timedelta(microseconds=1),
        ):
            run_id = await add_run(session, world.acme)
            session.add(UsageRecord(workspace_id=world.acme.workspace_id, run_id=run_id,
                                    type="review", quantity=1, created_at=moment))  # fmt: skip
    await add_repository(world.sessionmaker, world.acme, "acme/two")
    response = await client.get(WS, headers=world.headers(Role.BILLING))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["slug"] == "acme"
    assert body["plan"]["name"] == "free"
    assert body["plan"]["limits"] == {
        "reviews_per_month": 50, "repositories": 3, "files_per_review": 50,
    }  # fmt: skip
    assert body["subscription"]["status"] == "active"
    # The graph's own record and two of these three fall in this calendar month.
    assert body["usage"]["reviews"] == {"used": 3, "limit": 50, "remaining": 47}
    assert body["usage"]["repositories"] == {"used": 2, "limit": 3, "remaining": 1}
    assert body["period"]["start"].startswith(now.strftime("%Y-%m-01T00:00:00"))
    # The same workspace by id.
    by_id = await client.get(f"/v1/workspaces/{world.acme.workspace_id}",
                             headers=world.headers(Role.MEMBER))  # fmt: skip
    assert by_id.json()["id"] == body["id"]


BILLING = {"Authorization": f"Bearer {BILLING_OPERATOR_TOKEN}"}


async def test_billing_changes_the_plan_with_its_operator_token_and_it_is_audited(
    world: World, client: httpx.AsyncClient
) -> None:
    response = await client.put(f"{WS}/plan", json={"plan": "enterprise"}, headers=BILLING)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plan"]["name"] == "enterprise"
    assert body["usage"]["reviews"]["limit"] is None
    assert body["usage"]["reviews"]["remaining"] is None
    subscriptions = await world.rows(
        "SELECT status, ends_at FROM subscriptions WHERE workspace_id = :ws ORDER BY created_at",
        ws=world.acme.workspace_id,
    )
    assert [row["status"] for row in subscriptions] == ["ended", "active"]
    assert subscriptions[0]["ends_at"] is not None
    # The same plan again (by id this time): nothing changes, nothing is recorded.
    by_id = f"/v1/workspaces/{world.acme.workspace_id}/plan"
    assert (await client.put(by_id, json={"plan": "enterprise"}, headers=BILLING)).is_success
    events = await world.rows(
        "SELECT actor_type, actor_id, metadata FROM audit_events "
        "WHERE action = 'subscription.plan_changed'"
    )
    change = {"before": {"plan": "free"}, "after": {"plan": "enterprise"}}
    assert events == [{"actor_type": "system", "actor_id": "billing", "metadata": change}]
    response = await client.put(f"{WS}/plan", json={"plan": "platinum"}, headers=BILLING)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("plan:")
    assert "enterprise, free, team" in response.json()["error"]["message"]
    missing = await client.put("/v1/workspaces/nope/plan", json={"plan": "team"}, headers=BILLING)
    assert missing.status_code == 404


async def test_no_workspace_token_changes_the_plan_not_even_an_owners(
    world: World, client: httpx.AsyncClient
) -> None:
    for role in Role:
        response = await client.put(
            f"{WS}/plan", json={"plan": "enterprise"}, headers=world.headers(role)
        )
        assert response.status_code == 403, (role, response.text)
        assert "billing" in response.json()["error"]["message"]
    for headers in ({}, {"Authorization": "Bearer " + BILLING_OPERATOR_TOKEN[:-1] + "x"}):
        response = await client.put(f"{WS}/plan", json={"plan": "enterprise"}, headers=headers)
        assert response.status_code == 401
    subscriptions = await world.rows(
        "SELECT p.name FROM subscriptions s JOIN plans p ON p.id = s.plan_id "
        "WHERE s.workspace_id = :ws",
        ws=world.acme.workspace_id,
    )
    assert subscriptions == [{"name": "free"}]
    assert not await world.rows(
        "SELECT 1 FROM audit_events WHERE action = 'subscription.plan_changed'"
    )


async def test_runs_filtered_and_paged_newest_first(
    world: World, client: httpx.AsyncClient
) -> None:
    other = await add_repository(world.sessionmaker, world.acme, "acme/other")
    start = datetime(2026, 6, 1, tzinfo=UTC)
    async with system_session(world.sessionmaker, SystemContext.ROLLUP) as session:
        created = []
        for index in range(25):
            created.append(
                await add_run(
                    session, world.acme,
                    status="failed" if index % 5 == 0 else "completed",
                    # Pairs share a created_at, so the id breaks ties in the keyset.
                    created_at=start + timedelta(hours=index // 2),
                    repository_id=other if index % 2 else None,
                )
            )  # fmt: skip
    headers = world.headers(Role.MEMBER)
    seen: list[str] = []
    after = None
    while True:
        params: dict[str, str | int] = {"limit": 4, "start": "2026-06-01", "end": "2026-07-01"}
        if after:
            params["after"] = after
        page = (await client.get(f"{WS}/runs", params=params, headers=headers)).json()
        seen += [run["id"] for run in page["runs"]]
        after = page["next"]
        if after is None:
            break
    assert sorted(seen) == sorted(str(run_id) for run_id in created)
    assert len(seen) == len(set(seen))
    everything = await client.get(f"{WS}/runs", params={"limit": 200}, headers=headers)
    times = [run["created_at"] for run in everything.json()["runs"]]
    assert times == sorted(times, reverse=True)
    failed = (await client.get(f"{WS}/runs", params={"status": "failed"}, headers=headers)).json()
    assert len(failed["runs"]) == 5
    in_other = (
        await client.get(f"{WS}/runs", params={"repository_id": str(other)}, headers=headers)
    ).json()["runs"]
    assert len(in_other) == 12
    assert {run["repository"] for run in in_other} == {"acme/other"}
    for params in ({"status": "exploded"}, {"repository_id": "nope"}, {"limit": 0},
                   {"limit": 201}, {"after": "not-a-cursor"}, {"start": "June"}):  # fmt: skip
        response = await client.get(f"{WS}/runs", params=params, headers=headers)
        assert response.status_code == 422, (params, response.text)


async def test_run_detail_has_findings_and_annotations(
    world: World, client: httpx.AsyncClient
) -> None:
    async with system_session(world.sessionmaker, SystemContext.ROLLUP) as session:
        finding = Finding(
            workspace_id=world.acme.workspace_id, run_id=world.acme.run_id, severity="critical",
            category="security", title="Secret committed", description="An AWS key.",
            file_path="config.py", line_start=3, line_end=3, confidence=0.99,
        )  # fmt: skip
        session.add(finding)
        await session.flush()
        session.add(
            Annotation(workspace_id=world.acme.workspace_id, finding_id=finding.id,
                       provider_id=await github_provider_id(session), external_id="77",
                       type="check_annotation")
        )  # fmt: skip
    response = await client.get(
        f"{WS}/runs/{world.acme.run_id}", headers=world.headers(Role.BILLING)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["repository"] == "acme/app"
    by_path = {f["file_path"]: f for f in body["findings"]}
    assert [a["type"] for a in by_path["config.py"]["annotations"]] == ["check_annotation"]
    assert [a["external_id"] for a in by_path["src/app.py"]["annotations"]] == ["1"]
    missing = await client.get(
        f"{WS}/runs/{world.globex.run_id}", headers=world.headers(Role.OWNER)
    )
    assert missing.status_code == 404


async def test_daily_metrics(world: World, client: httpx.AsyncClient) -> None:
    headers = world.headers(Role.MEMBER)
    response = await client.get(
        f"{WS}/metrics/daily", params={"start": "2026-11-01", "end": "2026-11-02"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["metrics"] == [{
        "date": "2026-11-01", "runs_count": 1, "findings_count": 0, "critical_count": 0,
        "warning_count": 0, "tokens_estimated": 0,
    }]  # fmt: skip
    empty = await client.get(
        f"{WS}/metrics/daily", params={"start": "2026-11-02", "end": "2026-12-01"}, headers=headers
    )
    assert empty.json()["metrics"] == []
    bad = await client.get(
        f"{WS}/metrics/daily", params={"start": "2026-11-02", "end": "2026-11-01"}, headers=headers
    )
    assert bad.status_code == 422


async def test_audit_events_page_newest_first(world: World, client: httpx.AsyncClient) -> None:
    owner = world.headers(Role.OWNER)
    for index in range(7):
        await client.post(f"{WS}/policies", json={"name": f"p{index}", "config": {}}, headers=owner)
    seen: list[int] = []
    after = None
    while True:
        params: dict[str, str | int] = {"limit": 3, "action": "policy.version_created"}
        if after:
            params["after"] = after
        page = (await client.get(f"{WS}/audit-events", params=params, headers=owner)).json()
        seen += [event["id"] for event in page["events"]]
        after = page["next"]
        if after is None:
            break
    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)
    globex = await client.get(
        "/v1/workspaces/globex/audit-events",
        headers={"Authorization": f"Bearer {world.globex_owner}"},
    )
    assert all(event["action"] != "policy.version_created" for event in globex.json()["events"])
