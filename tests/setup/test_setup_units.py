"""The pieces of the setup flow that need no server: GitHub's URLs, the manifest, the env file
and what the files look like on disk."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from app.setup import credentials
from app.setup.conversion import NewApp
from app.setup.errors import SetupError
from app.setup.manifest import (
    PLACEHOLDER,
    build_manifest,
    github_web_url,
    new_app_url,
    normalise_organization,
    normalise_public_url,
)


@pytest.mark.parametrize(
    ("api_url", "web_url"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.acme.internal/api/v3", "https://ghe.acme.internal"),
        ("https://ghe.acme.internal:8443/api/v3/", "https://ghe.acme.internal:8443"),
        ("https://api.octocorp.ghe.com", "https://octocorp.ghe.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ],
)
def test_github_web_url_is_derived_from_the_api_url(api_url: str, web_url: str) -> None:
    assert github_web_url(api_url) == web_url


def test_new_app_url_for_an_account_an_organization_and_ghes() -> None:
    assert new_app_url("https://github.com", None, "s1") == (
        "https://github.com/settings/apps/new?state=s1"
    )
    assert new_app_url("https://github.com", "acme", "s1") == (
        "https://github.com/organizations/acme/settings/apps/new?state=s1"
    )
    ghes = github_web_url("https://ghe.acme.internal/api/v3")
    assert new_app_url(ghes, None, "s1") == "https://ghe.acme.internal/settings/apps/new?state=s1"


def test_manifest_uses_the_public_url_everywhere() -> None:
    manifest = build_manifest("https://review.acme.test/sentinel")
    text = json.dumps(manifest)
    assert PLACEHOLDER not in text
    assert manifest["url"] == "https://review.acme.test/sentinel"
    assert manifest["hook_attributes"]["url"] == "https://review.acme.test/sentinel/webhooks/github"
    assert manifest["redirect_url"] == "https://review.acme.test/sentinel/setup/github/callback"
    assert manifest["default_permissions"]["pull_requests"] == "write"
    assert "pull_request" in manifest["default_events"]


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "ftp://sentinel.acme.test",
        "https://",
        "https://user:pw@sentinel.acme.test",
        "https://sentinel.acme.test/?x=1",
        "https://sentinel.acme.test/#top",
        'https://sentinel.acme.test/"><script>',
        "https://sentinel acme.test",
    ],
)
def test_public_url_refuses_what_cannot_go_into_a_manifest(raw: str) -> None:
    with pytest.raises(SetupError) as caught:
        normalise_public_url(raw)
    assert caught.value.status == 400


def test_public_url_and_organization_are_normalised() -> None:
    assert normalise_public_url(" https://sentinel.acme.test/ ") == "https://sentinel.acme.test"
    assert normalise_organization("  ") is None
    assert normalise_organization("acme-corp") == "acme-corp"
    with pytest.raises(SetupError):
        normalise_organization("-acme")


def _app(**changes: object) -> NewApp:
    values: dict[str, object] = {
        "id": 4242,
        "slug": "sentinel",
        "name": "Sentinel",
        "owner": "octocat",
        "html_url": "https://github.com/apps/sentinel",
        "pem": "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n",
        "webhook_secret": "f" * 40,
    }
    values.update(changes)
    return NewApp(**values)  # type: ignore[arg-type]


def test_env_file_names_github_com_settings_only() -> None:
    text, shown = credentials.env_file(
        _app(), Path("/srv/my keys/github-app.pem"), "https://api.github.com"
    )
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        "SENTINEL_GITHUB_APP_ID=4242",
        "SENTINEL_GITHUB_PRIVATE_KEY_PATH='/srv/my keys/github-app.pem'",
        "SENTINEL_APP_SLUG=sentinel",
        "SENTINEL_GITHUB_WEBHOOK_SECRET=" + "f" * 40,
    ]
    assert "SENTINEL_GITHUB_WEBHOOK_SECRET" not in shown


def test_env_file_names_the_api_of_github_enterprise_server() -> None:
    text, shown = credentials.env_file(
        _app(), Path("/k/github-app.pem"), "https://ghe.acme.internal/api/v3"
    )
    assert "SENTINEL_GITHUB_API_URL=https://ghe.acme.internal/api/v3\n" in text
    assert shown["SENTINEL_GITHUB_API_URL"] == "https://ghe.acme.internal/api/v3"


def test_env_file_refuses_a_value_with_a_line_break() -> None:
    with pytest.raises(SetupError):
        credentials.env_file(
            _app(webhook_secret="abc\nSENTINEL_X=1"), Path("/k/p.pem"), "https://api.github.com"
        )


def test_files_are_private_and_never_replaced(tmp_path: Path) -> None:
    directory = tmp_path / "out"
    credentials.prepare(directory)
    written = credentials.write(directory, _app(), "https://api.github.com")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in (written.pem_path, written.env_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert written.pem_path.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    with pytest.raises(SetupError) as caught:
        credentials.refuse_if_written(directory)
    assert caught.value.status == 409
    with pytest.raises(SetupError) as caught:
        credentials.write(directory, _app(pem="other"), "https://api.github.com")
    assert caught.value.status == 500
    assert "abc" in written.pem_path.read_text()  # the first key is still there
