"""The arq worker: intake jobs (deliveries, command acknowledgements), the sweeper and the
delivery recovery. `sentinel worker` runs it; `--burst` drains the queue and exits."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from datetime import timedelta
from typing import Any

import structlog
from arq import Retry, cron
from arq.utils import timestamp_ms
from arq.worker import Function, Worker, func
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.config import Settings
from app.github.acknowledge import TransientGitHubError, acknowledge_command
from app.github.processing import process_delivery
from app.github.recovery import recover_deliveries
from app.job_claim import JobClaimer
from app.queue import QUEUE_NAME, deserialize_job, redis_settings, serialize_job
from app.resources import Resources
from app.review.job import MAX_ATTEMPTS as REVIEW_ATTEMPTS
from app.review.job import Retry as ReviewRetry
from app.review.job import review_run
from app.review.model_responses import database_unreachable
from app.sweeper import sweep
from app.usage.rollup import recompute_daily_metrics
from reviewers.tokens import load_tokenizer

log = structlog.get_logger(__name__)

ACKNOWLEDGE_TRIES = 4


def _resources(ctx: dict[str, Any]) -> Resources:
    return ctx["resources"]


async def process_delivery_job(ctx: dict[str, Any], inbox_id: int) -> None:
    worker = ctx.get("worker")
    await process_delivery(
        _resources(ctx),
        int(inbox_id),
        start_now=worker.start_now if isinstance(worker, SentinelWorker) else None,
    )


async def acknowledge_command_job(ctx: dict[str, Any], inbox_id: int, content: str) -> None:
    try:
        await acknowledge_command(_resources(ctx), int(inbox_id), content)
    except TransientGitHubError as error:
        if ctx["job_try"] >= ACKNOWLEDGE_TRIES:
            log.warning("acknowledge.gave_up", error=str(error))
            return
        raise Retry(defer=timedelta(seconds=10 * ctx["job_try"])) from None


DATABASE_RETRY_SECONDS = 5.0


async def review_run_job(ctx: dict[str, Any], run_id: str, workspace_id: str | None = None) -> str:
    try:
        return await review_run(
            _resources(ctx),
            uuid.UUID(run_id),
            attempt=ctx["job_try"],
            workspace_id=uuid.UUID(workspace_id) if workspace_id else None,
        )
    except ReviewRetry as retry:
        raise Retry(defer=retry.delay) from None
    except Exception as error:
        if not database_unreachable(error):
            raise
        # Postgres restarted or failed over mid-run. The run is still `running` and its
        # model answers are kept (model_responses.py): run it again once Postgres is back.
        # Should the tries run out, the sweeper resumes the abandoned run.
        delay = min(DATABASE_RETRY_SECONDS * ctx["job_try"], 60.0)
        log.warning("run.database_unreachable", run_id=run_id, retry_in=delay)
        raise Retry(defer=timedelta(seconds=delay)) from None


async def rollup_job(ctx: dict[str, Any]) -> None:
    await recompute_daily_metrics(_resources(ctx))


async def sweep_job(ctx: dict[str, Any]) -> None:
    await sweep(_resources(ctx))


async def recover_deliveries_job(ctx: dict[str, Any]) -> None:
    await recover_deliveries(_resources(ctx))


def _startup(settings: Settings) -> Any:
    async def startup(ctx: dict[str, Any]) -> None:
        # No pre-ping: a round trip per transaction is a tenth of a review's CPU (db.py).
        resources = await Resources.build(settings, pool_pre_ping=False)
        ctx["resources"] = resources
        # The tokenizer's vocabulary (~0.3 s to load): now, not in the first review.
        await asyncio.to_thread(load_tokenizer)
        # A worker starting may follow an outage: take up everything that is due at once.
        await sweep(resources, grace=timedelta(0))
        # What exists now (modules, the SDKs' and the ORM's classes, clients, pools) lives as
        # long as the process: keep it out of the collector's full passes. Each of those
        # walked it all and stalled the event loop, and every review in flight, for ~0.2 s
        # every few seconds (at 50 reviews in flight; ~25 ms once frozen).
        gc.freeze()

    return startup


async def _shutdown(ctx: dict[str, Any]) -> None:
    resources = ctx.pop("resources", None)
    if resources is not None:
        await resources.close()


# What an unreachable Redis raises, at start-up (arq's connection retries exhausted) or from a
# worker that was polling when it went away.
QUEUE_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
FIRST_RECONNECT_DELAY = 0.5
LONGEST_RECONNECT_DELAY = 5.0
# A worker that ran this long before losing Redis starts its backoff from the beginning.
HEALTHY_RUN_SECONDS = 60.0


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """`sentinel worker`: arq's worker, started again whenever Redis is unreachable.

    Redis carries the queue, not the record: deliveries and runs are in Postgres. So a lost
    Redis must not end the process (nothing would restart it in a plain deployment); each new
    worker's start-up sweep then takes up everything that arrived meanwhile, within seconds
    of Redis coming back, and no webhook needs redelivering."""
    delay = FIRST_RECONNECT_DELAY
    while True:
        worker = create_worker(settings, burst=burst)
        started = time.monotonic()
        try:
            worker.run()
            return
        except QUEUE_UNAVAILABLE as error:
            # arq's close() stops at its first Redis call, before the shutdown hook.
            worker.loop.run_until_complete(_shutdown(worker.ctx))
            if time.monotonic() - started > HEALTHY_RUN_SECONDS:
                delay = FIRST_RECONNECT_DELAY
            log.warning(
                "worker.queue_unavailable",
                error=type(error).__name__,
                detail=str(error)[:200],
                retry_in_s=delay,
            )
            time.sleep(delay)
            delay = min(delay * 2, LONGEST_RECONNECT_DELAY)


class SentinelWorker(Worker):
    """arq's worker, with fewer Redis round trips per job.

    - arq keeps a job in the queue until it finishes, and every poll (twenty a second) checks
      each job id in the queue before it finds it in progress: with 50 reviews running, 2,000
      round trips a second, a fifth of the worker's CPU. A job whose task is still running in
      this process is skipped without asking Redis.
    - The jobs a poll finds are claimed together, in one round trip (app/job_claim.py),
      instead of four round trips per job one after another.
    - A job that a job of this process queued (a delivery's review) starts at once, without
      waiting for the next poll.
    Everything else (retries, deferred jobs, jobs of other workers) behaves as arq's."""

    _claimer: JobClaimer | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx["worker"] = self  # jobs reach `start_now` through their context

    async def start_now(self, job_ids: list[str]) -> None:
        """Start jobs this process just queued (a delivery's review) without waiting for the
        next poll: claimed exactly as a poll would, so another worker may have them first."""
        if self.allow_pick_jobs:
            await self.start_jobs([job_id.encode() for job_id in job_ids])

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        running_here = {job_id for job_id, task in self.tasks.items() if not task.done()}
        free = self.max_jobs - self.job_counter
        wanted = [j.decode() for j in job_ids if j.decode() not in running_here][: max(free, 0)]
        if not wanted:
            return
        if self._claimer is None:
            self._claimer = JobClaimer(
                self.pool, self.queue_name, int(self.in_progress_timeout_s * 1000)
            )
        for job_id, score in await self._claimer.claim(wanted, timestamp_ms()):
            # As arq does for each job it starts: a slot of max_jobs, released when it ends.
            await self.sem.acquire()
            self.job_counter += 1
            task = self.loop.create_task(self.run_job(job_id, score))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task


FUNCTIONS: list[Function] = [
    func(process_delivery_job, name="process_delivery", max_tries=1),
    func(acknowledge_command_job, name="acknowledge_command"),
    # One more try than the job's own attempts, so the job itself records the last failure.
    func(review_run_job, name="review_run", max_tries=REVIEW_ATTEMPTS + 1),
]


def create_worker(
    settings: Settings,
    *,
    burst: bool = False,
    functions: list[Function] | None = None,
    poll_delay: float = 0.02,
) -> SentinelWorker:
    return SentinelWorker(
        functions=functions if functions is not None else FUNCTIONS,
        cron_jobs=[
            cron(sweep_job, name="sweep", second={0, 30}, unique=True),
            cron(
                recover_deliveries_job,
                name="recover_deliveries",
                minute=set(range(0, 60, 10)),
                second=15,
                unique=True,
            ),
            cron(rollup_job, name="rollup_daily_metrics", minute={5, 35}, second=45, unique=True),
        ],
        redis_settings=redis_settings(settings),
        queue_name=QUEUE_NAME,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        on_startup=_startup(settings),
        on_shutdown=_shutdown,
        burst=burst,
        # Job ids are dedupe keys (a run id, a delivery id): keeping results would block
        # the same id from being queued again for an hour.
        keep_result=0,
        max_jobs=settings.worker_concurrency,
        # A webhook waits for the next poll before it is processed (its review then starts at
        # once, `start_now`): arq's default 0.5 s would add a quarter of a second on average.
        # 0.02 s costs 50 small Redis round trips a second when idle (~1% of a core).
        poll_delay=poll_delay,
        # arq's own limit, a backstop behind the review's deadline (which fails the run with a
        # reason; arq's timeout would leave it to the sweeper).
        job_timeout=timedelta(seconds=settings.review_deadline_seconds + 60),
        # Let running jobs finish on SIGTERM instead of cancelling them mid-write.
        job_completion_wait=30,
    )
