"""What a review may be told: the review-content keys shared by `.sentinel.yml`, repository
settings and policies. A repository file may set only these; it can never choose a provider,
model, endpoint, key or budget (those live in app/policy, outside a repository's reach)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from reviewers.globs import compile_glob
from reviewers.linear import LinearPatternError

MAX_INSTRUCTIONS_CHARS = 4000
HARD_MAX_COMMENTS = 100


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


class Category(StrEnum):
    BUG = "bug"
    SECURITY = "security"
    PERFORMANCE = "performance"
    MAINTAINABILITY = "maintainability"
    STYLE = "style"
    DOCS = "docs"
    TEST = "test"


def _valid_glob(glob: str) -> str:
    # Caught here, a glob that cannot be compiled (`[z-a]`) is a config error the admin sees
    # when saving, not a review that fails later.
    try:
        compile_glob(glob.removeprefix("!"))
    except LinearPatternError:
        raise ValueError(f"{glob!r} is not a valid glob (check its [...] classes)") from None
    return glob


Glob = Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_valid_glob)]


class PathInstruction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Glob = Field(description="A glob, e.g. `src/payments/**`")
    instructions: Annotated[str, StringConstraints(max_length=MAX_INSTRUCTIONS_CHARS)]


class ReviewConfig(BaseModel):
    """Review-content settings. Every key is optional: an unset key inherits from the layer
    below (plan → policy → repository settings → `.sentinel.yml`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool | None = Field(None, description="Review this repository at all")
    drafts: bool | None = Field(None, description="Review draft pull requests")
    path_filters: list[Glob] | None = Field(
        None,
        max_length=100,
        description="Globs of paths to review; `!glob` excludes. Default exclusions "
        "(lock files, vendored, generated, minified, binaries) always apply.",
    )
    path_instructions: list[PathInstruction] | None = Field(None, max_length=50)
    instructions: Annotated[str, StringConstraints(max_length=MAX_INSTRUCTIONS_CHARS)] | None = (
        Field(None, description="Extra guidance for the reviewer")
    )
    min_severity: Severity | None = Field(None, description="Findings below are not posted")
    min_confidence: float | None = Field(None, ge=0, le=1)
    max_comments: int | None = Field(
        None, ge=0, le=HARD_MAX_COMMENTS, description="Inline comments per run, at most"
    )
    categories: list[Category] | None = Field(None, description="Only these categories")
    incremental: bool | None = Field(
        None, description="On a new push, review only what changed since the last review"
    )


# The keys a repository's `.sentinel.yml` may set: exactly ReviewConfig's.
REPOSITORY_FILE_KEYS = frozenset(ReviewConfig.model_fields)
