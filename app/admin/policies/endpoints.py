"""`/v1/workspaces/{workspace}/policies`: named, versioned policies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.admin.deps import AnyRole, Managers
from app.admin.policies import service
from app.admin.policies.repository import PolicyRepository
from app.admin.policies.schemas import POLICY_NAME_PATTERN, PolicyCreate, PolicyList, PolicyOut
from app.errors import ApiError

router = APIRouter(prefix="/policies", tags=["policies"])

NamePath = Annotated[str, Path(max_length=100, pattern=POLICY_NAME_PATTERN)]
VersionPath = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get(
    "",
    response_model=PolicyList,
    response_model_exclude_none=True,
    summary="The newest version of each policy",
)
async def list_policies(context: AnyRole) -> PolicyList:
    rows = await PolicyRepository(context.session, context.workspace_id).newest_of_each_name()
    return PolicyList(policies=[service.policy_out(row) for row in rows])


@router.post(
    "",
    response_model=PolicyOut,
    response_model_exclude_none=True,
    status_code=201,
    summary="Create a policy, or the next version of an existing one (owners, admins)",
)
async def create_policy(body: PolicyCreate, context: Managers) -> PolicyOut:
    """A new name starts at version 1; an existing name gets its newest version + 1. Older
    versions stay readable under `/policies/{name}/versions/{version}`, and a run's policy
    snapshot names the version it used."""
    row = await service.create_version(context, body.name, body.config)
    return service.policy_out(row)


@router.get(
    "/{name}",
    response_model=PolicyOut,
    response_model_exclude_none=True,
    summary="The newest version of a policy",
)
async def get_policy(name: NamePath, context: AnyRole) -> PolicyOut:
    return service.policy_out(await service.get_version(context, name, None))


@router.get(
    "/{name}/versions",
    response_model=PolicyList,
    response_model_exclude_none=True,
    summary="Every version of a policy, newest first",
)
async def list_versions(name: NamePath, context: AnyRole) -> PolicyList:
    rows = await PolicyRepository(context.session, context.workspace_id).versions(name)
    if not rows:
        raise ApiError(404, "not_found", f"no policy {name!r} in this workspace")
    return PolicyList(policies=[service.policy_out(row) for row in rows])


@router.get(
    "/{name}/versions/{version}",
    response_model=PolicyOut,
    response_model_exclude_none=True,
    summary="One version of a policy",
)
async def get_version(name: NamePath, version: VersionPath, context: AnyRole) -> PolicyOut:
    return service.policy_out(await service.get_version(context, name, version))
