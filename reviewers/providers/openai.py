"""The OpenAI adapter: one Chat Completions call per review chunk, through the official SDK.

Chat Completions is the API that OpenAI-compatible endpoints (Azure, gateways, vLLM, Ollama)
actually share, which is why it is used rather than Responses. The answer is requested in
one of two ways (see output.py), both strict:
- "tool" — the function `report_findings` with `strict: true`, forced by `tool_choice`;
- "json_schema" — `response_format: {"type": "json_schema", "json_schema": {"strict": true}}`.
OpenAI's reasoning models (o-series, GPT-5 and later) refuse function tools on Chat
Completions unless reasoning is off, and reject a non-default temperature; for them the
adapter picks "json_schema" and leaves temperature out. Other models, and unknown ones on
compatible endpoints, get the forced strict tool. `mode="json_schema"` forces structured
output for endpoints without tool support.

Strict mode requires a schema in which every object lists all its properties in `required`
and sets `additionalProperties: false`. The engine passes such a schema; it is not rewritten.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2
import openai

from reviewers.providers.base import ModelRequest, ModelResponse, ProviderError
from reviewers.providers.catalog import context_window_for
from reviewers.providers.errors import ErrorWording, parse_retry_after, safe_detail
from reviewers.providers.output import TOOL_DESCRIPTION, TOOL_NAME, OutputMode, parse_json_object
from reviewers.providers.transport import refused_by_guard, sdk_client_options

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "gpt-6")
# GPT-5 chat snapshots are plain chat models despite their family name.
_NON_REASONING_SUFFIX = "-chat-latest"


def is_reasoning_model(model: str) -> bool:
    return model.startswith(_REASONING_PREFIXES) and not model.endswith(_NON_REASONING_SUFFIX)


class OpenAIProvider:
    name = "openai"

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 120,
        context_window: int | None = None,
        *,
        mode: OutputMode | None = None,
        reasoning_effort: str | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self.context_window = context_window or context_window_for("openai", model)
        reasoning = is_reasoning_model(model)
        self.mode: OutputMode = mode or ("json_schema" if reasoning else "tool")
        self._send_temperature = not reasoning or reasoning_effort == "none"
        self._reasoning_effort = reasoning_effort
        self._timeout = timeout
        self._api_key = api_key
        # Explicit base URL: where a workspace's key goes depends on its settings alone,
        # never on OPENAI_BASE_URL in the worker's environment.
        resolved_url = base_url or DEFAULT_BASE_URL
        self._wording = ErrorWording("openai", model, resolved_url, timeout)
        self._client = openai.AsyncOpenAI(
            **sdk_client_options(api_key, resolved_url, timeout, transport)
        )
        # The SDK fills these from OPENAI_ORG_ID / OPENAI_PROJECT_ID; the operator's
        # organisation sent along with a customer's key gets the key rejected.
        self._client.organization = None
        self._client.project = None

    async def complete(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        try:
            # The SDK timeout bounds each read; this bounds the whole call.
            async with asyncio.timeout(self._timeout):
                completion = await self._client.chat.completions.create(**self._params(request))
        except TimeoutError as exc:
            raise self._wording.timed_out() from exc
        except openai.APIError as exc:
            raise self._translate(exc, request) from exc
        return self._response(completion, time.perf_counter() - started)

    async def aclose(self) -> None:
        await self._client.close()

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            # Not `max_tokens`: reasoning models refuse it, and it does not count reasoning.
            "max_completion_tokens": request.max_output_tokens,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.prompt},
            ],
        }
        if self._send_temperature:
            params["temperature"] = request.temperature
        if self._reasoning_effort:
            params["reasoning_effort"] = self._reasoning_effort
        if self.mode == "tool":
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": TOOL_NAME,
                        "description": TOOL_DESCRIPTION,
                        "parameters": request.output_schema,
                        "strict": True,
                    },
                }
            ]
            params["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
            # Strict schemas are not guaranteed across parallel calls; there is only one anyway.
            params["parallel_tool_calls"] = False
        else:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": TOOL_NAME,
                    "description": TOOL_DESCRIPTION,
                    "schema": request.output_schema,
                    "strict": True,
                },
            }
        return params

    def _response(self, completion: Any, latency: float) -> ModelResponse:
        choice = completion.choices[0] if completion.choices else None
        message = choice.message if choice is not None else None
        content = (message.content or "") if message is not None else ""
        arguments = None
        for call in (message.tool_calls or []) if message is not None else []:
            function = getattr(call, "function", None)
            if function is not None and function.name == TOOL_NAME:
                arguments = function.arguments
                break
        raw_text = arguments if arguments is not None else content
        # Some compatible endpoints ignore `tools` and answer in the content; take the JSON
        # there when no call came back. Schema validation downstream decides if it is usable.
        output = parse_json_object(raw_text)
        if message is not None and message.refusal:
            output, raw_text = None, message.refusal
        if choice is not None and choice.finish_reason in {"length", "content_filter"}:
            output = None  # cut off or filtered: whatever parsed is incomplete
        usage = completion.usage
        return ModelResponse(
            output=output,
            raw_text=raw_text,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            model=completion.model or self.model,
            latency_seconds=latency,
        )

    def _translate(self, exc: openai.APIError, request: ModelRequest) -> ProviderError:
        wording = self._wording
        if isinstance(exc, openai.APITimeoutError):
            return wording.timed_out()
        if isinstance(exc, openai.APIConnectionError):
            return wording.not_public() if refused_by_guard(exc) else wording.unreachable()
        if not isinstance(exc, openai.APIStatusError):
            # The response did not parse as a chat completion: not speaking the API.
            return wording.server_error(getattr(exc, "status_code", 502), None)
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers)
        # The SDK's own message embeds the whole body; only the provider's sentence is used.
        said = str(exc.body.get("message") or "") if isinstance(exc.body, dict) else ""
        if status in {401, 403}:
            return wording.rejected_key(status)
        if "insufficient_quota" in {exc.code, exc.type}:
            return wording.out_of_credit(status, "has exceeded its quota")
        if status == 429:
            return wording.rate_limited(status, retry_after)
        if status == 408:
            return wording.timed_out(status)
        if status == 503 and "overloaded" in said.lower():
            return wording.overloaded(status, retry_after)
        if status >= 500 or status == 409:
            return wording.server_error(status, retry_after)
        if (
            exc.code == "context_length_exceeded"
            or status == 413
            or (status == 400 and "maximum context length" in said.lower())
        ):
            return wording.too_long(
                status,
                safe_detail(
                    said, secrets=[self._api_key], request_texts=[request.prompt, request.system]
                ),
            )
        if exc.code == "model_not_found" or (status == 404 and "model" in said.lower()):
            return wording.unknown_model(status)
        detail = safe_detail(
            said, secrets=[self._api_key], request_texts=[request.prompt, request.system]
        )
        return wording.bad_request(status, detail)
