"""Processing one inbox delivery: exactly once, in the right tenant scope, never lost.

The delivery's row is locked and marked processed in the same transaction as the handler's
effects, so a delivery processed twice concurrently (two jobs, a job and the sweeper) has one
effect. A failure is recorded on the delivery with a backoff; the sweeper retries it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.backoff import backoff
from app.db import SystemContext, rescope, system_session, unscoped_session
from app.github.context import Delivery, IntakeContext, Outcome, RetryLater
from app.github.handlers.dispatch import Scope, route_for
from app.github.provider import github_provider_id_subquery
from app.github.repositories import find_installation
from app.models import Installation, WebhookDelivery
from app.queue import JobBuffer
from app.worker_metrics import DELIVERIES_PROCESSED

if TYPE_CHECKING:
    from app.resources import Resources

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return backoff(attempts, first=FIRST_RETRY, longest=LONGEST_RETRY)


def _installation_id(delivery: Delivery) -> int | None:
    data = delivery.payload.get("installation")
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    return int(data["id"])


async def _locked_delivery(session: AsyncSession, inbox_id: int) -> WebhookDelivery | None:
    """The delivery, locked for this transaction; None when it was processed already (or
    meanwhile: a concurrent processor holds the lock until it commits)."""
    row = (
        await session.execute(
            select(WebhookDelivery).where(WebhookDelivery.id == inbox_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.processed_at is not None:
        return None
    return row


async def _mark_processed(session: AsyncSession, inbox_id: int, outcome: Outcome) -> None:
    await session.execute(
        text(
            """
            UPDATE webhook_deliveries
            SET processed_at = now(), outcome = :outcome, outcome_reason = :reason,
                attempts = attempts + 1, last_error = NULL
            WHERE id = :id
            """
        ),
        {
            "id": inbox_id,
            "outcome": "handled" if outcome.handled else "ignored",
            "reason": outcome.reason[:2000],
        },
    )


def _describe(error: Exception) -> str:
    if isinstance(error, RetryLater):
        return str(error)
    if isinstance(error, DBAPIError) and error.orig is not None:
        # The driver's message alone: SQLAlchemy's would append the statement's parameters.
        return f"database error: {str(error.orig).splitlines()[0]}"
    return f"{type(error).__name__}: {error}"[:1000]


async def _record_failure(resources: Resources, inbox_id: int, error: Exception) -> None:
    async with unscoped_session(resources.sessionmaker) as session:
        attempts = (
            await session.execute(
                text(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = :error "
                    "WHERE id = :id RETURNING attempts"
                ),
                {"id": inbox_id, "error": _describe(error)},
            )
        ).scalar_one()
        if attempts >= MAX_ATTEMPTS:
            # Parked until GitHub redelivers it (which clears the outcome; see inbox.py).
            await session.execute(
                text("UPDATE webhook_deliveries SET outcome = 'failed' WHERE id = :id"),
                {"id": inbox_id},
            )
        else:
            await session.execute(
                text(
                    "UPDATE webhook_deliveries SET next_attempt_at = now() + :delay WHERE id = :id"
                ),
                {"id": inbox_id, "delay": retry_delay(attempts)},
            )


def _installation_of(delivery: Delivery, installation: Installation | None) -> Installation:
    external_id = _installation_id(delivery)
    if external_id is None:
        raise _NoInstallation("the payload names no installation")
    if installation is None:
        raise RetryLater(
            f"installation {external_id} is not known yet "
            "(its installation.created delivery has not been processed)"
        )
    if installation.deleted_at is not None:
        raise _NoInstallation(f"the App was uninstalled from {installation.account_login}")
    return installation


class _NoInstallation(Exception):
    pass


async def _process(
    resources: Resources, inbox_id: int, jobs: JobBuffer
) -> tuple[Delivery, Outcome] | None:
    """One transaction: the delivery locked and read (where the installation it names is
    looked up), the handler's effects in the scope the event belongs to, the delivery marked
    processed. None when there was nothing (left) to do."""
    async with system_session(resources.sessionmaker, SystemContext.INSTALLATION_LOOKUP) as session:
        row = await _locked_delivery(session, inbox_id)
        if row is None:
            return None
        delivery = Delivery(row.id, row.delivery_id, row.event, row.action, row.payload)
        outcome = await _handle(resources, session, delivery, jobs)
        await _mark_processed(session, inbox_id, outcome)
        return delivery, outcome


async def _handle(
    resources: Resources, session: AsyncSession, delivery: Delivery, jobs: JobBuffer
) -> Outcome:
    route = route_for(delivery.event, delivery.action)
    if route is None:
        return Outcome.ignored(f"{delivery.name} is not an event Sentinel acts on")
    ctx = IntakeContext(
        session=session,
        settings=resources.settings,
        delivery=delivery,
        jobs=jobs,
        github_app=resources.github_app,
    )
    if route.scope is Scope.WORKSPACE:
        external_id = _installation_id(delivery)
        found = (
            await find_installation(session, github_provider_id_subquery(), external_id)
            if external_id is not None
            else None
        )
        try:
            ctx.installation = _installation_of(delivery, found)
        except _NoInstallation as reason:
            return Outcome.ignored(str(reason))
        # From here on the transaction sees the installation's workspace only.
        await rescope(session, workspace_id=ctx.installation.workspace_id)
    elif route.scope is Scope.PROVISIONING:
        await rescope(session, system_context=SystemContext.PROVISIONING)
    else:
        await rescope(session)
    return await route.handler(ctx)


async def process_delivery(
    resources: Resources,
    inbox_id: int,
    *,
    start_now: Callable[[list[str]], Awaitable[None]] | None = None,
) -> Outcome | None:
    """Process one delivery; None when there was nothing (left) to do. `start_now` gets the
    ids of the jobs it queued (a worker can start them at once instead of at its next
    poll)."""
    jobs = JobBuffer()
    try:
        processed = await _process(resources, inbox_id, jobs)
    except Exception as error:
        # Also a connection the database dropped (the worker's pool has no pre-ping):
        # recorded like any failure, on a fresh connection, and tried again after a backoff.
        log.warning("delivery.failed", inbox_id=inbox_id, error=_describe(error))
        await _record_failure(resources, inbox_id, error)
        return None
    if processed is None:
        return None
    delivery, outcome = processed
    queued = await jobs.send(resources.queue)
    if start_now is not None and queued:
        await start_now(queued)
    DELIVERIES_PROCESSED.labels(delivery.event, "handled" if outcome.handled else "ignored").inc()
    log.bind(delivery=delivery.guid, event=delivery.name).info(
        "delivery.processed", handled=outcome.handled, reason=outcome.reason
    )
    return outcome
