"""`/v1/workspaces/{workspace}/repositories`: list, enable/disable, settings."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.admin.deps import AnyRole, Managers
from app.admin.repositories import service
from app.admin.repositories.repository import RepositoryRepository
from app.admin.repositories.schemas import (
    RepositoryList,
    RepositoryOut,
    RepositoryPatch,
    RepositorySettingsBody,
)
from app.policy.documents import RepositorySettingsDocument

router = APIRouter(prefix="/repositories", tags=["repositories"])


@router.get("", response_model=RepositoryList, summary="Repositories with `is_enabled`")
async def list_repositories(context: AnyRole) -> RepositoryList:
    rows = await RepositoryRepository(context.session, context.workspace_id).list_live()
    return RepositoryList(
        repositories=[RepositoryOut.model_validate(row, from_attributes=True) for row in rows]
    )


@router.patch(
    "/{repository_id}",
    response_model=RepositoryOut,
    summary="Enable or disable reviews of a repository (owners, admins)",
)
async def patch_repository(
    repository_id: uuid.UUID, body: RepositoryPatch, context: Managers
) -> RepositoryOut:
    row = await service.set_enabled(context, repository_id, body.is_enabled)
    return RepositoryOut.model_validate(row, from_attributes=True)


@router.get(
    "/{repository_id}/settings",
    response_model=RepositorySettingsDocument,
    response_model_exclude_none=True,
    summary="The repository's settings document",
)
async def get_settings(repository_id: uuid.UUID, context: AnyRole) -> RepositorySettingsDocument:
    """The keys of `.sentinel.yml` plus `provider` and `model`; an absent key inherits from
    the workspace's policy and plan."""
    return await service.get_settings(context, repository_id)


@router.put(
    "/{repository_id}/settings",
    response_model=RepositorySettingsDocument,
    response_model_exclude_none=True,
    summary="Replace the repository's settings document (owners, admins)",
)
async def put_settings(
    repository_id: uuid.UUID, body: RepositorySettingsBody, context: Managers
) -> RepositorySettingsDocument:
    """Validated like `.sentinel.yml` (plus `provider` and `model`); a 422 names the field.
    The document replaces the previous one whole."""
    return await service.replace_settings(context, repository_id, body)
