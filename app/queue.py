"""The job queue (arq on Redis). Redis is a hint, Postgres is the truth: jobs carry ids only,
are sent after the transaction that justifies them commits, and a sweeper re-sends whatever
Redis lost. Jobs are serialised as JSON, never pickle."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from arq import ArqRedis
from arq.connections import RedisSettings
from arq.constants import expires_extra_ms, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job as serialize_arq_job
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

    async def send(self, queue: ArqRedis | None) -> list[str]:
        """Enqueue every buffered job; returns the ids of those that reached Redis. Never
        raises: a job that does not reach Redis waits in Postgres for the sweeper."""
        sent = [job.job_id for job in self.jobs if await enqueue(queue, job)]
        self.jobs.clear()
        return sent


# arq's enqueue_job (WATCH, EXISTS, MULTI/PSETEX/ZADD/EXEC) in one atomic round trip: the
# receiver enqueues on every webhook, and on a 2-core machine the two saved round trips are a
# tenth of its CPU. Same keys, same job encoding (arq.jobs.serialize_job), same dedupe rule
# (an existing job or kept result blocks the id), so arq's worker reads these jobs as its own.
_ENQUEUE_SCRIPT = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
"""


async def enqueue(queue: ArqRedis | None, job: PendingJob) -> bool:
    """Queue `job` unless a job with its id is already queued or running. Never raises."""
    if queue is None:
        return False
    enqueued_at = int(time.time() * 1000)
    encoded = serialize_arq_job(
        job.function, job.args, {}, None, enqueued_at, serializer=serialize_job
    )
    try:
        # EVALSHA, falling back to EVAL once per Redis (redis-py's Script does this).
        await queue.register_script(_ENQUEUE_SCRIPT)(
            keys=[job_key_prefix + job.job_id, result_key_prefix + job.job_id, QUEUE_NAME],
            args=[encoded, expires_extra_ms, enqueued_at, job.job_id],
        )
    except (RedisError, OSError) as error:
        log.warning(
            "queue.unavailable",
            function=job.function,
            job_id=job.job_id,
            error=type(error).__name__,
        )
        return False
    return True
