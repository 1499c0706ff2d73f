"""`POST /webhooks/github`: verify, record, acknowledge. Processing happens in the worker.

Order matters: the signature is checked on the raw bytes before anything is parsed, and the
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
from app.github.signature import signature_is_valid
from app.metrics import WEBHOOK_DELIVERIES
from app.queue import PendingJob, enqueue
from app.resources import resources

log = structlog.get_logger(__name__)

router = APIRouter()

# GitHub caps payloads at 25 MB; anything larger is not from GitHub.
MAX_BODY_BYTES = 25 * 1024 * 1024
MAX_HEADER_LENGTH = 200


class BodyTooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


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
        413: {"description": "Larger than GitHub's 25 MB limit"},
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
        body = await _read_body(request)
    except BodyTooLarge:
        return _rejected(413, "payload_too_large", "the body exceeds GitHub's 25 MB limit")

    if not signature_is_valid(secret, body, request.headers.get("x-hub-signature-256")):
        return _rejected(
            401, "invalid_signature", "missing or wrong X-Hub-Signature-256 (sha256=...)"
        )

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
