"""`/v1/workspaces/{workspace}/provider-keys`: BYOK keys (owners, admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.admin.deps import Managers
from app.admin.provider_keys import service
from app.admin.provider_keys.schemas import (
    ProviderKeyIn,
    ProviderKeyList,
    ProviderKeySaved,
    Verification,
)
from app.admin.schemas import error_responses
from app.policy.documents import ProviderName
from app.provider_keys.repository import ProviderKeyRepository

router = APIRouter(prefix="/provider-keys", tags=["provider keys"])


@router.get("", response_model=ProviderKeyList, summary="Provider keys, masked (owners, admins)")
async def list_keys(context: Managers) -> ProviderKeyList:
    """Provider, model, base_url, the last 4 characters and the encryption key version.
    The key itself is never returned."""
    rows = await ProviderKeyRepository(context.session, context.workspace_id).list()
    return ProviderKeyList(provider_keys=[service.key_out(row) for row in rows])


@router.put(
    "/{provider}",
    response_model=ProviderKeySaved,
    summary="Save the key for a provider (owners, admins)",
    responses=error_responses(503),
)
async def put_key(
    provider: ProviderName,
    body: ProviderKeyIn,
    context: Managers,
    verify: Annotated[
        bool, Query(description="Make one minimal call with the key and report the outcome")
    ] = False,
) -> ProviderKeySaved:
    """Replaces the workspace's key for `provider`. `base_url` must be https and must not
    resolve to a loopback, private, link-local or reserved address (checked now and again
    whenever the worker connects). With `verify=true` the response reports whether the
    provider accepted one minimal call; the key is saved either way."""
    return await service.save_key(context, provider, body, verify=verify)


@router.post(
    "/{provider}/verify",
    response_model=Verification,
    summary="Check the saved key with one minimal provider call (owners, admins)",
    responses=error_responses(503),
)
async def verify_saved_key(provider: ProviderName, context: Managers) -> Verification:
    """Whether the provider accepts the key saved for `provider` now (a key revoked at the
    provider, or out of credit, says so here)."""
    return await service.verify_stored_key(context, provider)


@router.delete(
    "/{provider}",
    status_code=204,
    response_class=Response,
    summary="Remove the key for a provider (owners, admins)",
)
async def delete_key(provider: ProviderName, context: Managers) -> Response:
    await service.delete_key(context, provider)
    return Response(status_code=204)
