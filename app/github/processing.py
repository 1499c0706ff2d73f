"""Processing one inbox delivery: exactly once, in the right tenant scope, never lost.

The delivery's row is locked and marked processed in the same transaction as the handler's
effects, so a delivery processed twice concurrently (two jobs, a job and the sweeper) has one
effect. A failure is recorded on the delivery with a backoff; the sweeper retries it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.backoff import backoff
from app.db import SystemContext, system_session, tenant_session, unscoped_session
from app.github.context import Delivery, IntakeContext, Outcome, RetryLater
from app.github.handlers.dispatch import Route, Scope, route_for
from app.github.provider import github_provider_id
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


async def _load(
    resources: Resources, inbox_id: int
) -> tuple[Delivery, Route | None, Installation | None] | None:
    """The delivery, its route and, for a route in a workspace, the installation the payload
    names (None when unknown): one transaction."""
    async with system_session(resources.sessionmaker, SystemContext.INSTALLATION_LOOKUP) as session:
        row = await session.get(WebhookDelivery, inbox_id)
        if row is None or row.processed_at is not None:
            return None
        delivery = Delivery(row.id, row.delivery_id, row.event, row.action, row.payload)
        route = route_for(delivery.event, delivery.action)
        installation = None
        external_id = _installation_id(delivery)
        if route is not None and route.scope is Scope.WORKSPACE and external_id is not None:
            provider_id = await github_provider_id(session)
            installation = await find_installation(session, provider_id, external_id)
    return delivery, route, installation


def _installation_id(delivery: Delivery) -> int | None:
    data = delivery.payload.get("installation")
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    return int(data["id"])


async def _claim(session: AsyncSession, inbox_id: int) -> bool:
    """Lock the delivery for this transaction; False when it was processed meanwhile."""
    processed = (
        await session.execute(
            text(
                "SELECT processed_at IS NOT NULL FROM webhook_deliveries WHERE id = :id FOR UPDATE"
            ),
            {"id": inbox_id},
        )
    ).scalar_one()
    return not processed


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


async def _run(
    resources: Resources,
    delivery: Delivery,
    route: Route,
    found: Installation | None,
    jobs: JobBuffer,
) -> Outcome | None:
    def context(session: AsyncSession) -> IntakeContext:
        return IntakeContext(
            session=session,
            settings=resources.settings,
            delivery=delivery,
            jobs=jobs,
            github_app=resources.github_app,
        )

    if route.scope is Scope.WORKSPACE:
        try:
            installation = _installation_of(delivery, found)
        except _NoInstallation as reason:
            return await _finish_without_handler(resources, delivery, Outcome.ignored(str(reason)))
        async with tenant_session(resources.sessionmaker, installation.workspace_id) as session:
            if not await _claim(session, delivery.inbox_id):
                return None
            ctx = context(session)
            # Re-read inside the tenant transaction: the handler may change it.
            ctx.installation = (
                await session.execute(
                    select(Installation).where(Installation.id == installation.id)
                )
            ).scalar_one()
            outcome = await route.handler(ctx)
            await _mark_processed(session, delivery.inbox_id, outcome)
            return outcome

    opener = (
        system_session(resources.sessionmaker, SystemContext.PROVISIONING)
        if route.scope is Scope.PROVISIONING
        else unscoped_session(resources.sessionmaker)
    )
    async with opener as session:
        if not await _claim(session, delivery.inbox_id):
            return None
        outcome = await route.handler(context(session))
        await _mark_processed(session, delivery.inbox_id, outcome)
        return outcome


async def _finish_without_handler(
    resources: Resources, delivery: Delivery, outcome: Outcome
) -> Outcome | None:
    async with unscoped_session(resources.sessionmaker) as session:
        if not await _claim(session, delivery.inbox_id):
            return None
        await _mark_processed(session, delivery.inbox_id, outcome)
    return outcome


async def process_delivery(resources: Resources, inbox_id: int) -> Outcome | None:
    """Process one delivery; None when there was nothing (left) to do."""
    try:
        loaded = await _load(resources, inbox_id)
    except DBAPIError as error:
        # A connection the database dropped (the worker's pool has no pre-ping): recorded
        # like any failure, on a fresh connection, and tried again after a backoff.
        log.warning("delivery.failed", inbox_id=inbox_id, error=_describe(error))
        await _record_failure(resources, inbox_id, error)
        return None
    if loaded is None:
        return None
    delivery, route, installation = loaded
    bound = log.bind(delivery=delivery.guid, event=delivery.name)
    jobs = JobBuffer()
    try:
        if route is None:
            outcome = await _finish_without_handler(
                resources,
                delivery,
                Outcome.ignored(f"{delivery.name} is not an event Sentinel acts on"),
            )
        else:
            outcome = await _run(resources, delivery, route, installation, jobs)
    except Exception as error:
        bound.warning("delivery.failed", error=_describe(error))
        await _record_failure(resources, inbox_id, error)
        return None
    await jobs.send(resources.queue)
    if outcome is not None:
        DELIVERIES_PROCESSED.labels(
            delivery.event, "handled" if outcome.handled else "ignored"
        ).inc()
        bound.info("delivery.processed", handled=outcome.handled, reason=outcome.reason)
    return outcome
