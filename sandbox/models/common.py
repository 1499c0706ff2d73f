"""What both model fakes do the same way: recording requests, reading credentials, counting
tokens, naming ids, and the per-call latency knob."""

from __future__ import annotations

import asyncio
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response

from sandbox.models.state import (
    CREDENTIAL_HEADERS,
    ModelFakeState,
    ProviderName,
    RecordedModelRequest,
)

Handler = Callable[[Request], Awaitable[Response]]

# Roughly how many characters one token covers in English prose and code; real tokenizers
# differ per model, and nothing downstream may depend on the exact figure.
CHARS_PER_TOKEN = 4


def estimate_tokens(*parts: object) -> int:
    chars = sum(len(p if isinstance(p, str) else json.dumps(p)) for p in parts if p)
    return max(1, math.ceil(chars / CHARS_PER_TOKEN))


def random_id(prefix: str, length: int = 24) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def install_recorder(app: FastAPI, state: ModelFakeState, provider: ProviderName) -> None:
    """Record every request (credential headers reduced to a suffix) with its final status,
    and apply the per-call latency before anything is answered."""

    @app.middleware("http")
    async def record(request: Request, call_next: Handler) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        credential = next((headers[h] for h in ("x-api-key", "authorization") if h in headers), "")
        entry = RecordedModelRequest(
            provider=provider,
            method=request.method,
            path=request.url.path,
            headers={k: v for k, v in headers.items() if k not in CREDENTIAL_HEADERS},
            key_suffix=credential[-4:] if credential else None,
            text=body.decode("utf-8", errors="replace"),
        )
        state.requests.append(entry)
        if state.delay_seconds > 0:
            await asyncio.sleep(state.delay_seconds)
            if await request.is_disconnected():
                # The client gave up (a timeout): like a real server, do not go on to answer,
                # so the call takes no scripted fault or reply meant for a later one.
                entry.status = 499
                return Response(status_code=499)
        response = await call_next(request)
        entry.status = response.status_code
        return response


def text_of(content: Any) -> str:
    """The text of a message `content`: a string, or a list of blocks/parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""
