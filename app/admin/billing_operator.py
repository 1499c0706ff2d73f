"""Billing's operator token: the one credential that changes a workspace's plan.

A plan decides what a workspace may spend, so moving to a paid plan is billing's call, not
the workspace's: a workspace token, an owner's included, is refused. The token is
`SENTINEL_BILLING_OPERATOR_TOKEN`, held by the billing system, compared in constant time, and
acts on any workspace by slug or id; its changes are audited as `system:billing`.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import SystemContext, system_session, tenant_session
from app.errors import ApiError
from app.models import Workspace
from app.resources import resources
from app.tokens.service import authenticate_api_token
from app.workspaces.lookup import find_workspace

_bearer = HTTPBearer(
    auto_error=False,
    description="Billing's operator token (SENTINEL_BILLING_OPERATOR_TOKEN)",
)


@dataclass(frozen=True)
class BillingContext:
    session: AsyncSession  # the workspace's tenant transaction
    workspace: Workspace


async def billing_context(
    request: Request,
    workspace: Annotated[str, Path(description="The workspace's slug or id", max_length=200)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AsyncIterator[BillingContext]:
    state = resources(request)
    expected = state.settings.billing_operator_token
    if credentials is None:
        raise ApiError(
            401, "unauthorized", "send billing's operator token as `Authorization: Bearer <token>`"
        )
    presented = credentials.credentials.encode()
    if expected is None or not hmac.compare_digest(presented, expected.get_secret_value().encode()):
        if await authenticate_api_token(state.sessionmaker, credentials.credentials):
            raise ApiError(
                403,
                "forbidden",
                "a workspace's plan is changed by billing with its operator token; workspace "
                "tokens, an owner's included, cannot change it",
            )
        if expected is None:
            raise ApiError(
                503,
                "unconfigured",
                "plan changes need SENTINEL_BILLING_OPERATOR_TOKEN, which is not set",
            )
        raise ApiError(401, "unauthorized", "the operator token is wrong")
    async with system_session(state.sessionmaker, SystemContext.BILLING_OPERATOR) as session:
        found = await find_workspace(session, workspace)
    if found is None:
        raise ApiError(404, "not_found", f"no workspace {workspace!r}")
    async with tenant_session(state.sessionmaker, found.id) as session:
        row = await session.get(Workspace, found.id)
        if row is None:
            raise ApiError(404, "not_found", f"no workspace {workspace!r}")
        yield BillingContext(session, row)


Billing = Annotated[BillingContext, Depends(billing_context, scope="function")]
