"""`POST /webhooks/github`: signature first, then shape; recorded before acknowledged."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest

from app.resources import Resources
from app.sweeper import sweep
from tests.github.conftest import SECRET, Hook
from tests.support.github_payloads import GitHubWorld, webhook_headers
from tests.support.queue import queued_job
from tests.support.redis_server import RedisServer


async def _count(hook: Hook, table: str) -> int:
    return int((await hook.rows(f"SELECT count(*) AS n FROM {table}"))[0]["n"])


async def _no_rows(hook: Hook) -> None:
    assert await _count(hook, "webhook_deliveries") == 0
    assert await _count(hook, "runs") == 0


def _body(world: GitHubWorld) -> bytes:
    return json.dumps(world.pull_request("opened")).encode()


async def test_signed_delivery_is_recorded_then_acknowledged(
    hook: Hook, world: GitHubWorld
) -> None:
    response = await hook.send("pull_request", world.pull_request("opened"), guid="guid-1")
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "delivery": "guid-1"}
    row = await hook.delivery("guid-1")
    assert (row["event"], row["action"], row["installation_id"]) == (
        "pull_request",
        "opened",
        world.installation_id,
    )
    assert row["payload"]["pull_request"]["number"] == 2
    assert row["processed_at"] is None
    # The receiver handed the delivery to the worker, by id only.
    job = await queued_job(hook.resources.queue, f"delivery:{row['id']}")
    assert job == ("process_delivery", [row["id"]])


@pytest.mark.parametrize(
    "case",
    ["tampered body", "wrong secret", "missing signature", "sha1 only", "not sha256= prefixed"],
)
async def test_bad_signature_is_401_and_writes_nothing(
    hook: Hook, world: GitHubWorld, case: str
) -> None:
    body = _body(world)
    headers = webhook_headers(SECRET, "pull_request", body)
    if case == "tampered body":
        body = body.replace(b'"opened"', b'"closed"', 1)
    elif case == "wrong secret":
        headers = webhook_headers("not-the-secret", "pull_request", body)
    elif case == "missing signature":
        del headers["X-Hub-Signature-256"]
    elif case == "sha1 only":
        del headers["X-Hub-Signature-256"]
        digest = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
        headers["X-Hub-Signature"] = f"sha1={digest}"
    else:
        headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].removeprefix("sha256=")
    response = await hook.client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    await _no_rows(hook)


@pytest.mark.parametrize(
    ("body", "drop_header", "code"),
    [
        (b"this is not json", None, "invalid_json"),
        (b"[1, 2, 3]", None, "invalid_json"),
        (b"\xff\xfe{}", None, "invalid_json"),
        (b'{"zen": "hi"}', "X-GitHub-Event", "missing_header"),
        (b'{"zen": "hi"}', "X-GitHub-Delivery", "missing_header"),
    ],
)
async def test_signed_but_malformed_is_400_and_writes_nothing(
    hook: Hook, body: bytes, drop_header: str | None, code: str
) -> None:
    headers = webhook_headers(SECRET, "ping", body)
    if drop_header:
        del headers[drop_header]
    response = await hook.client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    await _no_rows(hook)


async def test_body_over_25_mb_is_413_and_writes_nothing(hook: Hook) -> None:
    body = b'{"padding": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    response = await hook.client.post(
        "/webhooks/github", content=body, headers=webhook_headers(SECRET, "ping", body)
    )
    assert response.status_code == 413
    await _no_rows(hook)


async def test_payload_near_25_mb_is_accepted(hook: Hook, world: GitHubWorld) -> None:
    payload = world.pull_request("opened")
    payload["pull_request"]["body"] = "y" * (24 * 1024 * 1024)
    response = await hook.send("pull_request", payload)
    assert response.status_code == 202
    assert await _count(hook, "webhook_deliveries") == 1


async def test_nul_characters_in_untrusted_text_are_stored(hook: Hook, world: GitHubWorld) -> None:
    payload = world.pull_request("opened")
    payload["pull_request"]["body"] = "before\u0000after"
    response = await hook.send("pull_request", payload)
    assert response.status_code == 202
    row = await hook.delivery(response.json()["delivery"])
    assert row["payload"]["pull_request"]["body"] == "beforeafter"


async def test_same_delivery_twice_in_sequence_has_one_effect(
    hook: Hook, world: GitHubWorld
) -> None:
    await hook.deliver("installation", world.installation())
    first = await hook.deliver("pull_request", world.pull_request("opened"), guid="dup")
    assert first["outcome"] == "handled"
    again = await hook.send("pull_request", world.pull_request("opened"), guid="dup")
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    await sweep(hook.resources, grace=timedelta(0))
    assert await _count(hook, "runs") == 1
    assert (await hook.delivery("dup"))["attempts"] == 1


async def test_same_delivery_concurrently_has_one_effect(hook: Hook, world: GitHubWorld) -> None:
    await hook.deliver("installation", world.installation())
    payload = world.pull_request("opened")
    responses = await asyncio.gather(
        *[hook.send("pull_request", payload, guid="race") for _ in range(8)]
    )
    assert all(r.status_code in (200, 202) for r in responses)
    assert await _count(hook, "webhook_deliveries") == 2  # installation + this one
    # Several workers picking the same delivery at once: one effect.
    inbox_id = (await hook.delivery("race"))["id"]
    from app.github.processing import process_delivery

    outcomes = await asyncio.gather(*[process_delivery(hook.resources, inbox_id) for _ in range(4)])
    assert sum(outcome is not None for outcome in outcomes) == 1
    assert await _count(hook, "runs") == 1
    assert (await hook.delivery("race"))["attempts"] == 1


async def test_redis_down_acknowledges_and_enqueues_once_redis_is_back(
    hook: Hook, world: GitHubWorld, redis_server: RedisServer, resources: Resources
) -> None:
    await hook.deliver("installation", world.installation())
    redis_server.stop()
    try:
        response = await hook.send("pull_request", world.pull_request("opened"), guid="offline")
        assert response.status_code == 202
    finally:
        redis_server.start()
    row = await hook.delivery("offline")
    assert row["processed_at"] is None
    assert await _count(hook, "runs") == 0
    # Redis came back empty; the sweeper rebuilds the queue from Postgres.
    await resources.queue.flushdb()
    report = await sweep(resources, grace=timedelta(0))
    assert report.deliveries_processed == 1
    runs = await hook.rows("SELECT id, workspace_id, status FROM runs")
    assert len(runs) == 1
    assert runs[0]["status"] == "queued"
    job = await queued_job(resources.queue, str(runs[0]["id"]))
    assert job == ("review_run", [str(runs[0]["id"]), str(runs[0]["workspace_id"])])


async def test_redis_wiped_loses_no_run(
    hook: Hook, world: GitHubWorld, resources: Resources
) -> None:
    await hook.deliver("installation", world.installation())
    await hook.deliver("pull_request", world.pull_request("opened"))
    (run,) = await hook.rows("SELECT id, workspace_id FROM runs")
    run_id = str(run["id"])
    await resources.queue.flushdb()
    assert await queued_job(resources.queue, run_id) is None
    await sweep(resources, grace=timedelta(0))
    # Sent with its workspace, as intake sends it.
    assert await queued_job(resources.queue, run_id) == (
        "review_run",
        [run_id, str(run["workspace_id"])],
    )


async def test_delivery_metrics_are_exported(hook: Hook, world: GitHubWorld) -> None:
    await hook.send("pull_request", world.pull_request("opened"))
    await hook.client.post("/webhooks/github", content=b"{}", headers={"X-GitHub-Event": "ping"})
    metrics = (await hook.client.get("/metrics")).text
    assert 'sentinel_webhook_deliveries_total{outcome="accepted"}' in metrics
    assert 'sentinel_webhook_deliveries_total{outcome="invalid_signature"}' in metrics


async def test_unconfigured_secret_is_a_clear_503(settings: object) -> None:
    from app.config import Settings
    from app.main import create_app
    from tests.support.live_server import serve

    assert isinstance(settings, Settings)
    unconfigured = settings.model_copy(update={"github_webhook_secret": None})
    async with serve(create_app(unconfigured)) as base, httpx.AsyncClient(base_url=base) as c:
        response = await c.post("/webhooks/github", content=b"{}")
    assert response.status_code == 503
    assert "SENTINEL_GITHUB_WEBHOOK_SECRET" in response.json()["error"]["message"]


# -- what an unauthenticated sender can cost (app/github/webhook_body.py) -------------------


class RawSender:
    """A sender that controls every byte on the wire: headers, then as much body as it likes."""

    def __init__(self, api_url: str) -> None:
        parts = httpx.URL(api_url)
        self.host, self.port = parts.host, parts.port

    async def start(
        self, length: int, signature: str | None, first_bytes: bytes
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        lines = [
            "POST /webhooks/github HTTP/1.1",
            f"Host: {self.host}",
            "Content-Type: application/json",
            f"Content-Length: {length}",
            "X-GitHub-Event: ping",
            "X-GitHub-Delivery: raw-sender",
        ]
        if signature is not None:
            lines.append(f"X-Hub-Signature-256: {signature}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + first_bytes)
        await writer.drain()
        return reader, writer

    @staticmethod
    async def status(reader: asyncio.StreamReader, within: float) -> int:
        line = await asyncio.wait_for(reader.readline(), within)
        return int(line.split()[1])


FORGED = "sha256=" + "ab" * 32


async def test_an_unsigned_body_is_refused_before_it_is_read(hook: Hook, api_url: str) -> None:
    sender = RawSender(api_url)
    # 20 MB announced, 1 KB sent: the answer comes without waiting for the rest.
    reader, writer = await sender.start(20_000_000, None, b"{" + b" " * 1023)
    try:
        assert await sender.status(reader, within=5) == 401
    finally:
        writer.close()
    await _no_rows(hook)


async def test_large_unverified_bodies_are_read_a_few_at_a_time(
    hook: Hook, world: GitHubWorld, api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.github import webhook_body

    monkeypatch.setattr(webhook_body, "LARGE_BODY_WAIT_SECONDS", 0.5)
    sender = RawSender(api_url)
    past_the_small_cap = b"{" + b" " * (webhook_body.SMALL_BODY_BYTES + 10)
    stalled = [
        await sender.start(5_000_000, FORGED, past_the_small_cap)
        for _ in range(webhook_body.LARGE_BODIES_AT_ONCE)
    ]
    await asyncio.sleep(0.5)  # each holds a slot, its body half sent
    reader, writer = await sender.start(5_000_000, FORGED, past_the_small_cap)
    try:
        assert await sender.status(reader, within=5) == 503
    finally:
        writer.close()
    # A small delivery needs no slot: GitHub's usual traffic goes on.
    assert (await hook.send("pull_request", world.pull_request("opened"))).status_code == 202

    for _, stalled_writer in stalled:
        stalled_writer.close()
    await asyncio.sleep(0.5)  # the server sees them go and frees their slots
    payload = world.pull_request("opened")
    payload["pull_request"]["body"] = "z" * (3 * 1024 * 1024)
    assert (await hook.send("pull_request", payload, guid="large-1")).status_code == 202


async def test_a_sender_too_slow_to_finish_its_body_is_cut_off(
    hook: Hook, api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.github import webhook_body

    monkeypatch.setattr(webhook_body, "BODY_DEADLINE_SECONDS", 1.0)
    sender = RawSender(api_url)
    reader, writer = await sender.start(10_000, FORGED, b"{")
    try:
        assert await sender.status(reader, within=5) == 408
    finally:
        writer.close()
    await _no_rows(hook)
