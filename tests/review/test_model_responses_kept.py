"""A Postgres restart mid-run must not call the customer's model twice for the same chunk.

The fault is Postgres's own: a trigger answers the findings insert with SQLSTATE 57P01
("terminating connection due to administrator command"), what every session sees when the
server restarts. The run is executed again afterwards (the worker's retry or the sweeper's
resume), and its model answers must come from what the first execution kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
from arq import Retry as ArqRetry
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.review.job import Retry
from app.review.model_responses import database_unreachable
from app.worker import review_run_job
from tests.review.conftest import NAME, NUMBER, OWNER, World

REVIEWS = f"/repos/{OWNER}/{NAME}/pulls/{NUMBER}/reviews"

RESTART = [
    """
    CREATE FUNCTION pg_restarting() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'terminating connection due to administrator command'
        USING ERRCODE = 'admin_shutdown';
    END $$
    """,
    "CREATE TRIGGER pg_restarting BEFORE INSERT ON findings "
    "FOR EACH STATEMENT EXECUTE FUNCTION pg_restarting()",
]
RESTARTED = ["DROP TRIGGER pg_restarting ON findings", "DROP FUNCTION pg_restarting()"]


@asynccontextmanager
async def postgres_restarting_when_findings_are_stored(world: World) -> AsyncIterator[None]:
    async with world.hook.owner_engine.begin() as connection:
        for statement in RESTART:
            await connection.execute(text(statement))
    try:
        yield
    finally:
        async with world.hook.owner_engine.begin() as connection:
            for statement in RESTARTED:
                await connection.execute(text(statement))


async def test_a_run_executed_again_after_a_postgres_restart_calls_the_model_once(
    world: World,
) -> None:
    await world.open_pull_request()
    (run,) = await world.runs()

    async with postgres_restarting_when_findings_are_stored(world):
        with pytest.raises((OperationalError, psycopg.OperationalError)) as lost:
            await world.review(run["id"])
    assert database_unreachable(lost.value)  # the worker retries it (worker.py)
    answered = [r.text for r in world.models.requests if r.status == 200]
    assert answered, "the model answered before Postgres went away"

    assert await world.review(run["id"], attempt=2) == "completed"

    prompts = [r.text for r in world.models.requests]
    assert prompts == answered  # nothing asked twice, nothing asked after
    (finished,) = await world.runs()
    assert finished["status"] == "completed", finished["status_reason"]
    assert world.review_comments(), "the findings the kept answers hold were posted"
    kept = await world.hook.rows("SELECT input_tokens FROM run_model_responses")
    assert len(kept) == len(answered)
    # Billing counts the tokens the provider charged for, once.
    assert (await world.usage())["llm_input_tokens"] == sum(row["input_tokens"] for row in kept)


async def test_a_run_retried_after_a_github_outage_does_not_ask_the_model_again(
    world: World,
) -> None:
    await world.open_pull_request()
    (run,) = await world.runs()
    world.github.fail_next(REVIEWS, 502, count=1)
    with pytest.raises(Retry):
        await world.review(run["id"])
    asked = len(world.models.requests)
    assert asked > 0

    assert await world.review(run["id"], attempt=2) == "completed"
    assert len(world.models.requests) == asked
    assert len(world.reviews()) == 1


async def test_the_worker_runs_it_again_once_postgres_is_back(world: World) -> None:
    await world.open_pull_request()
    (run,) = await world.runs()
    ctx = {"resources": world.resources, "job_try": 1}
    async with postgres_restarting_when_findings_are_stored(world):
        with pytest.raises(ArqRetry) as retried:
            await review_run_job(ctx, str(run["id"]), str(run["workspace_id"]))
    assert retried.value.defer_score == 5_000  # ms: soon, and later on each try
    (still,) = await world.runs()
    assert still["status"] == "running"  # not failed: nothing was wrong with the review
    assert await review_run_job({**ctx, "job_try": 2}, str(run["id"])) == "completed"
