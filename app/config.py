"""The one place Sentinel reads its configuration: `SENTINEL_*` environment variables."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sentinel"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
ENCRYPTION_KEY_BYTES = 32  # AES-256-GCM


# The login role the service connects as (API and worker): not the tables' owner, not
# superuser, NOBYPASSRLS. The migrations create it and `sentinel migrate` gives it LOGIN.
RUNTIME_ROLE = "sentinel_app"
RUNTIME_PASSWORD_LABEL = b"sentinel/postgres-runtime-login/v1"


class ConfigError(Exception):
    """A setting is missing or invalid. The message names the variable and what is wrong."""


def _normalise_database_url(url: str) -> str:
    # Operators write plain `postgresql://`; SQLAlchemy needs the driver spelled out.
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("must start with postgresql:// or postgresql+psycopg://")


def parse_encryption_keys(raw: str) -> dict[int, bytes]:
    """Parse `VERSION:BASE64KEY,...` into {version: key}. Never echoes key material."""
    ring: dict[int, bytes] = {}
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    if not entries:
        raise ValueError("is empty; expected comma-separated VERSION:BASE64KEY entries")
    for position, entry in enumerate(entries, start=1):
        version_text, sep, key_text = entry.partition(":")
        if not sep or not version_text.strip().isdigit():
            raise ValueError(f"entry {position} is not VERSION:BASE64KEY")
        version = int(version_text)
        if version < 1:
            raise ValueError(f"entry {position} has version {version}; versions start at 1")
        if version in ring:
            raise ValueError(f"version {version} appears twice")
        try:
            key = base64.b64decode(key_text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"entry {position} (version {version}) is not valid base64") from None
        if len(key) != ENCRYPTION_KEY_BYTES:
            raise ValueError(
                f"entry {position} (version {version}) decodes to {len(key)} bytes; "
                f"AES-256 needs {ENCRYPTION_KEY_BYTES}"
            )
        ring[version] = key
    return ring


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SENTINEL_", extra="ignore", case_sensitive=False, frozen=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    # Where the service connects; by default SENTINEL_DATABASE_URL's server and database as
    # RUNTIME_ROLE, with a password derived from the encryption keys (`sentinel migrate`
    # sets it). SENTINEL_DATABASE_URL itself (the owner) is used only for migrations.
    database_runtime_url: str | None = None
    database_pool_size: int = Field(default=20, ge=1, le=200)
    redis_url: str = DEFAULT_REDIS_URL
    # How many jobs (reviews, mostly waiting on GitHub and the model) a worker runs at once.
    # Reviews borrow pooled connections only for short transactions (their run locks share
    # one dedicated connection), so this can exceed database_pool_size.
    worker_concurrency: int = Field(default=100, ge=1, le=1000)
    # Longest one review may hold a worker slot, from reading the PR to the last post. The
    # CPU-heavy steps run in threads, so the deadline fires even while one is busy.
    review_deadline_seconds: int = Field(default=540, ge=1, le=3600)

    github_app_id: int | None = None
    github_private_key: SecretStr | None = None
    github_private_key_path: Path | None = None
    github_webhook_secret: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    app_slug: str = Field(default="sentinel", pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")
    # The App's OAuth client (its settings page: "Client ID", "Client secrets"): with both,
    # the web console offers "Sign in with GitHub" (the App's user-to-server flow).
    github_client_id: str | None = None
    github_client_secret: SecretStr | None = None
    # Where the setup page (`/setup`) writes a newly registered App's key and settings.
    setup_output_dir: Path = Path(".data/github-app")
    # The address GitHub and browsers reach Sentinel at: the setup manifest's webhook and
    # return URLs come from here, never from a request (a crafted link could otherwise
    # send GitHub's one-time code to another host).
    public_url: str | None = None
    # The operator's secret the setup page asks for before it starts a registration.
    setup_token: SecretStr | None = None
    # Billing's token: the only credential that changes a workspace's plan. Workspace
    # tokens, an owner's included, cannot (PUT /v1/workspaces/{workspace}/plan).
    billing_operator_token: SecretStr | None = None

    encryption_keys: Annotated[SecretStr | None, NoDecode] = None
    allow_private_provider_urls: bool = False
    # Model list prices per million tokens, input and output, over the built-in table
    # (reviewers/pricing.py), as JSON: {"claude-sonnet-5": [3, 15]}.
    model_prices: dict[str, tuple[float, float]] = {}

    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return _normalise_database_url(value)

    @field_validator("database_runtime_url")
    @classmethod
    def _database_runtime_url(cls, value: str | None) -> str | None:
        return _normalise_database_url(value) if value else None

    @property
    def runtime_role_password(self) -> str | None:
        """The derived password of RUNTIME_ROLE: an HMAC of the newest encryption key, so the
        service and `sentinel migrate` agree on it without another secret to configure."""
        if self.encryption_keys is None:
            return None
        ring = self.encryption_key_ring
        return hmac.new(ring[max(ring)], RUNTIME_PASSWORD_LABEL, hashlib.sha256).hexdigest()

    @property
    def runtime_database_url(self) -> str:
        """The URL the API and the worker connect with: never the tables' owner."""
        if self.database_runtime_url:
            return self.database_runtime_url
        url = make_url(self.database_url).set(
            username=RUNTIME_ROLE, password=self.runtime_role_password
        )
        return url.render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("github_api_url")
    @classmethod
    def _github_api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL, e.g. https://api.github.com")
        return value.rstrip("/")

    @field_validator("encryption_keys")
    @classmethod
    def _encryption_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_encryption_keys(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _private_key_source(self) -> Settings:
        if self.github_private_key is not None and self.github_private_key_path is not None:
            raise ValueError(
                "SENTINEL_GITHUB_PRIVATE_KEY and SENTINEL_GITHUB_PRIVATE_KEY_PATH are both set; "
                "set only one"
            )
        return self

    @cached_property
    def encryption_key_ring(self) -> dict[int, bytes]:
        if self.encryption_keys is None:
            raise ConfigError(
                "SENTINEL_ENCRYPTION_KEYS is not set: provider keys cannot be encrypted or "
                "decrypted (expected VERSION:BASE64KEY entries of 32-byte keys)"
            )
        return parse_encryption_keys(self.encryption_keys.get_secret_value())

    def require_webhook_secret(self) -> str:
        if self.github_webhook_secret is None or not self.github_webhook_secret.get_secret_value():
            raise ConfigError(
                "SENTINEL_GITHUB_WEBHOOK_SECRET is not set: webhook deliveries cannot be verified"
            )
        return self.github_webhook_secret.get_secret_value()


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = first.get("loc") or ()
    field = str(location[0]) if location else ""
    variable = f"SENTINEL_{field.upper()}" if field else "configuration"
    message = str(first.get("msg", "is invalid"))
    # pydantic prefixes custom messages with "Value error, "; the variable name says enough.
    message = message.removeprefix("Value error, ")
    return f"{variable}: {message}"


def load_settings() -> Settings:
    """Build Settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None
