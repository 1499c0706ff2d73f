"""Creating policy versions (audited) and reading them."""

from __future__ import annotations

from app.admin.deps import WorkspaceContext
from app.admin.policies.repository import PolicyRepository
from app.admin.policies.schemas import PolicyOut
from app.audit import record_audit_event
from app.errors import ApiError
from app.models import Policy
from app.policy.documents import PolicyDocument


def policy_out(row: Policy) -> PolicyOut:
    return PolicyOut(
        id=row.id,
        name=row.name,
        version=row.version,
        config=PolicyDocument.model_validate(row.config),
        created_at=row.created_at,
    )


async def create_version(context: WorkspaceContext, name: str, config: PolicyDocument) -> Policy:
    policies = PolicyRepository(context.session, context.workspace_id)
    await policies.lock_name(name)
    version = await policies.newest_version_number(name) + 1
    document = config.model_dump(mode="json", exclude_none=True)
    row = policies.add(
        Policy(workspace_id=context.workspace_id, name=name, version=version, config=document)
    )
    await context.session.flush()
    await context.session.refresh(row, ["created_at"])
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="policy.version_created",
        resource_type="policy",
        resource_id=str(row.id),
        metadata={"name": name, "version": version, "after": document},
    )
    return row


async def get_version(context: WorkspaceContext, name: str, version: int | None) -> Policy:
    row = await PolicyRepository(context.session, context.workspace_id).version(name, version)
    if row is None:
        what = f"version {version} of policy {name!r}" if version else f"policy {name!r}"
        raise ApiError(404, "not_found", f"no {what} in this workspace")
    return row
