"""The model answers of a run, kept the moment they arrive and reused when the run is
executed again, so the customer's model is never called twice for the same request.

A run can be executed more than once: Postgres restarts mid-run (its run lock and the
transaction storing findings are lost), a worker is killed, a transient error is retried.
Each answer costs the customer money, so it is written to `run_model_responses` before the
review goes on; if Postgres is unreachable at that moment the write is retried, the answer
held in memory, until Postgres is back or the retry window ends.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import psycopg
import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from app.db import tenant_session
from app.models import ModelResponseRecord
from reviewers.linear import compile_linear
from reviewers.providers.base import ModelRequest, ModelResponse

log = structlog.get_logger(__name__)

_BOUNDARY = compile_linear(r"\[\[(DATA-[0-9a-f]{16}) BEGIN ")

# How long an answer is held while Postgres is unreachable (a restart takes seconds).
KEEP_RETRY_SECONDS = 120.0


def request_digest(model: str, request: ModelRequest) -> str:
    """What identifies a request within a run: the same model, prompt and schema. Each
    prompt fences its untrusted data with a fresh random boundary (reviewers/untrusted.py),
    so two executions of a run word the same request with different boundaries: the
    boundary is left out of the digest."""
    system, prompt = request.system, request.prompt
    found = _BOUNDARY.search(prompt)
    if found is not None:
        boundary = str(found.group(1))
        system = system.replace(boundary, "DATA-boundary")
        prompt = prompt.replace(boundary, "DATA-boundary")
    canonical = json.dumps(
        {
            "model": model,
            "system": system,
            "prompt": prompt,
            "max_output_tokens": request.max_output_tokens,
            "output_schema": request.output_schema,
            "temperature": request.temperature,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def database_unreachable(error: BaseException) -> bool:
    """A lost or refused connection (a restart, a failover), not a bad statement: through
    SQLAlchemy (sessions) or from psycopg itself (the direct connections, app/direct.py)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class ResponseStore:
    """The kept answers of one run."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        workspace_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        retry_seconds: float = KEEP_RETRY_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._workspace_id = workspace_id
        self._run_id = run_id
        self._retry_seconds = retry_seconds

    async def find(self, session: AsyncSession, digest: str) -> ModelResponse | None:
        record = (
            await session.execute(
                select(ModelResponseRecord).where(
                    ModelResponseRecord.workspace_id == self._workspace_id,
                    ModelResponseRecord.run_id == self._run_id,
                    ModelResponseRecord.request_digest == digest,
                )
            )
        ).scalar_one_or_none()
        if record is None:
            return None
        return ModelResponse(
            output=record.output,
            raw_text=record.raw_text,
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            model=record.model,
            latency_seconds=record.latency_seconds,
        )

    async def keep(self, digest: str, response: ModelResponse) -> None:
        """Write the answer; retried while Postgres is unreachable. Never raises for an
        outage that outlasts the window: the review goes on with the answer in memory."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(database_unreachable),
            wait=wait_exponential(multiplier=0.25, max=5),
            stop=stop_after_delay(self._retry_seconds),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._insert(digest, response)
        except Exception as error:
            if not database_unreachable(error):
                raise
            log.warning(
                "model_response.not_kept",
                run_id=str(self._run_id),
                error=type(getattr(error, "orig", None) or error).__name__,
            )

    async def _insert(self, digest: str, response: ModelResponse) -> None:
        async with tenant_session(self._sessionmaker, self._workspace_id) as session:
            await session.execute(
                insert(ModelResponseRecord)
                .values(
                    workspace_id=self._workspace_id,
                    run_id=self._run_id,
                    request_digest=digest,
                    output=response.output,
                    raw_text=response.raw_text,
                    input_tokens=response.input_tokens,
                    output_tokens=response.output_tokens,
                    model=response.model,
                    latency_seconds=response.latency_seconds,
                )
                .on_conflict_do_nothing(index_elements=["run_id", "request_digest"])
            )
