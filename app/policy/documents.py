"""The documents admins write: repository settings and named policies.

Both extend the review-content keys of `.sentinel.yml` (reviewers.config.ReviewConfig) with
what only an admin may choose: the provider and model, and for policies the limits and how
results gate a pull request.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from reviewers.config import HARD_MAX_COMMENTS, ReviewConfig

ProviderName = Literal["anthropic", "openai"]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\w.:/@-]+$")]


class RepositorySettingsDocument(ReviewConfig):
    """`PUT .../repositories/{id}/settings`: the `.sentinel.yml` keys plus provider and model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName | None = Field(None, description="Which BYOK key reviews this repo")
    model: ModelName | None = Field(None, description="The model to ask, e.g. claude-sonnet-4-5")


class PolicyDocument(ReviewConfig):
    """A workspace policy (named, versioned). Unset keys fall back to built-in defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName | None = None
    model: ModelName | None = None
    max_comments_cap: int | None = Field(
        None,
        ge=0,
        le=HARD_MAX_COMMENTS,
        description="The most inline comments a repository's settings or file may ask for",
    )
    max_model_calls: int | None = Field(
        None, ge=1, le=200, description="Model calls per run, at most (chunks beyond wait)"
    )
    max_input_tokens: int | None = Field(
        None, ge=1000, le=10_000_000, description="Input tokens per run, at most"
    )
    monthly_input_tokens: int | None = Field(
        None,
        ge=1000,
        le=100_000_000_000,
        description="Model input tokens the workspace's runs may send per calendar month (UTC)",
    )
    fail_on_critical: bool | None = Field(
        None, description="The check run fails when a critical finding is posted"
    )
    request_changes: bool | None = Field(
        None, description="Critical findings make the review REQUEST_CHANGES, not COMMENT"
    )
