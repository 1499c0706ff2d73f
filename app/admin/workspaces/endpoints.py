"""`/v1/workspaces/{workspace}` and its plan."""

from __future__ import annotations

from fastapi import APIRouter

from app.admin.deps import AnyRole, Owners
from app.admin.schemas import error_responses
from app.admin.workspaces import service
from app.admin.workspaces.schemas import PlanChange, WorkspaceOut

router = APIRouter(tags=["workspace"])


@router.get("", response_model=WorkspaceOut, summary="The workspace, its plan and usage")
async def get_workspace(context: AnyRole) -> WorkspaceOut:
    """Plan and limits, the live subscription, and this period's usage against the limits."""
    return await service.describe_workspace(context)


@router.put(
    "/plan",
    response_model=WorkspaceOut,
    summary="Change the plan (owners)",
    responses=error_responses(409),
)
async def change_plan(body: PlanChange, context: Owners) -> WorkspaceOut:
    """Until a payment provider is integrated, an owner moves the workspace between plans.
    The change ends the current subscription, starts a new one, and is audited."""
    await service.change_plan(context, body.plan)
    return await service.describe_workspace(context)
