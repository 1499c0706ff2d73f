"""Usage over HTTP: sums exact to the record for every grouping, `end` exclusive, the records
feed with no gap and no duplicate while records are written, CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx

from app.db import SystemContext, system_session, tenant_session
from app.models import UsageRecord
from app.models.identity import Role
from tests.admin.conftest import World
from tests.admin.helpers import add_repository, add_run
from tests.support.factories import WorkspaceGraph

USAGE = "/v1/workspaces/acme/usage"
TYPES = ("review", "llm_input_tokens", "llm_output_tokens")


async def _seed_usage(world: World) -> list[UsageRecord]:
    """Records across two repositories, models, types and days, on the edges of the range
    [2026-10-01, 2026-11-01) included; plus records of globex, which must never count."""
    other_repo = await add_repository(world.sessionmaker, world.acme, "acme/other")
    rng = random.Random(7)
    moments = [
        datetime(2026, 9, 30, 23, 59, 59, 999_999, tzinfo=UTC),  # before start
        datetime(2026, 10, 1, tzinfo=UTC),  # the first instant included
        datetime(2026, 10, 1, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 10, 2, tzinfo=UTC),
        datetime(2026, 10, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # the last instant included
        datetime(2026, 11, 1, tzinfo=UTC),  # end: excluded
    ] + [datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(44_640))
         for _ in range(40)]  # fmt: skip
    records: list[UsageRecord] = []
    async with system_session(world.sessionmaker, SystemContext.ROLLUP) as session:
        for graph in (world.acme, world.globex):
            for index, moment in enumerate(moments):
                repository = (
                    other_repo if graph is world.acme and index % 3 == 0 else graph.repository_id
                )
                run_id = await add_run(session, graph, repository_id=repository)
                model = rng.choice(["claude-sonnet-5-5", "gpt-4.1"])
                for usage_type in TYPES:
                    record = UsageRecord(
                        workspace_id=graph.workspace_id,
                        run_id=run_id,
                        repository_id=repository,
                        type=usage_type,
                        quantity=1 if usage_type == "review" else rng.randrange(10**9, 10**12),
                        model=None if usage_type == "review" else model,
                        created_at=moment,
                    )
                    session.add(record)
                    if graph is world.acme:
                        records.append(record)
        await session.flush()
    return records


def _expected(records: list[UsageRecord], group_by: str) -> dict[str | None, dict[str, int]]:
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    sums: dict[str | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TYPES, 0))
    for record in records:
        if not start <= record.created_at < end:
            continue
        key = {
            "day": record.created_at.astimezone(UTC).date().isoformat(),
            "repository": str(record.repository_id),
            "type": record.type,
            "model": record.model,
        }[group_by]
        sums[key][record.type] += record.quantity
    return dict(sums)


async def test_sums_equal_the_sum_of_the_records(world: World, client: httpx.AsyncClient) -> None:
    records = await _seed_usage(world)
    for group_by in ("day", "repository", "type", "model"):
        response = await client.get(
            USAGE,
            params={"start": "2026-10-01", "end": "2026-11-01", "group_by": group_by},
            headers=world.headers(Role.BILLING),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        got = {group["key"]: group["quantities"] for group in body["groups"]}
        expected = _expected(records, group_by)
        assert got == expected, group_by
        totals = dict.fromkeys(TYPES, 0)
        for quantities in expected.values():
            for usage_type, quantity in quantities.items():
                totals[usage_type] += quantity
        assert body["totals"] == totals
        assert body["totals"]["review"] == 44  # the 46 moments but the two outside
        if group_by == "repository":
            labels = {group["label"] for group in body["groups"]}
            assert labels == {"acme/app", "acme/other"}


async def test_usage_range_is_validated(world: World, client: httpx.AsyncClient) -> None:
    headers = world.headers(Role.OWNER)
    for params, field in [
        ({"start": "2026-11-01", "end": "2026-11-01"}, "end"),
        ({"start": "2026-11-02", "end": "2026-11-01"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-13-01"}, "start"),
        ({"group_by": "week"}, "group_by"),
        ({"start": "9999-12-01"}, "start"),
    ]:
        response = await client.get(USAGE, params=params, headers=headers)
        assert response.status_code == 422, (params, response.text)
        assert field in response.json()["error"]["message"].split(":")[0], response.text


# A record shows once every transaction that began before it has ended, in the whole
# Postgres cluster (other test sessions included): readers poll until they have what they
# expect, and a real gap still fails, when this runs out.
SETTLE_SECONDS = 20


async def _all_pages(
    client: httpx.AsyncClient, headers: dict[str, str], limit: int, expected: int
) -> list[int]:
    ids: list[int] = []
    after = None
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if after is not None:
            params["after"] = after
        response = await client.get(f"{USAGE}/records", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [record["id"] for record in page["records"]]
        after = page["next"]
        if not page["has_more"]:
            if len(ids) >= expected or asyncio.get_running_loop().time() > deadline:
                return ids
            await asyncio.sleep(0.05)


async def test_records_feed_pages_every_record_once(
    world: World, client: httpx.AsyncClient
) -> None:
    records = await _seed_usage(world)
    ids = await _all_pages(client, world.headers(Role.BILLING), limit=7, expected=139)
    assert sorted(ids) == [1, *sorted(record.id for record in records)]  # 1: the graph's own
    assert len(ids) == len(set(ids))


async def _write_records(
    world: World,
    graph: WorkspaceGraph,
    *,
    hold: asyncio.Event | None = None,
    inserted: asyncio.Event | None = None,
) -> list[int]:
    """One transaction writing a run's records; with `hold`, it stays open (after setting
    `inserted`) until `hold` is set."""
    async with tenant_session(world.sessionmaker, graph.workspace_id) as session:
        run_id = await add_run(session, graph)
        rows = [
            UsageRecord(workspace_id=graph.workspace_id, run_id=run_id,
                        repository_id=graph.repository_id, type=usage_type, quantity=5)
            for usage_type in TYPES
        ]  # fmt: skip
        session.add_all(rows)
        await session.flush()
        if inserted is not None:
            inserted.set()
        if hold is not None:
            await hold.wait()
        else:
            await asyncio.sleep(random.uniform(0, 0.03))
        return [row.id for row in rows]


async def test_feed_under_concurrent_writes_has_no_gap_and_no_duplicate(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = world.headers(Role.BILLING)
    seen: list[int] = []
    after: str | None = None

    async def read_page() -> bool:
        nonlocal after
        params: dict[str, str | int] = {"limit": 3}
        if after is not None:
            params["after"] = after
        response = await client.get(f"{USAGE}/records", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(record["id"] for record in page["records"])
        after = page["next"]
        return bool(page["has_more"])

    # The case a naive cursor gets wrong: an older transaction commits after a newer one
    # whose rows were already paged past.
    hold, inserted = asyncio.Event(), asyncio.Event()
    older = asyncio.create_task(_write_records(world, world.acme, hold=hold, inserted=inserted))
    try:
        await asyncio.wait_for(inserted.wait(), timeout=30)
        newer = await _write_records(world, world.acme)
        while await read_page():
            pass
        assert not set(newer) & set(seen), "a row of a younger transaction passed an open one"
    finally:
        hold.set()  # never leave the transaction open, or clean-up waits on its locks
        held = await older
    written = [*held, *newer]

    # Then many writers at once, committing in random order, while the reader pages.
    async def writer() -> list[int]:
        ids: list[int] = []
        for _ in range(8):
            ids += await _write_records(world, world.acme)
        return ids

    writers = [asyncio.create_task(writer()) for _ in range(5)]
    while not all(task.done() for task in writers):
        await read_page()
    for task in writers:
        written += task.result()
    rows = await world.rows(
        "SELECT id FROM usage_records WHERE workspace_id = :ws", ws=world.acme.workspace_id
    )
    in_database = {row["id"] for row in rows}
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while len(seen) < len(in_database) and asyncio.get_running_loop().time() < deadline:
        if not await read_page():
            await asyncio.sleep(0.05)
    assert len(seen) == len(set(seen)), "a record was returned twice"
    assert set(seen) == in_database, "a record was skipped"
    assert set(written) <= in_database
    assert len(in_database) == 1 + 3 * (2 + 5 * 8)


async def test_records_as_csv(world: World, client: httpx.AsyncClient) -> None:
    await _seed_usage(world)
    headers = {**world.headers(Role.ADMIN), "Accept": "text/csv"}
    response = await client.get(f"{USAGE}/records", params={"limit": 10}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 10
    assert list(rows[0]) == [
        "id", "run_id", "repository_id", "type", "quantity", "model", "created_at", "metadata",
    ]  # fmt: skip
    assert response.headers["X-Has-More"] == "true"
    json_page = (
        await client.get(
            f"{USAGE}/records", params={"limit": 10}, headers=world.headers(Role.ADMIN)
        )
    ).json()
    assert response.headers["X-Next-Cursor"] == json_page["next"]
    assert [int(row["id"]) for row in rows] == [record["id"] for record in json_page["records"]]
    assert [int(row["quantity"]) for row in rows] == [r["quantity"] for r in json_page["records"]]


async def test_bad_cursor_is_422(world: World, client: httpx.AsyncClient) -> None:
    for cursor in (
        "garbage",
        "",
        "MXwyfDM",
        "YXxi",
        "OTk5OTk5OTk5OTk5OTk5OTk5OTl8MQ",
        str(uuid.uuid4()),
    ):
        response = await client.get(
            f"{USAGE}/records", params={"after": cursor}, headers=world.headers(Role.OWNER)
        )
        assert response.status_code == 422, (cursor, response.text)
        assert response.json()["error"]["message"].startswith("after:")
