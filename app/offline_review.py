"""`sentinel review PATCH`: the review engine on a diff file, without GitHub or a database.

A model is used when `ANTHROPIC_API_KEY` or `OPENAI_API_KEY` is set (with optional
`ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL` and `SENTINEL_REVIEW_MODEL`); the static reviewers
always run.
"""

from __future__ import annotations

import os

from app.config import Settings
from app.policy.resolve import DEFAULT_MAX_INPUT_TOKENS, DEFAULTS
from reviewers.diff import DiffParseError, FileDiff, parse_unified_diff
from reviewers.engine import PullRequestContext, review
from reviewers.preview import preview, render_preview
from reviewers.pricing import price_for, price_table
from reviewers.providers.base import ModelProvider, ProviderError
from reviewers.providers.catalog import DEFAULT_MODELS, ProviderName, context_window_for
from reviewers.providers.factory import create_provider
from reviewers.report import render_report

MAX_MODEL_CALLS = 20
MAX_OUTPUT_TOKENS = 4096


class OfflineReviewError(Exception):
    pass


def _provider_from_environment() -> tuple[ModelProvider | None, list[str]]:
    model = os.environ.get("SENTINEL_REVIEW_MODEL") or None
    for name, key_var, url_var in (
        ("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
        ("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
    ):
        key = os.environ.get(key_var)
        if key:
            provider = create_provider(
                name,  # type: ignore[arg-type]
                api_key=key,
                model=model,
                base_url=os.environ.get(url_var) or None,
            )
            return provider, [key]
    return None, []


def _parsed(text: str) -> list[FileDiff]:
    try:
        return parse_unified_diff(text)
    except DiffParseError as error:
        raise OfflineReviewError(f"not a unified diff: {error}") from None


def preview_patch(text: str, output_format: str) -> str:
    """The plan of a review of the diff, priced, without calling any model: for the model
    the environment names (the key itself is not needed), else the default Claude model."""
    files = _parsed(text)
    provider_name: ProviderName = "anthropic"
    for name, key_var in (("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY")):
        if os.environ.get(key_var):
            provider_name = name  # type: ignore[assignment]
            break
    model = os.environ.get("SENTINEL_REVIEW_MODEL") or DEFAULT_MODELS[provider_name]
    planned = preview(
        files,
        config=DEFAULTS,
        pr=PullRequestContext(),
        provider=provider_name,
        model=model,
        context_window=context_window_for(provider_name, model),
        max_output_tokens=MAX_OUTPUT_TOKENS,
        max_model_calls=MAX_MODEL_CALLS,
        max_input_tokens=DEFAULT_MAX_INPUT_TOKENS,
        price=price_for(model, price_table(Settings().model_prices)),
    )
    return render_preview(planned, output_format)


async def review_patch(text: str, output_format: str) -> str:
    files = _parsed(text)
    provider, secrets = _provider_from_environment()
    try:
        result = await review(
            files,
            config=DEFAULTS,
            provider=provider,
            pr=PullRequestContext(),
            max_model_calls=MAX_MODEL_CALLS if provider else 0,
            max_input_tokens=DEFAULT_MAX_INPUT_TOKENS,
            max_output_tokens=MAX_OUTPUT_TOKENS,
            forbidden=secrets,
        )
    except ProviderError as error:
        raise OfflineReviewError(error.message) from None
    finally:
        if provider is not None:
            await provider.aclose()
    return render_report(result, output_format)  # type: ignore[arg-type]
