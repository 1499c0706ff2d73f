"""The adapters' pure parts: model tables, schema shaping, answer and header parsing, and the
redaction that keeps keys and code out of error messages."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest

from reviewers.providers.anthropic import forced_tool_supported
from reviewers.providers.anthropic_schema import structured_output_schema
from reviewers.providers.catalog import context_window_for
from reviewers.providers.errors import endpoint_label, parse_retry_after, safe_detail
from reviewers.providers.factory import DEFAULT_MODELS, create_provider
from reviewers.providers.openai import is_reasoning_model
from reviewers.providers.output import parse_json_object

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "30"}, 30.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "30"}, 0.25),
        ({"retry-after": email.utils.formatdate(NOW + 90, usegmt=True)}, 90.0),
        ({"retry-after": email.utils.formatdate(NOW - 90, usegmt=True)}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == seconds


def test_safe_detail_redacts_keys_and_drops_quotes_of_the_request() -> None:
    key = "sk-live-abcdef0123456789"
    prompt = "def charge(card):\n    return gateway.charge(card, amount=total)\n"

    assert safe_detail(f"key {key} is bad", secrets=[key], request_texts=[prompt]) == (
        "key [redacted] is bad"
    )
    assert safe_detail("other key sk-proj-Zz9Zz9Zz9Zz9", secrets=[], request_texts=[]) == (
        "other key [redacted]"
    )
    quoting = "messages.0: unexpected 'return gateway.charge(card, amount=total)'"
    assert safe_detail(quoting, secrets=[key], request_texts=[prompt]) is None
    assert safe_detail("", secrets=[], request_texts=[]) is None
    assert len(safe_detail("x " * 500, secrets=[], request_texts=[]) or "") == 200


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://api.anthropic.com", "https://api.anthropic.com"),
        ("https://user:pw@gateway.example:8443/route/tok_abc/v1", "https://gateway.example:8443"),
        ("http://127.0.0.1:9000/v1", "http://127.0.0.1:9000"),
        ("http://[::1]:9000/v1", "http://[::1]:9000"),
        ("https://[2001:db8::5]/v1", "https://[2001:db8::5]"),
    ],
)
def test_endpoint_label_keeps_only_scheme_host_and_port(url: str, label: str) -> None:
    assert endpoint_label(url) == label


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ('{"findings": []}', {"findings": []}),
        ('  \n```json\n{"findings": []}\n```\n', {"findings": []}),
        ("[1, 2]", None),
        ('Sure! {"findings": []}', None),
        ('{"findings": [', None),
        ("", None),
        (None, None),
    ],
)
def test_parse_json_object(text: str | None, parsed: dict[str, Any] | None) -> None:
    assert parse_json_object(text) == parsed


def test_structured_output_schema_fits_anthropic_without_changing_the_input() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["n", "note"],
        "properties": {
            "n": {"type": "integer", "minimum": 1, "description": "count"},
            "note": {"type": ["string", "null"], "maxLength": 10},
        },
    }
    original = repr(schema)

    shaped = structured_output_schema(schema)

    assert repr(schema) == original
    n, note = shaped["properties"]["n"], shaped["properties"]["note"]
    assert n == {"type": "integer", "description": "count\n\n{minimum: 1}"}
    assert {"type": "null"} in note["anyOf"]
    assert shaped["required"] == ["n", "note"]
    assert shaped["additionalProperties"] is False


@pytest.mark.parametrize(
    ("model", "supported"),
    [
        ("claude-sonnet-5", True),
        ("claude-sonnet-4-5-20250929", True),
        ("claude-opus-4-8", True),
        ("claude-sonnet-5-5", False),
        ("claude-opus-5-5", False),
        ("claude-fable-5-1", False),
        ("claude-fable-5", True),
        ("my-gateway/claude", True),
    ],
)
def test_which_claude_models_take_a_forced_tool(model: str, supported: bool) -> None:
    assert forced_tool_supported(model) is supported


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [
        ("gpt-6.2-sol", True),
        ("gpt-5", True),
        ("o3", True),
        ("gpt-5-chat-latest", False),
        ("gpt-4.1", False),
        ("llama-3.3-70b", False),
    ],
)
def test_which_openai_models_reason(model: str, reasoning: bool) -> None:
    assert is_reasoning_model(model) is reasoning


@pytest.mark.parametrize(
    ("provider", "model", "window"),
    [
        ("anthropic", "claude-sonnet-5-5", 1_000_000),
        ("anthropic", "claude-opus-5-5-20260922", 1_000_000),
        ("anthropic", "claude-sonnet-4-5-20250929", 200_000),
        ("anthropic", "claude-mystery-9", 200_000),
        ("anthropic", "minimax-m3", 128_000),
        ("openai", "gpt-6.2-sol", 1_050_000),
        ("openai", "gpt-5-mini", 400_000),
        ("openai", "gpt-4.1-mini", 1_047_576),
        ("openai", "my-azure-deployment", 128_000),
    ],
)
def test_context_windows(provider: Any, model: str, window: int) -> None:
    assert context_window_for(provider, model) == window


async def test_factory_builds_each_provider_with_its_defaults() -> None:
    anthropic = create_provider("anthropic", api_key="sk-a", model=None, base_url=None)
    openai = create_provider("openai", api_key="sk-o", model="gpt-4.1", base_url=None)
    try:
        assert (anthropic.name, anthropic.model) == ("anthropic", DEFAULT_MODELS["anthropic"])
        assert anthropic.context_window == 1_000_000
        assert (openai.name, openai.model, openai.context_window) == (
            "openai",
            "gpt-4.1",
            1_047_576,
        )
        configured = create_provider(
            "openai", api_key="sk-o", model="gpt-4.1", base_url=None, context_window=32_000
        )
        assert configured.context_window == 32_000
        await configured.aclose()
    finally:
        await anthropic.aclose()
        await openai.aclose()

    with pytest.raises(ValueError, match="unknown model provider 'gemini'"):
        create_provider("gemini", api_key="k", model=None, base_url=None)  # type: ignore[arg-type]


async def test_the_environment_never_redirects_a_workspace_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://operator-gateway.example")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://operator-gateway.example/v1")

    anthropic = create_provider("anthropic", api_key="sk-a", model=None, base_url=None)
    openai = create_provider("openai", api_key="sk-o", model=None, base_url=None)
    try:
        assert str(anthropic._client.base_url) == "https://api.anthropic.com"  # type: ignore[attr-defined]
        assert str(openai._client.base_url) == "https://api.openai.com/v1/"  # type: ignore[attr-defined]
    finally:
        await anthropic.aclose()
        await openai.aclose()
