"""`sentinel review PATCH`: the review engine on a diff file, without GitHub or a database.

A model is used when `ANTHROPIC_API_KEY` or `OPENAI_API_KEY` is set (with optional
`ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL` and `SENTINEL_REVIEW_MODEL`); the static reviewers
always run.
"""

from __future__ import annotations

import os

from app.policy.resolve import DEFAULTS
from reviewers.diff import DiffParseError, parse_unified_diff
from reviewers.engine import PullRequestContext, review
from reviewers.providers.base import ModelProvider, ProviderError
from reviewers.providers.factory import create_provider
from reviewers.report import render_report

MAX_MODEL_CALLS = 20


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


async def review_patch(text: str, output_format: str) -> str:
    try:
        files = parse_unified_diff(text)
    except DiffParseError as error:
        raise OfflineReviewError(f"not a unified diff: {error}") from None
    provider, secrets = _provider_from_environment()
    try:
        result = await review(
            files,
            config=DEFAULTS,
            provider=provider,
            pr=PullRequestContext(),
            max_model_calls=MAX_MODEL_CALLS if provider else 0,
            forbidden=secrets,
        )
    except ProviderError as error:
        raise OfflineReviewError(error.message) from None
    finally:
        if provider is not None:
            await provider.aclose()
    return render_report(result, output_format)  # type: ignore[arg-type]
