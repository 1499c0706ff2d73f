"""Looking into the arq queue from tests."""

from __future__ import annotations

from arq import ArqRedis
from arq.jobs import Job, JobStatus

from app.queue import QUEUE_NAME, deserialize_job


async def queued_job(queue: ArqRedis, job_id: str) -> tuple[str, list[object]] | None:
    """(function, args) of a job waiting in the queue, or None."""
    job = Job(job_id, queue, _queue_name=QUEUE_NAME, _deserializer=deserialize_job)
    if await job.status() != JobStatus.queued:
        return None
    info = await job.info()
    return (info.function, list(info.args)) if info else None
