"""The job queue (arq on Redis). Redis is a hint, Postgres is the truth: jobs carry ids only,
are sent after the transaction that justifies them commits, and a sweeper re-sends whatever
Redis lost. Jobs are serialised as JSON, never pickle."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import structlog
from arq import ArqRedis
from arq.connections import RedisSettings
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from app.config import Settings

log = structlog.get_logger(__name__)

QUEUE_NAME = "sentinel:queue"
# Give up connecting quickly: a webhook must be acknowledged even when Redis is down.
REDIS_CONNECT_TIMEOUT_SECONDS = 1
REDIS_SOCKET_TIMEOUT_SECONDS = 5


def serialize_job(job: dict[str, Any]) -> bytes:
    return json.dumps(job, separators=(",", ":")).encode()


def deserialize_job(data: bytes) -> dict[str, Any]:
    return json.loads(data)


def redis_settings(settings: Settings) -> RedisSettings:
    parsed = RedisSettings.from_dsn(settings.redis_url)
    parsed.conn_timeout = REDIS_CONNECT_TIMEOUT_SECONDS
    parsed.conn_retries = 0
    return parsed


def create_queue(settings: Settings) -> ArqRedis:
    """A client for enqueueing. It connects lazily (arq's create_pool would insist on Redis
    answering at start-up), so the API starts and acknowledges webhooks with Redis down."""
    pool = ConnectionPool.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
    )
    return ArqRedis(
        pool,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        default_queue_name=QUEUE_NAME,
    )


@dataclass(frozen=True)
class PendingJob:
    function: str
    args: tuple[str | int, ...]
    job_id: str


@dataclass
class JobBuffer:
    """Jobs decided inside a transaction, sent only once it has committed."""

    jobs: list[PendingJob] = field(default_factory=list)

    def add(self, function: str, *args: str | int, job_id: str) -> None:
        self.jobs.append(PendingJob(function, args, job_id))

    async def send(self, queue: ArqRedis | None) -> int:
        """Enqueue every buffered job; returns how many reached Redis. Never raises: a job
        that does not reach Redis waits in Postgres for the sweeper."""
        sent = 0
        for job in self.jobs:
            if await enqueue(queue, job):
                sent += 1
        self.jobs.clear()
        return sent


async def enqueue(queue: ArqRedis | None, job: PendingJob) -> bool:
    if queue is None:
        return False
    try:
        await queue.enqueue_job(job.function, *job.args, _job_id=job.job_id)
    except (RedisError, OSError) as error:
        log.warning(
            "queue.unavailable",
            function=job.function,
            job_id=job.job_id,
            error=type(error).__name__,
        )
        return False
    return True
