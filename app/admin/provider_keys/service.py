"""Saving, listing and deleting provider keys, audited with masked values only."""

from __future__ import annotations

from typing import Any

from app.admin.deps import WorkspaceContext
from app.admin.provider_keys.schemas import (
    ProviderKeyIn,
    ProviderKeyOut,
    ProviderKeySaved,
    Verification,
)
from app.admin.provider_keys.verify import verify_key
from app.audit import record_audit_event
from app.config import ConfigError
from app.errors import ApiError
from app.models import ProviderKey
from app.policy.documents import ProviderName
from app.provider_keys.repository import ProviderKeyRepository
from app.provider_keys.service import open_provider_key, save_provider_key
from app.security.encryption import KeyRing
from app.security.urls import UnsafeProviderUrlError, check_provider_url


def masked(row: ProviderKey) -> dict[str, Any]:
    """What an audit event may say about a key: never the key or its ciphertext."""
    return {
        "model": row.model,
        "base_url": row.base_url,
        "key_last4": row.key_last4,
        "key_version": row.key_version,
    }


def key_out(row: ProviderKey) -> ProviderKeyOut:
    return ProviderKeyOut.model_validate(row, from_attributes=True)


def _keyring(context: WorkspaceContext) -> KeyRing:
    try:
        return KeyRing(context.settings.encryption_key_ring)
    except ConfigError as error:
        raise ApiError(503, "unavailable", str(error)) from None


async def save_key(
    context: WorkspaceContext, provider: ProviderName, body: ProviderKeyIn, *, verify: bool
) -> ProviderKeySaved:
    keyring = _keyring(context)
    base_url = body.base_url.rstrip("/") if body.base_url else None
    if base_url is not None:
        try:
            await check_provider_url(
                base_url, allow_private=context.settings.allow_private_provider_urls
            )
        except UnsafeProviderUrlError as error:
            raise ApiError(422, "invalid_request", f"base_url: {error}") from None
    # Verify before writing anything: the transaction holds no row locks (and no
    # transaction id) while the provider takes its time to answer.
    verification: Verification | None = None
    if verify:
        verification = await verify_key(
            provider,
            body.api_key,
            model=body.model,
            base_url=base_url,
            allow_private=context.settings.allow_private_provider_urls,
        )
    repository = ProviderKeyRepository(context.session, context.workspace_id)
    existing = await repository.get_for_provider(provider)
    before = masked(existing) if existing is not None else None
    row = await save_provider_key(
        context.session,
        keyring,
        workspace_id=context.workspace_id,
        provider=provider,
        api_key=body.api_key,
        base_url=base_url,
        model=body.model,
    )
    await context.session.refresh(row, ["created_at", "updated_at"])
    after = masked(row)
    metadata: dict[str, Any] = {"provider": provider, "before": before, "after": after}
    if verification is not None:
        metadata["verification"] = {"ok": verification.ok, "kind": verification.kind}
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="provider_key.saved",
        resource_type="provider_key",
        resource_id=str(row.id),
        metadata=metadata,
    )
    return ProviderKeySaved(**key_out(row).model_dump(), verification=verification)


async def verify_stored_key(context: WorkspaceContext, provider: ProviderName) -> Verification:
    """One minimal call with the key already saved (it never leaves the server)."""
    repository = ProviderKeyRepository(context.session, context.workspace_id)
    row = await repository.get_for_provider(provider)
    if row is None:
        raise ApiError(404, "not_found", f"no {provider} key in this workspace")
    verification = await verify_key(
        provider,
        open_provider_key(_keyring(context), row),
        model=row.model,
        base_url=row.base_url,
        allow_private=context.settings.allow_private_provider_urls,
    )
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="provider_key.verified",
        resource_type="provider_key",
        resource_id=str(row.id),
        metadata={"provider": provider, "ok": verification.ok, "kind": verification.kind},
    )
    return verification


async def delete_key(context: WorkspaceContext, provider: ProviderName) -> None:
    repository = ProviderKeyRepository(context.session, context.workspace_id)
    row = await repository.get_for_provider(provider)
    if row is None:
        raise ApiError(404, "not_found", f"no {provider} key in this workspace")
    before = masked(row)
    await context.session.delete(row)
    await context.session.flush()
    await record_audit_event(
        context.session,
        context.workspace_id,
        actor=context.actor,
        action="provider_key.deleted",
        resource_type="provider_key",
        resource_id=str(row.id),
        metadata={"provider": provider, "before": before, "after": None},
    )
