"""Enabling repositories and replacing their settings; both audited."""

from __future__ import annotations

import uuid
from typing import Any

from app.admin.deps import WorkspaceContext
from app.admin.repositories.repository import RepositoryRepository, RepositorySettingsRepository
from app.audit import record_audit_event
from app.errors import ApiError
from app.models import Repository
from app.policy.documents import RepositorySettingsDocument


def not_found(repository_id: uuid.UUID) -> ApiError:
    return ApiError(404, "not_found", f"no repository {repository_id} in this workspace")


async def live_repository(
    context: WorkspaceContext, repository_id: uuid.UUID, *, for_update: bool = False
) -> Repository:
    row = await RepositoryRepository(context.session, context.workspace_id).get_live(
        repository_id, for_update=for_update
    )
    if row is None:
        raise not_found(repository_id)
    return row


async def set_enabled(
    context: WorkspaceContext, repository_id: uuid.UUID, is_enabled: bool
) -> Repository:
    row = await live_repository(context, repository_id, for_update=True)
    if row.is_enabled == is_enabled:
        return row
    row.is_enabled = is_enabled
    await context.session.flush()
    await context.session.refresh(row, ["updated_at"])
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="repository.enabled" if is_enabled else "repository.disabled",
        resource_type="repository",
        resource_id=str(row.id),
        metadata={
            "name": row.name,
            "before": {"is_enabled": not is_enabled},
            "after": {"is_enabled": is_enabled},
        },
    )
    return row


def _as_document(stored: dict[str, Any] | None) -> dict[str, Any]:
    return dict(stored or {})


async def get_settings(
    context: WorkspaceContext, repository_id: uuid.UUID
) -> RepositorySettingsDocument:
    await live_repository(context, repository_id)
    stored = await RepositorySettingsRepository(context.session, context.workspace_id).document(
        repository_id
    )
    return RepositorySettingsDocument.model_validate(_as_document(stored))


async def replace_settings(
    context: WorkspaceContext, repository_id: uuid.UUID, document: RepositorySettingsDocument
) -> RepositorySettingsDocument:
    await live_repository(context, repository_id, for_update=True)
    settings = RepositorySettingsRepository(context.session, context.workspace_id)
    before = _as_document(await settings.document(repository_id))
    # Only the keys the admin set: an unset key inherits from the policy and plan.
    after = document.model_dump(mode="json", exclude_none=True)
    await settings.replace(repository_id, after)
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="repository_settings.replaced",
        resource_type="repository",
        resource_id=str(repository_id),
        metadata={"before": before, "after": after},
    )
    return RepositorySettingsDocument.model_validate(after)
