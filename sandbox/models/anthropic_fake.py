"""The Anthropic Messages API, faked: `POST /v1/messages` over real HTTP, in Anthropic's wire
format, so the official `anthropic` SDK can be pointed at it with `base_url` (the server root).

What it enforces, in Anthropic's order (credentials, version, then the body):
- a key in `x-api-key`, or `Authorization: Bearer` as the 2.x SDKs send it (x-api-key wins
  when both are present); a key not in `state.api_keys` is a 401 `authentication_error`;
- `anthropic-version` present and known; under 2026-10-21, `temperature`, `top_p` and
  `top_k` are unknown fields like any other ("temperature: Extra inputs are not permitted");
- `model`, `max_tokens` and `messages` present and well-typed; a model outside
  `state.models` (when set) is a 404 `not_found_error` naming it;
- `tool_choice` naming a declared tool; a forced choice (`tool`/`any`) on a model that
  refuses it (Opus 5.5, Sonnet 5.5, Fable 5.1) is a 400;
- `output_config.format` of type `json_schema` with a `schema` object that structured output
  can compile: every object closed with `additionalProperties: false`, and no value bounds
  (`minimum`, `maxLength`, ...: "For 'integer' type, property 'minimum' is not supported").

Answers: a tool on offer gets a `tool_use` block (`stop_reason: "tool_use"`); structured
output and plain requests get a `text` block (`"end_turn"`). A raw-text reply scripted with
`respond_with("...")` comes back as a `text` block even when a tool was forced: the model
misbehaving. An answer longer than `max_tokens` stops with `"max_tokens"`. Usage is estimated
from the request and answer length (common.py).
Errors are `{"type": "error", "error": {"type", "message"[, "details"]}, "request_id"}` with a
`request-id` header. Not faked: streaming (a 400 says so), thinking blocks, prompt caching.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.models.common import estimate_tokens, install_recorder, random_id, text_of
from sandbox.models.state import AnswerMode, Fault, ModelCall, ModelFakeState

SUPPORTED_VERSIONS = ("2023-01-01", "2023-06-01", "2026-10-21")
SAMPLING_REMOVED_IN = "2026-10-21"
SAMPLING_FIELDS = frozenset({"temperature", "top_p", "top_k"})
KNOWN_FIELDS = frozenset(
    {
        "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream",
        "tools", "tool_choice", "output_config", "thinking", "service_tier", "cache_control",
        "container", "diagnostics", "inference_geo", "speed", "user_profile_id",
        "workspace_id", "mcp_servers", "context_management",
    }
)  # fmt: skip
# Models that answer a forced tool choice with a 400 (per Anthropic's migration guides).
NO_FORCED_TOOL_MODELS = frozenset({"claude-opus-5-5", "claude-sonnet-5-5", "claude-fable-5-1"})
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
UNSUPPORTED_SCHEMA_KEYWORDS = (
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "maxItems", "uniqueItems", "minProperties", "maxProperties",
)  # fmt: skip

DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    402: (
        "billing_error",
        "Your credit balance is too low to access the Anthropic API. "
        "Please go to Plans & Billing to upgrade or purchase credits.",
    ),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: (
        "rate_limit_error",
        "This request would exceed your organization's rate limit of 50 requests per minute. "
        "Please try again later.",
    ),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}


class Rejection(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def create_anthropic_app(state: ModelFakeState) -> FastAPI:
    app = FastAPI(title="Anthropic (fake)", docs_url=None, redoc_url=None, openapi_url=None)
    install_recorder(app, state, "anthropic")

    @app.exception_handler(StarletteHTTPException)
    async def unrouted(_: Request, exc: StarletteHTTPException) -> Response:
        return error_response(404, "not_found_error", "Not Found")

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        try:
            return await _messages(state, request)
        except Rejection as rejection:
            return error_response(rejection.status, rejection.error_type, rejection.message)

    return app


def error_response(
    status: int,
    error_type: str,
    message: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = random_id("req_011C")
    error: dict[str, Any] = {"type": error_type, "message": message}
    if code:
        error["details"] = {"error_code": code}
    extra = {"request-id": request_id, **(headers or {})}
    if status in {408, 409, 429} or status >= 500:
        extra.setdefault("x-should-retry", "true")
    body = {"type": "error", "error": error, "request_id": request_id}
    return JSONResponse(body, status_code=status, headers=extra)


def fault_response(fault: Fault) -> JSONResponse:
    default_type, default_message = DEFAULT_ERRORS.get(
        fault.status, ("api_error" if fault.status >= 500 else "invalid_request_error", "Error")
    )
    error_type = fault.error_type or default_type
    headers = dict(fault.headers)
    # Anthropic tells a rate-limited client when to come back; a spend cap has no such time.
    if error_type == "rate_limit_error" and not fault.code:
        headers.setdefault("retry-after", "1")
    return error_response(
        fault.status, error_type, fault.message or default_message, code=fault.code, headers=headers
    )


async def _messages(state: ModelFakeState, request: Request) -> Response:
    _authenticate(state, request)
    version = request.headers.get("anthropic-version")
    if not version:
        raise Rejection(400, "invalid_request_error", "anthropic-version: header is required")
    if version not in SUPPORTED_VERSIONS:
        raise Rejection(
            400, "invalid_request_error", f'anthropic-version: "{version}" is not a valid version'
        )
    fault = state.next_fault()
    if fault is not None:
        return fault_response(fault)
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Rejection(
            400, "invalid_request_error", "There was an error parsing the body of your request."
        )
    call = _validate(state, body, version)
    window = state.context_window
    if window is not None:
        tokens = _input_tokens(call)
        if tokens + body["max_tokens"] > window:
            # Anthropic's wording (the input alone is checked; the output is limited anyway).
            raise Rejection(
                400,
                "invalid_request_error",
                f"prompt is too long: {tokens} tokens > {window} maximum",
            )
    reply = state.answer(call)
    return _answer(call, reply, body["max_tokens"])


def _authenticate(state: ModelFakeState, request: Request) -> None:
    key = request.headers.get("x-api-key")
    if key is None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else None
    if not key:
        raise Rejection(401, "authentication_error", "x-api-key header is required")
    if key not in state.api_keys:
        raise Rejection(401, "authentication_error", "invalid x-api-key")


def _validate(state: ModelFakeState, body: dict[str, Any], version: str) -> ModelCall:
    known = KNOWN_FIELDS if version == SAMPLING_REMOVED_IN else KNOWN_FIELDS | SAMPLING_FIELDS
    for name in body:
        if name not in known:
            _invalid(f"{name}: Extra inputs are not permitted")
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            _invalid(f"{name}: Field required")
    model, max_tokens, messages = body["model"], body["max_tokens"], body["messages"]
    if not isinstance(model, str) or not model:
        _invalid("model: Input should be a valid string")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
        _invalid("max_tokens: Input should be a valid integer, greater than or equal to 0")
    if not isinstance(messages, list) or not messages:
        _invalid("messages: at least one message is required")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in {"user", "assistant"}:
            _invalid(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        if not isinstance(message.get("content"), str | list):
            _invalid(f"messages.{index}.content: Field required")
    if body.get("stream"):
        _invalid("stream: this fake answers non-streaming requests only")
    if not state.accepts_model(model):
        raise Rejection(404, "not_found_error", f"model: {model}")
    mode, tool_name, schema = _answer_mode(body, model)
    system = body.get("system", "")
    return ModelCall(
        provider="anthropic",
        model=model,
        system=text_of(system),
        prompt="\n\n".join(text_of(m["content"]) for m in messages if m["role"] == "user"),
        mode=mode,
        tool_name=tool_name,
        schema=schema,
        body=body,
    )


def _answer_mode(
    body: dict[str, Any], model: str
) -> tuple[AnswerMode, str | None, dict[str, Any] | None]:
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        _invalid("tools: Input should be a valid list")
    schemas: dict[str, dict[str, Any]] = {}
    for index, tool in enumerate(tools):
        name = tool.get("name") if isinstance(tool, dict) else None
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            _invalid(
                f"tools.{index}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
            )
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            _invalid(f"tools.{index}.custom.input_schema.type: Input should be 'object'")
        schemas[name] = schema
    choice = body.get("tool_choice") or {"type": "auto"}
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in {"auto", "any", "tool", "none"}:
        _invalid("tool_choice: Input tag does not match any of the expected tags")
    if kind in {"any", "tool"} and model in NO_FORCED_TOOL_MODELS:
        _invalid(
            f"tool_choice: forced tool use is not supported with {model}; "
            'use tool_choice {"type": "auto"} or structured outputs (output_config.format)'
        )
    if kind == "tool":
        name = choice.get("name")
        if name not in schemas:
            _invalid(f"tool_choice.name: tool '{name}' is not among the tools in this request")
        return "tool", name, schemas[name]
    if kind in {"any", "auto"} and schemas:
        # A review prompt with tools on offer: the model reaches for the first one.
        first = next(iter(schemas))
        return "tool", first, schemas[first]
    output_format = (body.get("output_config") or {}).get("format")
    if output_format is not None:
        if not isinstance(output_format, dict) or output_format.get("type") != "json_schema":
            _invalid("output_config.format.type: Input should be 'json_schema'")
        if not isinstance(output_format.get("schema"), dict):
            _invalid("output_config.format.schema: Field required")
        problem = structured_schema_problem(output_format["schema"])
        if problem:
            _invalid(f"output_config.format.schema: {problem}")
        return "json_schema", None, output_format["schema"]
    return "text", None, None


def structured_schema_problem(node: Any) -> str | None:
    """What Anthropic's structured output refuses in a schema: value bounds it cannot compile
    into a grammar, and objects that leave `additionalProperties` open."""
    if isinstance(node, list):
        return next((p for p in map(structured_schema_problem, node) if p), None)
    if not isinstance(node, dict):
        return None
    kind = node.get("type")
    for keyword in UNSUPPORTED_SCHEMA_KEYWORDS:
        if keyword in node:
            return f"For '{kind}' type, property '{keyword}' is not supported"
    if kind == "object" and node.get("additionalProperties") is not False:
        return "For 'object' type, 'additionalProperties' must be explicitly set to false"
    children = [v for k, v in node.items() if k in {"items", "anyOf", "allOf", "oneOf"}]
    children += [
        v for k in ("properties", "$defs", "definitions") for v in (node.get(k) or {}).values()
    ]
    return next((p for p in map(structured_schema_problem, children) if p), None)


def _invalid(message: str) -> NoReturn:
    raise Rejection(400, "invalid_request_error", message)


def _input_tokens(call: ModelCall) -> int:
    tools_and_format = (call.body.get("tools"), call.body.get("output_config"))
    return estimate_tokens(call.system, call.prompt, *tools_and_format, provider="anthropic")


def _answer(call: ModelCall, reply: Any, max_tokens: int) -> Response:
    text = reply if isinstance(reply, str) else json.dumps(reply)
    output_tokens = estimate_tokens(text, provider="anthropic")
    stop_reason = "end_turn"
    if call.mode == "tool" and isinstance(reply, dict):
        content: list[dict[str, Any]] = [
            {
                "type": "tool_use",
                "id": random_id("toolu_01"),
                "name": call.tool_name,
                "input": reply,
            }
        ]
        stop_reason = "tool_use"
    else:
        content = [{"type": "text", "text": text}]
    if output_tokens > max_tokens:
        stop_reason, output_tokens = "max_tokens", max_tokens
        if content[0]["type"] == "text":
            content[0]["text"] = text[: max_tokens * 4]
    body = {
        "id": random_id("msg_01"),
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": _input_tokens(call),
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    }
    return JSONResponse(body, headers={"request-id": random_id("req_011C")})
