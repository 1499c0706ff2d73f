"""Builds the configured ModelProvider from a provider name, a key and optional overrides:
the one place the worker and the CLI turn settings into an adapter."""

from __future__ import annotations

import httpx2

from reviewers.providers.anthropic import AnthropicProvider
from reviewers.providers.base import ModelProvider
from reviewers.providers.catalog import DEFAULT_MODELS, ProviderName, context_window_for
from reviewers.providers.openai import OpenAIProvider
from reviewers.providers.output import OutputMode

__all__ = ["DEFAULT_MODELS", "DEFAULT_TIMEOUT", "context_window_for", "create_provider"]

# Seconds for one model call. Long enough for a large chunk on a thinking model; the worker
# turns a timeout into a retry, so a stuck call costs one slot for this long at most.
DEFAULT_TIMEOUT = 120.0


def create_provider(
    name: ProviderName,
    *,
    api_key: str,
    model: str | None = None,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    context_window: int | None = None,
    mode: OutputMode | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> ModelProvider:
    """`model=None` picks DEFAULT_MODELS[name]; `base_url=None` the provider's public API;
    `context_window=None` the catalog's figure for the model; `mode=None` the adapter's choice
    of forced tool or structured output for the model; `transport` a process's shared
    connection pool (transport.py), else the adapter opens one of its own."""
    if name not in DEFAULT_MODELS:
        raise ValueError(f"unknown model provider {name!r}: expected 'anthropic' or 'openai'")
    chosen = model or DEFAULT_MODELS[name]
    if name == "anthropic":
        return AnthropicProvider(
            api_key, chosen, base_url, timeout, context_window, mode=mode, transport=transport
        )
    return OpenAIProvider(
        api_key, chosen, base_url, timeout, context_window, mode=mode, transport=transport
    )
