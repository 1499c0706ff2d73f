"""Settings: a missing or invalid setting stops the process with one line naming it."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from app.config import ConfigError, Settings, load_settings, parse_encryption_keys

SENTINEL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "sentinel"
GOOD_KEY = base64.b64encode(b"k" * 32).decode()


def _sentinel(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    return subprocess.run(
        [str(SENTINEL), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"SENTINEL_DATABASE_URL": "mysql://db/x"},
            "SENTINEL_DATABASE_URL: must start with postgresql://",
        ),
        ({"SENTINEL_REDIS_URL": "http://x"}, "SENTINEL_REDIS_URL: must start with redis://"),
        ({"SENTINEL_GITHUB_APP_ID": "twelve"}, "SENTINEL_GITHUB_APP_ID:"),
        ({"SENTINEL_ENCRYPTION_KEYS": "1:" + "A" * 10}, "SENTINEL_ENCRYPTION_KEYS: entry 1"),
        ({"SENTINEL_ENCRYPTION_KEYS": "v1:" + GOOD_KEY}, "is not VERSION:BASE64KEY"),
        (
            {"SENTINEL_ALLOW_PRIVATE_PROVIDER_URLS": "perhaps"},
            "SENTINEL_ALLOW_PRIVATE_PROVIDER_URLS:",
        ),
        ({"SENTINEL_APP_SLUG": "has space"}, "SENTINEL_APP_SLUG:"),
    ],
)
def test_invalid_setting_is_one_line_naming_the_variable(
    env: dict[str, str], expected: str
) -> None:
    result = _sentinel("migrate", **env)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_encryption_keys_named_when_needed() -> None:
    result = _sentinel("keys", "rotate")
    assert result.returncode == 2
    assert result.stderr.startswith("sentinel: error: SENTINEL_ENCRYPTION_KEYS is not set")


def test_key_material_is_never_echoed() -> None:
    secret_looking = base64.b64encode(b"s" * 31).decode()  # wrong length
    result = _sentinel("keys", "rotate", SENTINEL_ENCRYPTION_KEYS=f"3:{secret_looking}")
    assert "decodes to 31 bytes" in result.stderr
    assert secret_looking not in result.stderr


def test_unreachable_database_is_one_line() -> None:
    result = _sentinel("migrate", SENTINEL_DATABASE_URL="postgresql://postgres@127.0.0.1:1/x")
    assert result.returncode == 1
    assert result.stderr.startswith("sentinel: error: cannot use Postgres")
    assert len(result.stderr.strip().splitlines()) == 1


def test_encryption_key_ring_parsing() -> None:
    other = base64.b64encode(b"o" * 32).decode()
    ring = parse_encryption_keys(f"1:{GOOD_KEY}, 3:{other}")
    assert ring == {1: b"k" * 32, 3: b"o" * 32}
    with pytest.raises(ValueError, match="appears twice"):
        parse_encryption_keys(f"1:{GOOD_KEY},1:{other}")
    with pytest.raises(ValueError, match="versions start at 1"):
        parse_encryption_keys(f"0:{GOOD_KEY}")


def test_database_url_accepts_plain_postgresql_scheme() -> None:
    settings = Settings(database_url="postgresql://u@h:5432/db")
    assert settings.database_url == "postgresql+psycopg://u@h:5432/db"


def test_both_private_key_sources_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINEL_GITHUB_PRIVATE_KEY", "-----BEGIN-----")
    monkeypatch.setenv("SENTINEL_GITHUB_PRIVATE_KEY_PATH", "app-key.pem")
    with pytest.raises(ConfigError, match="set only one"):
        load_settings()


def test_webhook_secret_is_required_where_used() -> None:
    with pytest.raises(ConfigError, match="SENTINEL_GITHUB_WEBHOOK_SECRET is not set"):
        Settings().require_webhook_secret()
