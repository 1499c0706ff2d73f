"""The worker's one-round-trip job claim (app/job_claim.py) decides as arq's own claim does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms

from app.job_claim import JobClaimer
from tests.support.redis_server import RedisServer


@pytest.fixture
async def queue(redis_server: RedisServer) -> AsyncIterator[ArqRedis]:
    # A queue of its own (other tests share this Redis); job ids are unique per test too.
    pool = await create_pool(
        RedisSettings.from_dsn(redis_server.url), default_queue_name=f"test:{uuid.uuid4()}"
    )
    yield pool
    await pool.aclose()


def _claimer(queue: ArqRedis) -> JobClaimer:
    return JobClaimer(queue, queue.default_queue_name, in_progress_ms=60_000)


def _ids(*names: str) -> list[str]:
    return [f"{name}-{uuid.uuid4()}" for name in names]


async def test_a_queued_job_is_claimed_once_with_its_score(queue: ArqRedis) -> None:
    (job_id,) = _ids("job")
    assert await queue.enqueue_job("review_run", "a", _job_id=job_id) is not None
    claimed = await _claimer(queue).claim([job_id], timestamp_ms())
    assert [claimed_id for claimed_id, _ in claimed] == [job_id]
    score = await queue.zscore(queue.default_queue_name, job_id)
    assert claimed[0][1] == int(score or 0)
    assert await queue.pttl(in_progress_key_prefix + job_id) > 50_000
    # Claimed: another poll (this worker's or another's) leaves it alone.
    assert await _claimer(queue).claim([job_id], timestamp_ms()) == []


async def test_deferred_missing_and_running_jobs_are_not_claimed(queue: ArqRedis) -> None:
    await queue.enqueue_job("review_run", _job_id="later", _defer_by=timedelta(minutes=5))
    await queue.enqueue_job("review_run", _job_id="elsewhere")
    await queue.set(in_progress_key_prefix + "elsewhere", b"1")
    await queue.enqueue_job("review_run", _job_id="ready")
    claimed = await _claimer(queue).claim(["later", "gone", "elsewhere", "ready"], timestamp_ms())
    assert [job_id for job_id, _ in claimed] == ["ready"]
    assert not await queue.exists(in_progress_key_prefix + "later")
    assert not await queue.exists(in_progress_key_prefix + "gone")


async def test_concurrent_claims_share_the_jobs_without_overlap(queue: ArqRedis) -> None:
    job_ids = [str(uuid.uuid4()) for _ in range(40)]
    for job_id in job_ids:
        await queue.enqueue_job("review_run", _job_id=job_id)
    results = await asyncio.gather(
        *[_claimer(queue).claim(job_ids, timestamp_ms()) for _ in range(5)]
    )
    claimed = [job_id for result in results for job_id, _ in result]
    assert sorted(claimed) == sorted(job_ids)
