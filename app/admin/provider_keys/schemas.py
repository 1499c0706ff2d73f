"""Wire shapes of provider keys. A key goes in; only its last 4 characters ever come out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, SecretStr, field_validator

from app.admin.schemas import StrictBody
from app.policy.documents import ModelName, ProviderName
from app.security.urls import MAX_URL_LENGTH

MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 500


class ProviderKeyIn(StrictBody):
    api_key: SecretStr = Field(
        min_length=MIN_KEY_LENGTH,
        max_length=MAX_KEY_LENGTH,
        description="The provider API key. Stored encrypted; never returned.",
    )
    base_url: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="An OpenAI- or Anthropic-compatible endpoint; https, public addresses only",
    )
    model: ModelName | None = Field(None, description="The model to use by default")

    @field_validator("api_key")
    @classmethod
    def _printable(cls, value: SecretStr) -> SecretStr:
        # A pasted key with a trailing newline or space would fail every call much later.
        if any(not 0x21 <= ord(character) <= 0x7E for character in value.get_secret_value()):
            raise ValueError("must be printable ASCII without whitespace")
        return value


class ProviderKeyOut(BaseModel):
    provider: ProviderName
    model: str | None
    base_url: str | None
    key_last4: str = Field(description="The key's last 4 characters, to recognise it")
    key_version: int = Field(description="The SENTINEL_ENCRYPTION_KEYS version that sealed it")
    created_at: datetime
    updated_at: datetime


class ProviderKeyList(BaseModel):
    provider_keys: list[ProviderKeyOut]


class Verification(BaseModel):
    ok: bool = Field(description="Whether the provider accepted one minimal call with the key")
    kind: str | None = Field(
        description="Why not: auth, quota, bad_request, rate_limited, overloaded, server, "
        "timeout, connection or error; null when ok"
    )
    message: str


class ProviderKeySaved(ProviderKeyOut):
    verification: Verification | None = Field(
        description="The outcome of `?verify=true`; null when not asked"
    )
