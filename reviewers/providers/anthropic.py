"""The Anthropic adapter: one Messages API call per review chunk, through the official SDK.

The answer is requested in one of two ways (see output.py):
- "tool" — the `report_findings` tool, forced with `tool_choice: {"type": "tool", ...}`;
- "json_schema" — structured output via `output_config.format`, with the schema reduced
  to the subset Anthropic's structured output accepts (anthropic_schema.py).
Claude Opus 5.5, Sonnet 5.5 and Fable 5.1 answer a forced tool choice with a 400, so for
those (and later generations of their families) the adapter picks "json_schema" unless told
otherwise; every other model, including unknown ones behind an Anthropic-compatible
`base_url`, gets the forced tool.

The SDK (2.x) speaks API version 2026-10-21, which rejects the sampling parameters
(`temperature`, `top_p`, `top_k`) with a 400 even at their defaults; the request's
temperature is therefore not sent. Reviews are kept steady by the prompt and the schema.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import anthropic
import httpx2

from reviewers.providers.anthropic_schema import structured_output_schema
from reviewers.providers.base import ModelRequest, ModelResponse, ProviderError
from reviewers.providers.catalog import context_window_for
from reviewers.providers.errors import ErrorWording, parse_retry_after, safe_detail
from reviewers.providers.output import TOOL_DESCRIPTION, TOOL_NAME, OutputMode, parse_json_object
from reviewers.providers.transport import refused_by_guard, sdk_client_options

DEFAULT_BASE_URL = "https://api.anthropic.com"

# Per family, the first version that answers a forced tool choice with a 400.
_NO_FORCED_TOOL_FROM = {"opus": (5, 5), "sonnet": (5, 5), "haiku": (5, 5), "fable": (5, 1)}
_MODEL_ID = re.compile(r"^claude-(?P<family>[a-z]+)-(?P<major>\d)(?:-(?P<minor>\d))?(?:-|$)")

# The 400s that mean "no money", in Anthropic's wording. Phrases, not words: a 400 may quote
# the request, and a path like src/billing/ must not read as an empty account.
_BILLING_WORDS = re.compile(
    r"credit balance|purchase credits|plans & billing|spend limit|usage limit", re.I
)
# Anthropic's words for a request over the model's context window ("prompt is too long: 201234
# tokens > 200000 maximum", or with the output: "input length and `max_tokens` exceed context
# limit").
_TOO_LONG_WORDS = re.compile(r"prompt is too long|exceed context limit|context window", re.I)
# 429s that are spend caps rather than rate limits: retrying does not help until the cap lifts.
_SPEND_LIMIT_CODES = {"enforced_spend_limit_reached", "contract_spend_limit_reached"}


def forced_tool_supported(model: str) -> bool:
    match = _MODEL_ID.match(model)
    if match is None:
        return True
    first = _NO_FORCED_TOOL_FROM.get(match["family"])
    version = (int(match["major"]), int(match["minor"] or 0))
    return first is None or version < first


class AnthropicProvider:
    name = "anthropic"

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 120,
        context_window: int | None = None,
        *,
        mode: OutputMode | None = None,
        effort: str | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self.context_window = context_window or context_window_for("anthropic", model)
        self.mode: OutputMode = mode or ("tool" if forced_tool_supported(model) else "json_schema")
        self._effort = effort
        self._timeout = timeout
        self._api_key = api_key
        # The base URL is always passed explicitly: where a workspace's key is sent must depend
        # on its settings alone, never on ANTHROPIC_BASE_URL in the worker's environment.
        resolved_url = base_url or DEFAULT_BASE_URL
        self._wording = ErrorWording("anthropic", model, resolved_url, timeout)
        self._client = anthropic.AsyncAnthropic(
            **sdk_client_options(api_key, resolved_url, timeout, transport)
        )

    async def complete(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        try:
            # The SDK timeout bounds each read; this bounds the whole call, so a server that
            # trickles bytes cannot hold a worker slot past the deadline.
            async with asyncio.timeout(self._timeout):
                message = await self._client.messages.create(**self._params(request))
        except TimeoutError as exc:
            raise self._wording.timed_out() from exc
        except anthropic.APIError as exc:
            raise self._translate(exc, request) from exc
        return self._response(message, time.perf_counter() - started)

    async def aclose(self) -> None:
        await self._client.close()

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_output_tokens,
            "system": request.system,
            "messages": [{"role": "user", "content": request.prompt}],
        }
        output_config: dict[str, Any] = {}
        if self._effort:
            output_config["effort"] = self._effort
        if self.mode == "tool":
            params["tools"] = [
                {
                    "name": TOOL_NAME,
                    "description": TOOL_DESCRIPTION,
                    "input_schema": request.output_schema,
                }
            ]
            params["tool_choice"] = {
                "type": "tool",
                "name": TOOL_NAME,
                "disable_parallel_tool_use": True,
            }
        else:
            output_config["format"] = {
                "type": "json_schema",
                "schema": structured_output_schema(request.output_schema),
            }
        if output_config:
            params["output_config"] = output_config
        return params

    def _response(self, message: Any, latency: float) -> ModelResponse:
        text = "".join(
            block.text for block in message.content if getattr(block, "type", None) == "text"
        )
        tool_input = next(
            (
                block.input
                for block in message.content
                if getattr(block, "type", None) == "tool_use" and block.name == TOOL_NAME
            ),
            None,
        )
        output: dict[str, Any] | None
        if self.mode == "tool":
            output = tool_input if isinstance(tool_input, dict) else None
        else:
            output = parse_json_object(text)
        # A cut-off or refused answer may still parse; it is incomplete either way.
        if message.stop_reason in {"max_tokens", "refusal", "model_context_window_exceeded"}:
            output = None
        if not text and tool_input is not None:
            text = json.dumps(tool_input, ensure_ascii=False)
        usage = message.usage
        # Cached input is reported apart from `input_tokens`; the model read all of it.
        input_tokens = (
            usage.input_tokens
            + (usage.cache_creation_input_tokens or 0)
            + (usage.cache_read_input_tokens or 0)
        )
        return ModelResponse(
            output=output,
            raw_text=text,
            input_tokens=input_tokens,
            output_tokens=usage.output_tokens,
            model=message.model or self.model,
            latency_seconds=latency,
        )

    def _translate(self, exc: anthropic.APIError, request: ModelRequest) -> ProviderError:
        wording = self._wording
        if isinstance(exc, anthropic.APITimeoutError):
            return wording.timed_out()
        if isinstance(exc, anthropic.APIConnectionError):
            return wording.not_public() if refused_by_guard(exc) else wording.unreachable()
        if not isinstance(exc, anthropic.APIStatusError):
            # The response did not parse as a Message: the endpoint is not speaking the API.
            return wording.server_error(getattr(exc, "status_code", 502), None)
        status = exc.status_code
        error_type = exc.type
        retry_after = parse_retry_after(exc.response.headers)
        said = exc.api_message or ""
        if status in {401, 403} or error_type in {"authentication_error", "permission_error"}:
            return wording.rejected_key(status)
        if status == 402 or error_type == "billing_error":
            return wording.out_of_credit(status)
        if status == 429 and exc.error_code in _SPEND_LIMIT_CODES:
            return wording.out_of_credit(status, "reached its spend limit")
        if status == 429:
            return wording.rate_limited(status, retry_after)
        if status == 529 or error_type == "overloaded_error":
            return wording.overloaded(status, retry_after)
        if status in {408, 504} or error_type == "timeout_error":
            return wording.timed_out(status)
        if status >= 500 or status == 409:
            return wording.server_error(status, retry_after)
        if status == 400 and _BILLING_WORDS.search(said):
            return wording.out_of_credit(status)
        if status == 413 or (status == 400 and _TOO_LONG_WORDS.search(said)):
            return wording.too_long(
                status,
                safe_detail(
                    said, secrets=[self._api_key], request_texts=[request.prompt, request.system]
                ),
            )
        if status == 404 and (error_type == "not_found_error" or "model" in said.lower()):
            return wording.unknown_model(status)
        detail = safe_detail(
            said, secrets=[self._api_key], request_texts=[request.prompt, request.system]
        )
        return wording.bad_request(status, detail)
