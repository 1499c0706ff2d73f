"""Wire shapes every /v1 endpoint shares: the error body and the documented error statuses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable, machine-readable code, e.g. `not_found`")
    message: str = Field(description="What went wrong, in words an admin can act on")


class ErrorResponse(BaseModel):
    """Every 4xx (and the rare 5xx) answer: `{"error": {"code", "message"}}`."""

    error: ErrorDetail


def contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return any(contains_nul(getattr(value, name)) for name in type(value).model_fields)
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    return False


class RejectsNul(BaseModel):
    """Postgres stores no NUL character in text or JSON: refuse it here, naming the field,
    rather than fail at the database."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class StrictBody(RejectsNul):
    """Request bodies reject unknown keys, so a typo is a 422 rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


_DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8 or not JSON)",
    401: "No bearer token, or one that is unknown or revoked",
    403: "The token's role may not do this",
    404: "No such resource in the token's workspace (another workspace's resources included)",
    409: "The request conflicts with the resource's current state",
    410: "The resource existed but is no longer usable",
    422: "The request is invalid; the message names the field",
    503: "A dependency of this endpoint is not configured or not reachable",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error statuses, all with the ErrorResponse body."""
    return {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }
