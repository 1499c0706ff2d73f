"""`POST /webhooks/github`: verify, record, acknowledge. Processing happens in the worker.

Order matters: the signature is checked on the raw bytes as they stream in, before anything
is parsed (webhook_body.py says what an unauthenticated sender can cost), and the
delivery is committed to the inbox before GitHub hears 2xx, so an acknowledged delivery is
never lost. Bad input gets a 4xx and writes nothing.
"""

from __future__ import annotations

import orjson
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.config import ConfigError
from app.errors import error_response
from app.github.inbox import record_delivery
from app.github.webhook_body import BodyRefused, read_signed_body
from app.metrics import WEBHOOK_DELIVERIES
from app.queue import PendingJob, enqueue
from app.resources import resources

log = structlog.get_logger(__name__)

router = APIRouter()

MAX_HEADER_LENGTH = 200


def _rejected(status: int, code: str, message: str) -> JSONResponse:
    WEBHOOK_DELIVERIES.labels(outcome=code).inc()
    return error_response(status, code, message)


@router.post(
    "/webhooks/github",
    status_code=202,
    tags=["github"],
    summary="Receive a GitHub webhook delivery",
    responses={
        200: {"description": "Already processed: acknowledged, not processed again"},
        400: {"description": "Not a JSON object, or a required header is missing"},
        401: {"description": "Missing or wrong X-Hub-Signature-256"},
        408: {"description": "The body did not arrive within 30 seconds"},
        413: {"description": "Larger than GitHub's 25 MB limit"},
        503: {"description": "Too many large deliveries at once; redelivered later"},
    },
)
async def receive_github_webhook(request: Request) -> JSONResponse:
    state = resources(request)
    try:
        secret = state.settings.require_webhook_secret()
    except ConfigError as error:
        log.error("webhook.unconfigured", error=str(error))
        return _rejected(503, "unconfigured", str(error))
    try:
        body = await read_signed_body(request, secret)
    except BodyRefused as refused:
        return _rejected(refused.status, refused.code, refused.message)

    event = request.headers.get("x-github-event", "").strip()
    guid = request.headers.get("x-github-delivery", "").strip()
    if not event or not guid:
        return _rejected(400, "missing_header", "X-GitHub-Event and X-GitHub-Delivery are required")
    if len(event) > MAX_HEADER_LENGTH or len(guid) > MAX_HEADER_LENGTH:
        return _rejected(400, "invalid_header", "X-GitHub-Event or X-GitHub-Delivery is too long")
    try:
        # orjson: strict UTF-8 JSON, several times faster than json on GitHub's large payloads.
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _rejected(400, "invalid_json", "the body is not UTF-8 JSON")
    if not isinstance(payload, dict):
        return _rejected(400, "invalid_json", "the body is not a JSON object")

    async with state.autocommit_engine.connect() as connection:
        recorded = await record_delivery(
            connection, guid=guid, event=event, body=body, payload=payload
        )
    if recorded.already_processed:
        WEBHOOK_DELIVERIES.labels(outcome="duplicate").inc()
        return JSONResponse({"status": "duplicate", "delivery": guid}, status_code=200)

    # After the commit; if Redis is down the sweeper finds the delivery in Postgres.
    await enqueue(
        state.queue,
        PendingJob(
            "process_delivery", (recorded.inbox_id,), job_id=f"delivery:{recorded.inbox_id}"
        ),
    )
    WEBHOOK_DELIVERIES.labels(outcome="accepted").inc()
    return JSONResponse({"status": "accepted", "delivery": guid}, status_code=202)
