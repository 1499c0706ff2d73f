"""The OpenAI Chat Completions API, faked: `POST /v1/chat/completions` over real HTTP, in
OpenAI's wire format, so the official `openai` SDK can be pointed at it with
`base_url=<root>/v1`.

What it enforces:
- `Authorization: Bearer <key>`; a missing key or one not in `state.api_keys` is a 401
  (`code: "invalid_api_key"` for a wrong one, with the key masked the way OpenAI masks it);
- `model` and `messages` present; a model outside `state.models` (when set) is a 404
  `model_not_found`;
- reasoning models (o-series, GPT-5 and later, not `*-chat-latest`): `max_tokens` is an
  `unsupported_parameter`, a temperature other than 1 is an `unsupported_value` unless
  `reasoning_effort` is "none", and GPT-6-era models (and GPT-5.4+) refuse function tools on
  this endpoint unless `reasoning_effort` is "none";
- `strict: true` function parameters and `json_schema` response formats follow the strict
  rules (strict_schema.py); a forced `tool_choice` names a declared function.

Answers: a tool call gets `choices[0].message.tool_calls[0].function.arguments` as a JSON
string (raw text replies go there verbatim: malformed arguments), `finish_reason` "stop" when
the function was forced by name (as OpenAI does) and "tool_calls" otherwise; structured and
plain answers come back in `message.content`. An answer longer than
`max_completion_tokens` is cut with `finish_reason: "length"`. Errors are
`{"error": {"message", "type", "param", "code"}}` with an `x-request-id` header.
Not faked: streaming (a 400 says so), logprobs, n > 1, audio, the Responses API.
"""

from __future__ import annotations

import json
import time
from typing import Any, NoReturn

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.models.common import estimate_tokens, install_recorder, random_id, text_of
from sandbox.models.state import AnswerMode, Fault, ModelCall, ModelFakeState
from sandbox.models.strict_schema import strict_schema_problem

REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "gpt-6")
# Function tools on Chat Completions need reasoning off for these.
CHAT_TOOLS_NEED_NO_REASONING = ("gpt-6", "gpt-5.4", "gpt-5.5", "gpt-5.6")
KEYS_URL = "https://platform.openai.com/account/api-keys"

DEFAULT_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You are not allowed to sample from this model"),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached in organization org-fake on requests per min (RPM): "
        "Limit 500, Used 500, Requested 1. Please try again in 120ms.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)


class Rejection(Exception):
    def __init__(
        self, status: int, message: str, *, type_: str = "invalid_request_error",
        param: str | None = None, code: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = (
            status, message, type_, param, code,
        )  # fmt: skip


def create_openai_app(state: ModelFakeState) -> FastAPI:
    app = FastAPI(title="OpenAI (fake)", docs_url=None, redoc_url=None, openapi_url=None)
    install_recorder(app, state, "openai")

    @app.exception_handler(StarletteHTTPException)
    async def unrouted(request: Request, _: StarletteHTTPException) -> Response:
        return error_response(404, f"Invalid URL ({request.method} {request.url.path})")

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        try:
            return await _chat_completions(state, request)
        except Rejection as r:
            return error_response(r.status, r.message, type_=r.type, param=r.param, code=r.code)

    return app


def error_response(
    status: int,
    message: str,
    *,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    extra = {"x-request-id": random_id("req_", 32), **(headers or {})}
    return JSONResponse(body, status_code=status, headers=extra)


def fault_response(fault: Fault) -> JSONResponse:
    default_type, default_code, default_message = DEFAULT_ERRORS.get(
        fault.status,
        ("server_error" if fault.status >= 500 else "invalid_request_error", None, "Error"),
    )
    if fault.code == "insufficient_quota":
        default_type, default_message = "insufficient_quota", QUOTA_MESSAGE
    return error_response(
        fault.status,
        fault.message or default_message,
        type_=fault.error_type or default_type,
        code=fault.code or default_code,
        headers=fault.headers,
    )


async def _chat_completions(state: ModelFakeState, request: Request) -> Response:
    _authenticate(state, request)
    fault = state.next_fault()
    if fault is not None:
        return fault_response(fault)
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Rejection(400, "We could not parse the JSON body of your request.")
    call = _validate(state, body)
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    window = state.context_window
    if window is not None:
        tokens = _prompt_tokens(call)
        if tokens + (limit if isinstance(limit, int) else 0) > window:
            raise Rejection(
                400,
                f"This model's maximum context length is {window} tokens. However, your "
                f"messages resulted in {tokens} tokens. Please reduce the length of the messages.",
                param="messages",
                code="context_length_exceeded",
            )
    reply = state.answer(call)
    return _answer(call, reply, limit if isinstance(limit, int) else None)


def _authenticate(state: ModelFakeState, request: Request) -> None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Rejection(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). "
            f"You can obtain an API key from {KEYS_URL}.",
        )
    if key not in state.api_keys:
        masked = f"{key[:3]}{'*' * max(0, len(key) - 7)}{key[-4:]}" if len(key) > 7 else "***"
        raise Rejection(
            401,
            f"Incorrect API key provided: {masked}. You can find your API key at {KEYS_URL}.",
            code="invalid_api_key",
        )


def _is_reasoning(model: str) -> bool:
    return model.startswith(REASONING_PREFIXES) and not model.endswith("-chat-latest")


def _validate(state: ModelFakeState, body: dict[str, Any]) -> ModelCall:
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        _invalid("you must provide a model parameter", param="model")
    if not isinstance(messages, list) or not messages:
        _invalid(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            _invalid(f"Missing required parameter: 'messages[{index}].role'.", f"messages[{index}]")
    if body.get("stream"):
        _invalid("stream: this fake answers non-streaming requests only", "stream")
    if not state.accepts_model(model):
        raise Rejection(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    _check_reasoning_rules(model, body)
    mode, name, schema = _answer_mode(body)
    return ModelCall(
        provider="openai",
        model=model,
        system="\n\n".join(
            text_of(m.get("content")) for m in messages if m["role"] in {"system", "developer"}
        ),
        prompt="\n\n".join(text_of(m.get("content")) for m in messages if m["role"] == "user"),
        mode=mode,
        tool_name=name,
        schema=schema,
        body=body,
    )


def _check_reasoning_rules(model: str, body: dict[str, Any]) -> None:
    if not _is_reasoning(model):
        return
    reasoning_off = body.get("reasoning_effort") == "none"
    if "max_tokens" in body:
        _invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1 and not reasoning_off:
        _invalid(
            f"Unsupported value: 'temperature' does not support {temperature} with this model. "
            "Only the default (1) value is supported.",
            "temperature",
            "unsupported_value",
        )
    if body.get("tools") and model.startswith(CHAT_TOOLS_NEED_NO_REASONING) and not reasoning_off:
        _invalid(
            f"Function tools with reasoning_effort are not supported for {model} in "
            "/v1/chat/completions. Please use /v1/responses instead.",
            "reasoning_effort",
        )


def _answer_mode(body: dict[str, Any]) -> tuple[AnswerMode, str | None, dict[str, Any] | None]:
    functions: dict[str, dict[str, Any]] = {}
    for index, tool in enumerate(body.get("tools") or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            _invalid(f"Missing required parameter: 'tools[{index}].function'.", f"tools[{index}]")
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        if function.get("strict"):
            problem = strict_schema_problem(parameters)
            if problem:
                _invalid(
                    f"Invalid schema for function '{function['name']}': {problem}",
                    f"tools[{index}].function.parameters",
                    "invalid_function_parameters",
                )
        functions[function["name"]] = parameters
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if name not in functions:
            _invalid(
                f"Invalid value for 'tool_choice': function '{name}' is not among the tools.",
                "tool_choice",
            )
        return "tool", name, functions[name]
    if functions and choice in {None, "auto", "required"}:
        # A review prompt with a function on offer: the model calls the first one.
        first = next(iter(functions))
        return "tool", first, functions[first]
    response_format = body.get("response_format") or {"type": "text"}
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        if spec.get("strict"):
            problem = strict_schema_problem(spec.get("schema"))
            if problem:
                _invalid(
                    f"Invalid schema for response_format '{spec.get('name')}': {problem}",
                    "response_format",
                    "invalid_json_schema",
                )
        return "json_schema", spec.get("name"), spec.get("schema")
    return "text", None, None


def _invalid(message: str, param: str | None = None, code: str | None = None) -> NoReturn:
    raise Rejection(400, message, param=param, code=code)


def _prompt_tokens(call: ModelCall) -> int:
    return estimate_tokens(
        call.system, call.prompt, call.body.get("tools"), call.body.get("response_format")
    )


def _answer(call: ModelCall, reply: Any, limit: int | None) -> Response:
    text = reply if isinstance(reply, str) else json.dumps(reply)
    completion_tokens = estimate_tokens(text)
    forced = isinstance(call.body.get("tool_choice"), dict)
    finish_reason = "stop" if call.mode != "tool" or forced else "tool_calls"
    if limit is not None and completion_tokens > limit:
        text, completion_tokens, finish_reason = text[: limit * 4], limit, "length"
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if call.mode == "tool":
        message["tool_calls"] = [
            {
                "id": random_id("call_"),
                "type": "function",
                "function": {"name": call.tool_name, "arguments": text},
            }
        ]
    else:
        message["content"] = text
    message["annotations"] = []
    prompt_tokens = _prompt_tokens(call)
    body = {
        "id": random_id("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": call.model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_sentinelfake",
    }
    headers = {"x-request-id": random_id("req_", 32), "openai-version": "2020-10-01"}
    return JSONResponse(body, headers=headers)
