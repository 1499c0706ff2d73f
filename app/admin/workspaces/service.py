"""The workspace view (plan, subscription, usage against limits) and plan changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.admin.workspaces.repository import (
    EnabledRepositories,
    SubscriptionRepository,
    WorkspaceRowRepository,
)
from app.admin.workspaces.schemas import (
    Allowance,
    Period,
    PeriodUsage,
    PlanLimits,
    PlanOut,
    SubscriptionOut,
    WorkspaceOut,
)
from app.audit import Actor, record_audit_event
from app.errors import ApiError
from app.models import Plan, Subscription, Workspace
from app.usage.queries import quantity_total


def current_period(now: datetime) -> Period:
    """The calendar month (UTC) containing `now`: the period plan limits count in."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return Period(start=start, end=end)


def _allowance(used: int, limit: object) -> Allowance:
    bound = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
    return Allowance(
        used=used, limit=bound, remaining=None if bound is None else max(bound - used, 0)
    )


def _plan_out(plan: Plan) -> PlanOut:
    limits = plan.limits or {}
    return PlanOut(
        name=plan.name,
        limits=PlanLimits(
            reviews_per_month=limits.get("reviews_per_month"),
            repositories=limits.get("repositories"),
            files_per_review=limits.get("files_per_review"),
        ),
        features={key: bool(value) for key, value in (plan.features or {}).items()},
    )


async def describe_workspace(session: AsyncSession, workspace: Workspace) -> WorkspaceOut:
    workspace_id = workspace.id
    subscription = await SubscriptionRepository(session, workspace_id).live()
    plan = await session.get(Plan, subscription.plan_id) if subscription is not None else None
    period = current_period(datetime.now(UTC))
    reviews = await quantity_total(session, workspace_id, "review", period.start, period.end)
    repositories = await EnabledRepositories(session, workspace_id).count()
    limits = plan.limits if plan is not None else {}
    return WorkspaceOut(
        id=workspace.id,
        slug=workspace.slug,
        name=workspace.name,
        created_at=workspace.created_at,
        plan=_plan_out(plan) if plan is not None else None,
        subscription=(
            SubscriptionOut(
                id=subscription.id,
                status=subscription.status,
                started_at=subscription.started_at,
                ends_at=subscription.ends_at,
            )
            if subscription is not None
            else None
        ),
        period=period,
        usage=PeriodUsage(
            reviews=_allowance(reviews, limits.get("reviews_per_month")),
            repositories=_allowance(repositories, limits.get("repositories")),
        ),
    )


async def change_plan(
    session: AsyncSession, workspace_id: uuid.UUID, actor: Actor, plan_name: str
) -> None:
    """End the live subscription and start one on `plan_name` (no payment provider yet).

    Changing to the plan already held changes nothing and records nothing.
    """
    plan = (
        await session.execute(select(Plan).where(Plan.name == plan_name.lower()))
    ).scalar_one_or_none()
    if plan is None:
        names = (await session.execute(select(Plan.name).order_by(Plan.name))).scalars().all()
        raise ApiError(
            422,
            "invalid_request",
            f"plan: there is no plan {plan_name!r}; choose one of {', '.join(names)}",
        )
    await WorkspaceRowRepository(session, workspace_id).lock()
    subscriptions = SubscriptionRepository(session, workspace_id)
    live = await subscriptions.live()
    previous = await session.get(Plan, live.plan_id) if live is not None else None
    if previous is not None and previous.id == plan.id:
        return
    now = datetime.now(UTC)
    if live is not None:
        live.status = "ended"
        live.ends_at = now
        # The old row must leave the "one live subscription" index before the new one enters.
        await session.flush()
    new = subscriptions.add(
        Subscription(workspace_id=workspace_id, plan_id=plan.id, status="active", started_at=now)
    )
    await session.flush()
    await record_audit_event(
        session,
        workspace_id,
        actor=actor,
        action="subscription.plan_changed",
        resource_type="subscription",
        resource_id=str(new.id),
        metadata={
            "before": {"plan": previous.name if previous is not None else None},
            "after": {"plan": plan.name},
        },
    )
