"""The provider adapters, driven through the real `anthropic` and `openai` SDKs against the
model fakes over loopback HTTP: what a review gets back, and what an admin is told when the
provider says no."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from reviewers.output import OUTPUT_SCHEMA
from reviewers.providers.anthropic import AnthropicProvider
from reviewers.providers.base import (
    ModelProvider,
    ModelRequest,
    ProviderError,
    ProviderErrorKind,
)
from reviewers.providers.catalog import ProviderName
from reviewers.providers.factory import DEFAULT_MODELS, create_provider
from reviewers.providers.openai import OpenAIProvider
from sandbox.models import ModelFakeState, serve_anthropic, serve_openai
from sandbox.models.server import free_port

KEY = "sk-test-8f3a1c9b2e7d4f60a5b1"
# The CONTRACT.md output schema in the strict form the engine sends.
FINDING_KEYS = [
    "path", "line_start", "line_end", "severity", "category", "title", "body", "suggestion",
    "confidence",
]  # fmt: skip
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["findings"],
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": FINDING_KEYS,
                "properties": {
                    "path": {"type": "string"},
                    "line_start": {"type": "integer", "minimum": 1},
                    "line_end": {"type": "integer", "minimum": 1},
                    "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                    "category": {"type": "string", "enum": ["bug", "security", "style"]},
                    "title": {"type": "string"},
                    "body": {"type": "string"},
                    "suggestion": {"type": ["string", "null"]},
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                },
            },
        }
    },
}
PROMPT = """Review the changes below.

FILE: src/billing/ratio.py (modified)
@@ -1,3 +1,5 @@ in: def ratio(count, zero)
    1   def ratio(count, zero):
    2 +     # BUG: ignores refunds
    3 +     return count / zero
    4       pass
"""


def request(prompt: str = PROMPT, **overrides: Any) -> ModelRequest:
    values: dict[str, Any] = {
        "system": "You are a careful code reviewer.",
        "prompt": prompt,
        "max_output_tokens": 2048,
        "output_schema": SCHEMA,
    }
    return ModelRequest(**{**values, **overrides})


@dataclass
class Fakes:
    state: ModelFakeState
    anthropic_url: str
    openai_url: str

    def anthropic(self, model: str = "claude-sonnet-5", **kwargs: Any) -> AnthropicProvider:
        return AnthropicProvider(KEY, model, base_url=self.anthropic_url, **kwargs)

    def openai(self, model: str = "gpt-4.1", **kwargs: Any) -> OpenAIProvider:
        return OpenAIProvider(KEY, model, base_url=self.openai_url, **kwargs)


@pytest.fixture(scope="module")
async def served() -> AsyncIterator[Fakes]:
    state = ModelFakeState(api_keys={KEY})
    async with serve_anthropic(state) as anthropic_url, serve_openai(state) as openai_url:
        yield Fakes(state, anthropic_url, openai_url)


@pytest.fixture
def fakes(served: Fakes) -> Fakes:
    served.state.reset()
    served.state.models = None
    return served


async def complete(provider: ModelProvider, req: ModelRequest | None = None) -> Any:
    try:
        return await provider.complete(req or request())
    finally:
        await provider.aclose()


async def failure(
    provider: ModelProvider, req: ModelRequest | None = None, key: str = KEY
) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await complete(provider, req)
    error = caught.value
    # Whatever went wrong, an admin may read this: never the key, never the code under review.
    assert key not in error.message
    assert key[-4:] not in error.message
    assert "refunds" not in error.message
    return error


def both(fakes: Fakes) -> list[ModelProvider]:
    return [fakes.anthropic(), fakes.openai()]


def expected_findings() -> list[tuple[str, int, str, str]]:
    return [
        ("src/billing/ratio.py", 2, "warning", "bug"),
        ("src/billing/ratio.py", 3, "critical", "bug"),
    ]


def summary(output: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    return sorted(
        (f["path"], f["line_start"], f["severity"], f["category"]) for f in output["findings"]
    )


# -- success ---------------------------------------------------------------------------------


async def test_anthropic_forced_tool_returns_findings_and_usage(fakes: Fakes) -> None:
    response = await complete(fakes.anthropic("claude-sonnet-5"))

    assert summary(response.output) == expected_findings()
    assert response.model == "claude-sonnet-5"
    assert response.input_tokens > 0
    assert response.output_tokens > 0
    sent = fakes.state.requests[-1]
    assert sent.body["tool_choice"] == {
        "type": "tool",
        "name": "report_findings",
        "disable_parallel_tool_use": True,
    }
    assert sent.body["tools"][0]["input_schema"] == SCHEMA
    # API version 2026-10-21 refuses sampling parameters, even at their defaults.
    assert "temperature" not in sent.body
    assert sent.headers["anthropic-version"]


async def test_anthropic_model_without_forced_tools_gets_structured_output(
    fakes: Fakes,
) -> None:
    response = await complete(fakes.anthropic("claude-sonnet-5-5"))

    assert summary(response.output) == expected_findings()
    sent = fakes.state.requests[-1].body
    assert "tools" not in sent
    assert "tool_choice" not in sent
    schema = sent["output_config"]["format"]["schema"]
    finding = schema["properties"]["findings"]["items"]["properties"]
    # Anthropic's structured output refuses bounds and type lists; the fake enforces it too.
    assert "minimum" not in finding["line_start"]
    assert {"type": "null"} in finding["suggestion"]["anyOf"]


async def test_the_engines_schema_is_accepted_in_every_mode(fakes: Fakes) -> None:
    providers: list[ModelProvider] = [
        fakes.anthropic("claude-sonnet-5", mode="tool"),
        fakes.anthropic("claude-sonnet-5", mode="json_schema"),
        fakes.openai("gpt-4.1", mode="tool"),
        fakes.openai("gpt-4.1", mode="json_schema"),
    ]
    for provider in providers:
        response = await complete(provider, request(output_schema=OUTPUT_SCHEMA))
        assert summary(response.output) == expected_findings(), provider


async def test_forcing_the_tool_where_anthropic_refuses_it_is_a_bad_request(
    fakes: Fakes,
) -> None:
    error = await failure(fakes.anthropic("claude-sonnet-5-5", mode="tool"))

    assert error.kind is ProviderErrorKind.BAD_REQUEST
    assert "tool_choice" in error.message


async def test_openai_strict_tool_call_returns_findings_and_usage(fakes: Fakes) -> None:
    response = await complete(fakes.openai("gpt-4.1"))

    assert summary(response.output) == expected_findings()
    assert response.model == "gpt-4.1"
    assert response.input_tokens > 0
    assert response.output_tokens > 0
    sent = fakes.state.requests[-1].body
    function = sent["tools"][0]["function"]
    assert function["name"] == "report_findings"
    assert function["strict"] is True
    assert function["parameters"] == SCHEMA  # passed through untouched
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "report_findings"}}
    assert sent["temperature"] == 0.0
    assert sent["max_completion_tokens"] == 2048


async def test_openai_json_schema_mode_uses_structured_output(fakes: Fakes) -> None:
    response = await complete(fakes.openai("gpt-4.1", mode="json_schema"))

    assert summary(response.output) == expected_findings()
    sent = fakes.state.requests[-1].body
    assert "tools" not in sent
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert sent["response_format"]["json_schema"]["schema"] == SCHEMA


async def test_openai_reasoning_model_gets_structured_output_without_temperature(
    fakes: Fakes,
) -> None:
    response = await complete(fakes.openai("gpt-6.2-sol"))

    assert summary(response.output) == expected_findings()
    sent = fakes.state.requests[-1].body
    assert "response_format" in sent
    assert "temperature" not in sent
    assert "max_tokens" not in sent


async def test_forcing_function_tools_on_a_gpt6_model_is_a_bad_request(fakes: Fakes) -> None:
    error = await failure(fakes.openai("gpt-6.2-sol", mode="tool"))

    assert error.kind is ProviderErrorKind.BAD_REQUEST
    assert "Function tools" in error.message


async def test_longer_prompts_report_more_input_tokens(fakes: Fakes) -> None:
    for make in (fakes.anthropic, fakes.openai):
        short = await complete(make(), request())
        long = await complete(make(), request(PROMPT + "\n# context\n" * 400))
        assert long.input_tokens > short.input_tokens


async def test_the_key_travels_only_in_the_auth_header(fakes: Fakes) -> None:
    for provider in both(fakes):
        await complete(provider)

    assert len(fakes.state.requests) == 2
    for sent in fakes.state.requests:
        assert KEY not in sent.text
        assert all(KEY not in value for value in sent.headers.values())
        assert sent.key_suffix == KEY[-4:]


async def test_the_operators_openai_organisation_is_not_sent_with_a_workspace_key(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-operator")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-operator")

    await complete(fakes.openai())

    headers = fakes.state.requests[-1].headers
    assert "openai-organization" not in headers
    assert "openai-project" not in headers


async def test_factory_defaults_reach_the_fakes(fakes: Fakes) -> None:
    cases: list[tuple[ProviderName, str]] = [
        ("anthropic", fakes.anthropic_url),
        ("openai", fakes.openai_url),
    ]
    for name, url in cases:
        provider = create_provider(name, api_key=KEY, model=None, base_url=url)
        assert provider.model == DEFAULT_MODELS[name]
        response = await complete(provider)
        assert summary(response.output) == expected_findings()
        assert response.model == DEFAULT_MODELS[name]


# -- answers that are not usable -------------------------------------------------------------


async def test_anthropic_text_instead_of_a_tool_call_keeps_the_text(fakes: Fakes) -> None:
    fakes.state.respond_with("I'd rather not use the tool.")

    response = await complete(fakes.anthropic())

    assert response.output is None
    assert response.raw_text == "I'd rather not use the tool."


async def test_openai_malformed_arguments_keep_the_raw_text(fakes: Fakes) -> None:
    fakes.state.respond_with('{"findings": [{"path": "a.py", "line_start": ')

    response = await complete(fakes.openai())

    assert response.output is None
    assert response.raw_text == '{"findings": [{"path": "a.py", "line_start": '
    assert response.output_tokens > 0


async def test_openai_json_schema_mode_malformed_content(fakes: Fakes) -> None:
    fakes.state.respond_with("Here are my findings: none.")

    response = await complete(fakes.openai(mode="json_schema"))

    assert response.output is None
    assert response.raw_text == "Here are my findings: none."


async def test_an_answer_cut_off_at_max_tokens_is_not_used(fakes: Fakes) -> None:
    long_answer = {"findings": [{"path": "a.py", "body": "x" * 400}]}
    for provider in [*both(fakes), fakes.anthropic("claude-sonnet-5-5")]:
        fakes.state.respond_with(long_answer)
        response = await complete(provider, request(max_output_tokens=20))
        assert response.output is None, provider
        assert response.raw_text


async def test_a_scripted_answer_is_returned_as_is(fakes: Fakes) -> None:
    answer = {"findings": [], "notes": "extra keys are the engine's business"}
    for provider in both(fakes):
        fakes.state.respond_with(answer)
        response = await complete(provider)
        assert response.output == answer


# -- errors ---------------------------------------------------------------------------------


async def test_a_rejected_key_is_an_actionable_auth_error(fakes: Fakes) -> None:
    revoked = "sk-revoked-77c2e41d09ab3f58"
    for provider, label in (
        (AnthropicProvider(revoked, "claude-sonnet-5", base_url=fakes.anthropic_url), "Anthropic"),
        (OpenAIProvider(revoked, "gpt-4.1", base_url=fakes.openai_url), "OpenAI"),
    ):
        error = await failure(provider, key=revoked)
        assert error.kind is ProviderErrorKind.AUTH
        assert not error.kind.transient
        assert error.status_code == 401
        assert error.message == (
            f"the {label} key was rejected (401): replace it in workspace settings"
        )


async def test_rate_limits_are_transient_and_carry_retry_after(fakes: Fakes) -> None:
    for provider in both(fakes):
        fakes.state.fail_next(429, headers={"retry-after": "7"})
        error = await failure(provider)
        assert error.kind is ProviderErrorKind.RATE_LIMITED
        assert error.kind.transient
        assert error.retry_after == 7.0
        assert error.status_code == 429


async def test_retry_after_as_an_http_date(fakes: Fakes) -> None:
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    fakes.state.fail_next(429, headers={"retry-after": later})

    error = await failure(fakes.anthropic())

    assert error.retry_after is not None
    assert 100 < error.retry_after <= 120


async def test_anthropic_overloaded_529(fakes: Fakes) -> None:
    fakes.state.fail_next(529)

    error = await failure(fakes.anthropic())

    assert error.kind is ProviderErrorKind.OVERLOADED
    assert error.kind.transient
    assert error.status_code == 529
    assert "overloaded" in error.message


async def test_server_errors_are_transient(fakes: Fakes) -> None:
    for provider in both(fakes):
        fakes.state.fail_next(500)
        error = await failure(provider)
        assert error.kind is ProviderErrorKind.SERVER
        assert error.kind.transient
        assert error.status_code == 500


async def test_openai_overloaded_503(fakes: Fakes) -> None:
    fakes.state.fail_next(503)

    error = await failure(fakes.openai())

    assert error.kind is ProviderErrorKind.OVERLOADED


async def test_a_slow_answer_times_out(fakes: Fakes) -> None:
    fakes.state.delay_seconds = 1.0
    for make in (fakes.anthropic, fakes.openai):
        error = await failure(make(timeout=0.2))
        assert error.kind is ProviderErrorKind.TIMEOUT
        assert error.kind.transient
        assert "0.2 s" in error.message


async def test_an_unreachable_endpoint_is_a_connection_error() -> None:
    closed = f"http://user:secret@127.0.0.1:{free_port()}/gateway/token123"
    for provider in (
        AnthropicProvider(KEY, "claude-sonnet-5", base_url=closed),
        OpenAIProvider(KEY, "gpt-4.1", base_url=closed),
    ):
        error = await failure(provider)
        assert error.kind is ProviderErrorKind.CONNECTION
        assert error.kind.transient
        # The host tells the admin where; credentials some gateways embed stay out.
        assert "127.0.0.1" in error.message
        assert "secret" not in error.message
        assert "token123" not in error.message


async def test_openai_insufficient_quota_is_permanent(fakes: Fakes) -> None:
    fakes.state.fail_next(429, code="insufficient_quota")

    error = await failure(fakes.openai())

    assert error.kind is ProviderErrorKind.QUOTA
    assert not error.kind.transient
    assert "quota" in error.message


@pytest.mark.parametrize(
    ("status", "message", "code"),
    [
        (400, "Your credit balance is too low to access the Anthropic API.", None),
        (402, None, None),
        (429, "Monthly spend limit reached.", "enforced_spend_limit_reached"),
    ],
)
async def test_anthropic_out_of_credit_is_permanent(
    fakes: Fakes, status: int, message: str | None, code: str | None
) -> None:
    fakes.state.fail_next(status, message=message, code=code)

    error = await failure(fakes.anthropic())

    assert error.kind is ProviderErrorKind.QUOTA
    assert not error.kind.transient
    assert error.message.startswith("the Anthropic account")


async def test_an_unknown_model_is_named(fakes: Fakes) -> None:
    fakes.state.models = {"claude-sonnet-5", "gpt-4.1"}
    for provider in (fakes.anthropic("claude-sonet-5"), fakes.openai("gpt-4.2")):
        error = await failure(provider)
        assert error.kind is ProviderErrorKind.BAD_REQUEST
        assert error.status_code == 404
        assert f"'{provider.model}'" in error.message


async def test_a_prompt_over_the_window_is_too_long_not_a_bad_request(fakes: Fakes) -> None:
    fakes.state.fail_next(400, message="prompt is too long: 210000 tokens > 200000 maximum")
    error = await failure(fakes.anthropic())
    assert error.kind is ProviderErrorKind.TOO_LONG
    assert "prompt is too long: 210000 tokens > 200000 maximum" in error.message
    fakes.state.fail_next(
        400,
        message="This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in 130512 tokens.",
        code="context_length_exceeded",
    )
    error = await failure(fakes.openai())
    assert error.kind is ProviderErrorKind.TOO_LONG


async def test_a_bad_request_says_why_without_quoting_the_prompt(fakes: Fakes) -> None:
    fakes.state.fail_next(400, message="max_tokens: 900000 > 64000, the maximum for this model")
    error = await failure(fakes.anthropic())
    assert error.kind is ProviderErrorKind.BAD_REQUEST
    assert "max_tokens: 900000 > 64000" in error.message

    # A provider quoting the request back: the quote would leak code into the run's reason.
    echo = "messages.0.content: unexpected text " + PROMPT.splitlines()[2]
    fakes.state.fail_next(400, message=echo)
    error = await failure(fakes.anthropic())
    assert error.kind is ProviderErrorKind.BAD_REQUEST
    assert "src/billing" not in error.message
    assert error.message.endswith("(400)")


async def test_a_schema_openai_strict_mode_refuses_is_reported(fakes: Fakes) -> None:
    loose = {"type": "object", "properties": {"findings": {"type": "array"}}}

    error = await failure(fakes.openai(), request(output_schema=loose))

    assert error.kind is ProviderErrorKind.BAD_REQUEST
    assert "additionalProperties" in error.message
