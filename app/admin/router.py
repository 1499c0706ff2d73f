"""The /v1 API: every workspace endpoint under `/v1/workspaces/{workspace}`, sharing the
documented error statuses, plus the public invitation acceptance."""

from __future__ import annotations

from fastapi import APIRouter

from app.admin.access import endpoints as access
from app.admin.audit import endpoints as audit
from app.admin.policies import endpoints as policies
from app.admin.provider_keys import endpoints as provider_keys
from app.admin.repositories import endpoints as repositories
from app.admin.runs import endpoints as runs
from app.admin.schemas import error_responses
from app.admin.usage import endpoints as usage
from app.admin.workspaces import endpoints as workspaces

WORKSPACE_DOMAINS = (workspaces, repositories, policies, provider_keys, access, runs, usage, audit)

router = APIRouter(prefix="/v1")
for domain in WORKSPACE_DOMAINS:
    router.include_router(
        domain.router,
        prefix="/workspaces/{workspace}",
        responses=error_responses(400, 401, 403, 404, 409, 422),
    )
router.include_router(access.public_router)
