"""`/v1/workspaces/{workspace}` and its plan."""

from __future__ import annotations

from fastapi import APIRouter

from app.admin.billing_operator import Billing
from app.admin.deps import AnyRole
from app.admin.schemas import error_responses
from app.admin.workspaces import service
from app.admin.workspaces.schemas import PlanChange, WorkspaceOut
from app.audit import BILLING_OPERATOR

router = APIRouter(tags=["workspace"])


@router.get("", response_model=WorkspaceOut, summary="The workspace, its plan and usage")
async def get_workspace(context: AnyRole) -> WorkspaceOut:
    """Plan and limits, the live subscription, and this period's usage against the limits."""
    return await service.describe_workspace(context.session, context.workspace)


@router.put(
    "/plan",
    response_model=WorkspaceOut,
    summary="Change the plan (billing's operator token)",
    responses=error_responses(409, 503),
)
async def change_plan(body: PlanChange, context: Billing) -> WorkspaceOut:
    """Billing moves the workspace between plans with its operator token
    (SENTINEL_BILLING_OPERATOR_TOKEN); a workspace token, an owner's included, gets 403.
    The change ends the current subscription, starts a new one, and is audited."""
    await service.change_plan(context.session, context.workspace.id, BILLING_OPERATOR, body.plan)
    return await service.describe_workspace(context.session, context.workspace)
