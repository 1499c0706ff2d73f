"""Schemathesis against the live API's own `/openapi.json`: generated valid and invalid
requests to every /v1 operation, a bounded number each. No answer may be a 5xx, and every
answer must be one the schema documents, with the documented content type and body shape.

Hypothesis drives plain `requests` calls from a worker thread while the server keeps running
on the test's event loop. Half the cases aim at real resources (the token's workspace, its
repository and run, the `default` policy) so they reach past the 404s.
"""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.models.identity import Role
from tests.admin.conftest import World

EXAMPLES_PER_OPERATION = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


_FRAMING = frozenset({"content-length", "transfer-encoding", "host", "connection"})


def _aim(case: Any, real: bool, ids: dict[str, str]) -> None:
    """Point generated path parameters at real resources (or leave them random), and keep
    every request on this machine: `verify` would make the server call `base_url`."""
    if real:
        for name, value in ids.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
    if case.query and "verify" in case.query:
        case.query = {key: value for key, value in case.query.items() if key != "verify"}
    if case.headers:
        # A generated Content-Length or Host breaks the request's HTTP framing, which the
        # server (uvicorn) refuses in plain text before the app sees it: not the API's answer.
        case.headers = {k: v for k, v in case.headers.items() if k.lower() not in _FRAMING}


def _fuzz(base_url: str, spec: dict[str, Any], token: str, ids: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            if not operation.path.startswith("/v1/"):
                continue  # the webhook receiver and health checks have their own tests
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(
                    max_examples=EXAMPLES_PER_OPERATION,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
                def check(case: Any, real: bool) -> None:
                    _aim(case, real, ids)
                    headers = {"Authorization": f"Bearer {token}"}
                    response = case.call(base_url=base_url, session=session, headers=headers)
                    case.validate_response(response, checks=CHECKS, headers=headers)

                try:
                    check()
                except (Exception, BaseExceptionGroup) as error:
                    summary = "".join(traceback.format_exception_only(type(error), error))
                    failures.append(f"{operation.label} [{mode.value}]: {summary[:2000]}")
    return failures


@pytest.mark.timeout(240)
async def test_every_operation_against_its_schema(
    world: World, api_url: str, client: httpx.AsyncClient
) -> None:
    spec = (await client.get("/openapi.json")).json()
    ids = {
        "workspace": "acme",
        "repository_id": str(world.acme.repository_id),
        "run_id": str(world.acme.run_id),
        "name": "default",
        "version": "1",
        "provider": "anthropic",
    }
    failures = await asyncio.to_thread(_fuzz, api_url, spec, world.tokens[Role.OWNER], ids)
    assert failures == [], "\n\n".join(failures)
