"""The model fakes themselves: they refuse what Anthropic and OpenAI refuse, answer in their
wire formats, and review prompts in the format the renderer produces. Raw HTTP here, so the
rules are checked even where the SDKs would never break them."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reviewers.diff import parse_unified_diff
from reviewers.render import render_diff
from sandbox.models import ModelFakeState, PromptReviewer, serve_anthropic, serve_openai

KEY = "sk-fake-1b2c3d4e5f6a7b8c"
VERSION = "2026-10-21"
AUTH, INVALID = "authentication_error", "invalid_request_error"
ANTHROPIC_HEADERS = {"x-api-key": KEY, "anthropic-version": VERSION}
OPENAI_HEADERS = {"authorization": f"Bearer {KEY}"}
MESSAGE: dict[str, Any] = {
    "model": "claude-sonnet-5",
    "max_tokens": 512,
    "messages": [{"role": "user", "content": "FILE: a.py\n    3 + x = 1 / zero\n"}],
}
CHAT: dict[str, Any] = {
    "model": "gpt-4.1",
    "messages": [{"role": "user", "content": "FILE: a.py\n    3 + x = 1 / zero\n"}],
}


@pytest.fixture(scope="module")
async def urls() -> AsyncIterator[tuple[ModelFakeState, str, str]]:
    state = ModelFakeState(api_keys={KEY})
    async with serve_anthropic(state) as anthropic_url, serve_openai(state) as openai_url:
        yield state, anthropic_url, openai_url


@pytest.fixture
async def http(
    urls: tuple[ModelFakeState, str, str],
) -> AsyncIterator[tuple[ModelFakeState, httpx.AsyncClient, str, str]]:
    state, anthropic_url, openai_url = urls
    state.reset()
    async with httpx.AsyncClient() as client:
        yield state, client, anthropic_url, openai_url


Http = tuple[ModelFakeState, httpx.AsyncClient, str, str]


async def anthropic_post(
    http: Http, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    _, client, url, _ = http
    sent = ANTHROPIC_HEADERS if headers is None else headers
    return await client.post(f"{url}/v1/messages", json=body, headers=sent)


async def openai_post(
    http: Http, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    _, client, _, url = http
    sent = OPENAI_HEADERS if headers is None else headers
    return await client.post(f"{url}/chat/completions", json=body, headers=sent)


def anthropic_error(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    assert body["type"] == "error"
    assert response.headers["request-id"] == body["request_id"]
    return body["error"]["type"], body["error"]["message"]


def openai_error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["x-request-id"].startswith("req_")
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


# -- Anthropic ------------------------------------------------------------------------------


async def test_anthropic_answers_a_plain_message_with_a_review(http: Http) -> None:
    response = await anthropic_post(http, MESSAGE)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "message"
    assert body["role"] == "assistant"
    assert body["id"].startswith("msg_")
    assert body["stop_reason"] == "end_turn"
    answer = json.loads(body["content"][0]["text"])
    assert [(f["path"], f["line_start"]) for f in answer["findings"]] == [("a.py", 3)]
    assert body["usage"]["input_tokens"] > 0


async def test_anthropic_forced_tool_answers_with_tool_use(http: Http) -> None:
    schema = {"type": "object", "properties": {"findings": {"type": "array"}}}
    body = {
        **MESSAGE,
        "tools": [{"name": "report_findings", "input_schema": schema}],
        "tool_choice": {"type": "tool", "name": "report_findings"},
    }
    response = await anthropic_post(http, body)

    message = response.json()
    assert message["stop_reason"] == "tool_use"
    block = message["content"][0]
    assert block["type"] == "tool_use"
    assert block["name"] == "report_findings"
    assert block["id"].startswith("toolu_")
    assert block["input"]["findings"][0]["category"] == "bug"


@pytest.mark.parametrize(
    ("headers", "status", "error_type", "message"),
    [
        ({"anthropic-version": VERSION}, 401, AUTH, "x-api-key header is required"),
        ({"x-api-key": "sk-other", "anthropic-version": VERSION}, 401, AUTH, "invalid x-api-key"),
        ({"x-api-key": KEY}, 400, INVALID, "anthropic-version: header is required"),
        ({"x-api-key": KEY, "anthropic-version": "2024-01-01"}, 400, INVALID, "not a valid"),
    ],
)  # fmt: skip
async def test_anthropic_checks_credentials_then_version(
    http: Http, headers: dict[str, str], status: int, error_type: str, message: str
) -> None:
    response = await anthropic_post(http, MESSAGE, headers)

    assert response.status_code == status
    got_type, got_message = anthropic_error(response)
    assert got_type == error_type
    assert message in got_message


async def test_anthropic_accepts_a_bearer_key_as_the_2x_sdks_send_it(http: Http) -> None:
    headers = {"authorization": f"Bearer {KEY}", "anthropic-version": "2026-10-21"}

    response = await anthropic_post(http, MESSAGE, headers)

    assert response.status_code == 200


async def test_anthropic_sampling_parameters_depend_on_the_api_version(http: Http) -> None:
    with_temperature = {**MESSAGE, "temperature": 0.0}

    refused = await anthropic_post(http, with_temperature)
    older = await anthropic_post(
        http, with_temperature, {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    )

    assert refused.status_code == 400
    assert anthropic_error(refused)[1] == "temperature: Extra inputs are not permitted"
    assert older.status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_tokens": None}, "max_tokens: Field required"),
        ({"messages": []}, "messages: at least one message is required"),
        ({"stream": True}, "non-streaming"),
        ({"tool_choice": {"type": "tool", "name": "nope"}}, "tool_choice.name"),
        (
            {"output_config": {"format": {"type": "json_schema", "schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"],
            }}}},
            "For 'integer' type, property 'minimum' is not supported",
        ),
        (
            {"output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}},
            "'additionalProperties' must be explicitly set to false",
        ),
    ],
)  # fmt: skip
async def test_anthropic_refuses_malformed_bodies(
    http: Http, change: dict[str, Any], message: str
) -> None:
    body = {**MESSAGE, **change}
    body = {k: v for k, v in body.items() if v is not None}

    response = await anthropic_post(http, body)

    assert response.status_code == 400
    assert message in anthropic_error(response)[1]


async def test_anthropic_unknown_model_is_a_404_naming_it(http: Http) -> None:
    state = http[0]
    state.models = {"claude-sonnet-5"}
    try:
        response = await anthropic_post(http, {**MESSAGE, "model": "claude-sonnet-9"})
    finally:
        state.models = None

    assert response.status_code == 404
    assert anthropic_error(response) == ("not_found_error", "model: claude-sonnet-9")


async def test_anthropic_faults_use_anthropic_wording_and_headers(http: Http) -> None:
    state = http[0]
    state.fail_next(529)
    state.fail_next(429)
    state.fail_next(429, code="enforced_spend_limit_reached", message="Spend limit reached.")

    overloaded = await anthropic_post(http, MESSAGE)
    limited = await anthropic_post(http, MESSAGE)
    capped = await anthropic_post(http, MESSAGE)
    fine = await anthropic_post(http, MESSAGE)

    assert overloaded.status_code == 529
    assert anthropic_error(overloaded) == ("overloaded_error", "Overloaded")
    assert limited.headers["retry-after"] == "1"
    assert anthropic_error(limited)[0] == "rate_limit_error"
    assert "retry-after" not in capped.headers
    assert capped.json()["error"]["details"] == {"error_code": "enforced_spend_limit_reached"}
    assert fine.status_code == 200


async def test_anthropic_unknown_route(http: Http) -> None:
    _, client, url, _ = http

    response = await client.post(f"{url}/v1/complete", json={}, headers=ANTHROPIC_HEADERS)

    assert response.status_code == 404
    assert anthropic_error(response)[0] == "not_found_error"


# -- OpenAI ---------------------------------------------------------------------------------


async def test_openai_answers_a_forced_function_with_arguments_as_a_string(http: Http) -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["findings"],
        "properties": {
            "findings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {},
                    "required": [],
                },
            }
        },
    }
    body = {
        **CHAT,
        "tools": [
            {
                "type": "function",
                "function": {"name": "report_findings", "parameters": schema, "strict": True},
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "report_findings"}},
    }

    response = await openai_post(http, body)

    completion = response.json()
    assert completion["object"] == "chat.completion"
    choice = completion["choices"][0]
    # OpenAI ends a call forced by name with "stop", not "tool_calls".
    assert choice["finish_reason"] == "stop"
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function"
    assert isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"])["findings"][0]["line_start"] == 3
    usage = completion["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_openai_credentials(http: Http) -> None:
    missing = await openai_post(http, CHAT, {})
    wrong = await openai_post(http, CHAT, {"authorization": "Bearer sk-proj-wrongwrongwrong9z9z"})

    assert missing.status_code == 401
    assert "didn't provide an API key" in openai_error(missing)["message"]
    assert wrong.status_code == 401
    error = openai_error(wrong)
    assert error["code"] == "invalid_api_key"
    # Masked the way OpenAI masks it: a prefix and the last four characters.
    assert "sk-" in error["message"]
    assert "9z9z" in error["message"]
    assert "wrongwrong" not in error["message"]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({**CHAT, "model": "gpt-6.2-sol", "max_tokens": 10}, "max_tokens", "unsupported_parameter"),
        ({**CHAT, "model": "gpt-6.2-sol", "temperature": 0}, "temperature", "unsupported_value"),
        (
            {**CHAT, "model": "gpt-6.2-sol",
             "tools": [{"type": "function", "function": {"name": "f"}}]},
            "reasoning_effort", None,
        ),
        (
            {**CHAT, "response_format": {"type": "json_schema", "json_schema": {
                "name": "r", "strict": True,
                "schema": {"type": "object", "additionalProperties": False,
                           "properties": {"a": {"type": "string"}}, "required": []},
            }}},
            "response_format", "invalid_json_schema",
        ),
        ({"model": "gpt-4.1"}, "messages", "missing_required_parameter"),
    ],
)  # fmt: skip
async def test_openai_refuses_what_openai_refuses(
    http: Http, body: dict[str, Any], param: str, code: str | None
) -> None:
    response = await openai_post(http, body)

    assert response.status_code == 400
    error = openai_error(response)
    assert error["param"] == param
    assert error["code"] == code


async def test_openai_reasoning_off_allows_temperature_and_tools(http: Http) -> None:
    body = {
        **CHAT,
        "model": "gpt-6.2-sol",
        "reasoning_effort": "none",
        "temperature": 0,
        "tools": [{"type": "function", "function": {"name": "f"}}],
    }

    response = await openai_post(http, body)

    assert response.status_code == 200
    assert response.json()["choices"][0]["finish_reason"] == "tool_calls"


async def test_openai_faults(http: Http) -> None:
    state = http[0]
    state.fail_next(429, code="insufficient_quota")
    state.fail_next(429, headers={"retry-after-ms": "250"})

    quota = await openai_post(http, CHAT)
    limited = await openai_post(http, CHAT)

    assert openai_error(quota)["type"] == "insufficient_quota"
    assert "exceeded your current quota" in openai_error(quota)["message"]
    assert openai_error(limited)["code"] == "rate_limit_exceeded"
    assert limited.headers["retry-after-ms"] == "250"


async def test_openai_unknown_route_and_model(http: Http) -> None:
    _, client, _, url = http
    state = http[0]
    state.models = {"gpt-4.1"}
    try:
        route = await client.post(f"{url}/responses", json={}, headers=OPENAI_HEADERS)
        model = await openai_post(http, {**CHAT, "model": "gpt-4.2"})
    finally:
        state.models = None

    assert route.status_code == 404
    assert openai_error(route)["message"] == "Invalid URL (POST /v1/responses)"
    assert model.status_code == 404
    assert openai_error(model)["code"] == "model_not_found"


# -- recording and scripting ----------------------------------------------------------------


async def test_requests_are_recorded_without_credentials(http: Http) -> None:
    state = http[0]
    await anthropic_post(http, MESSAGE)
    await openai_post(http, CHAT, {"authorization": "Bearer sk-nope-00001234"})

    first, second = state.requests
    assert (first.provider, first.path, first.status) == ("anthropic", "/v1/messages", 200)
    assert (second.provider, second.status, second.key_suffix) == ("openai", 401, "1234")
    assert first.body["model"] == "claude-sonnet-5"
    for recorded in state.requests:
        assert "x-api-key" not in recorded.headers
        assert "authorization" not in recorded.headers
        assert KEY not in json.dumps(recorded.headers)
    assert [call.provider for call in state.calls] == ["anthropic"]


async def test_scripted_replies_can_echo_the_prompt(http: Http) -> None:
    state = http[0]
    state.respond_with(lambda call: {"findings": [], "echo": call.prompt})

    response = await anthropic_post(http, MESSAGE)

    echoed = json.loads(response.json()["content"][0]["text"])["echo"]
    assert echoed == MESSAGE["messages"][0]["content"]


# -- the default reviewer -------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "FILE: src/app.py (modified)\n@@ -1,2 +1,3 @@\n    7 + y = x / zero\n",
        "### File: src/app.py\n  7 + y = x / zero\n",
        '<file path="src/app.py">\n7 | + y = x / zero\n</file>\n',
        "diff --git a/src/app.py b/src/app.py\n+++ b/src/app.py\n  6   7 + y = x / zero\n",
        "## src/app.py\n7: +y = x / zero\n",
    ],
)
def test_the_reviewer_reads_the_usual_prompt_formats(prompt: str) -> None:
    findings = PromptReviewer().review(prompt)["findings"]

    assert [(f["path"], f["line_start"], f["title"]) for f in findings] == [
        ("src/app.py", 7, "Division by zero")
    ]


def test_the_reviewer_flags_markers_on_added_lines_only() -> None:
    prompt = "\n".join(
        [
            "FILE: lib/x.py (modified)",
            "   10   # BUG: context line, not part of the change",
            "         - # FIXME removed line",
            "   11 + # BUG: off by one when the list is empty",
            "   12 + # FIXME: rename",
            "   13 + token = ''  # SECURITY: hard-coded credential",
            "   14 + fine = 1",
        ]
    )

    findings = PromptReviewer().review(prompt)["findings"]

    assert [(f["line_start"], f["severity"], f["category"]) for f in findings] == [
        (11, "warning", "bug"),
        (12, "info", "maintainability"),
        (13, "critical", "security"),
    ]
    assert findings[0]["body"].endswith("off by one when the list is empty")
    assert set(findings[0]) == {
        "path", "line_start", "line_end", "severity", "category", "title", "body",
        "suggestion", "confidence",
    }  # fmt: skip


def test_the_reviewer_patterns_are_replaceable() -> None:
    reviewer = PromptReviewer(
        file_headers=[re.compile(r"^=== (?P<path>\S+) ===$")],
        added_lines=[re.compile(r"^L(?P<line>\d+)> (?P<code>.*)$")],
    )

    findings = reviewer.review("=== a/b.go ===\nL4> q := n / zero\n")["findings"]

    assert [(f["path"], f["line_start"]) for f in findings] == [("a/b.go", 4)]


def test_the_reviewer_reads_what_the_renderer_writes() -> None:
    diff = (
        "diff --git a/pkg/calc.py b/pkg/calc.py\n"
        "--- a/pkg/calc.py\n"
        "+++ b/pkg/calc.py\n"
        "@@ -1,3 +1,4 @@\n"
        " def mean(xs):\n"
        "-    return sum(xs) / len(xs)\n"
        "+    zero = 0\n"
        "+    return sum(xs) / zero  # FIXME: handle empty lists\n"
        "     pass\n"
    )

    findings = PromptReviewer().review(render_diff(parse_unified_diff(diff)))["findings"]

    assert sorted((f["path"], f["line_start"], f["title"]) for f in findings) == [
        ("pkg/calc.py", 3, "Division by zero"),
        ("pkg/calc.py", 3, "Unresolved FIXME"),
    ]
