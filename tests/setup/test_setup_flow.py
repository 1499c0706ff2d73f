"""The setup page end to end over real HTTP: Sentinel's app and the GitHub simulator, with the
test as the browser (fetch the form, post it to "GitHub", follow the redirect back)."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from pydantic import SecretStr

from app.config import Settings
from app.github.client import app_private_key
from app.main import create_app
from sandbox.github import GitHubState, deliver, installation_event, serve_github
from sandbox.github.manifest import flow_of
from sandbox.github.server import free_port
from tests.support.live_server import serve


@dataclass
class Form:
    action: str
    manifest: dict[str, Any]

    @property
    def state(self) -> str:
        return parse_qs(urlsplit(self.action).query)["state"][0]


class _FormParser(HTMLParser):
    """The form that goes to GitHub, read as a browser reads it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.manifest: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # The sign-in form posts back to Sentinel; the other one goes to GitHub.
        if tag == "form" and values.get("method") == "post" and values.get("action"):
            self.action = values.get("action")
        if tag == "input" and values.get("name") == "manifest":
            self.manifest = values.get("value")


def parse_form(page: str) -> Form:
    parser = _FormParser()
    parser.feed(page)
    assert parser.action is not None, "no POST form on the page"
    assert parser.manifest is not None, "no manifest field in the form"
    return Form(parser.action, json.loads(parser.manifest))


@pytest.fixture
async def github() -> AsyncIterator[GitHubState]:
    state = GitHubState()
    async with serve_github(state):
        yield state


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    return tmp_path / "github-app"


SETUP_TOKEN = "operator-secret-" + "7" * 32


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def setup_settings(
    settings: Settings, github: GitHubState, output_dir: Path, port: int
) -> Settings:
    return settings.model_copy(
        update={
            "github_api_url": github.base_url,
            "setup_output_dir": output_dir,
            "public_url": f"http://127.0.0.1:{port}",
            "setup_token": SecretStr(SETUP_TOKEN),
        }
    )


@pytest.fixture
async def sentinel(setup_settings: Settings, port: int) -> AsyncIterator[str]:
    async with serve(create_app(setup_settings), port=port) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    # GitHub's redirect is followed by hand, to look at it on the way.
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as client:
        yield client


async def sign_in(
    browser: httpx.AsyncClient, sentinel: str, token: str = SETUP_TOKEN, **fields: str
) -> httpx.Response:
    """Open the setup page and post its sign-in form, as the operator does."""
    query = {"force": fields["force"]} if "force" in fields else {}
    page = await browser.get(f"{sentinel}/setup", params=query)
    assert page.status_code == 200, page.text
    return await browser.post(f"{sentinel}/setup", data={"setup_token": token, **fields})


async def open_setup(browser: httpx.AsyncClient, sentinel: str, **fields: str) -> Form:
    page = await sign_in(browser, sentinel, **fields)
    assert page.status_code == 200, page.text
    return parse_form(page.text)


async def confirm_on_github(browser: httpx.AsyncClient, form: Form) -> str:
    """Post the form to GitHub; the address GitHub sends the browser back to."""
    response = await browser.post(form.action, data={"manifest": json.dumps(form.manifest)})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def modes(directory: Path) -> dict[str, int]:
    """The permission bits of the output directory (".") and of each file in it; empty when
    the directory does not exist. Synchronous, to keep file access out of the event loop's
    async functions."""
    if not directory.exists():
        return {}
    found = {".": directory, **{path.name: path for path in directory.iterdir()}}
    return {name: stat.S_IMODE(path.stat().st_mode) for name, path in found.items()}


def _with_state(callback: str, state: str) -> str:
    parts = urlsplit(callback)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**query, "state": state})).geturl()


async def test_setup_page_posts_the_manifest_with_the_public_url(
    browser: httpx.AsyncClient, sentinel: str, github: GitHubState
) -> None:
    page = await sign_in(browser, sentinel)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    form = parse_form(page.text)
    assert form.action.startswith(f"{github.base_url}/settings/apps/new?state=")
    assert len(form.state) >= 32
    assert form.manifest["url"] == sentinel
    assert form.manifest["hook_attributes"]["url"] == f"{sentinel}/webhooks/github"
    assert form.manifest["redirect_url"] == f"{sentinel}/setup/github/callback"
    assert "sentinel.example.com" not in json.dumps(form.manifest)

    other = await open_setup(browser, sentinel, organization="acme")
    assert other.action.startswith(f"{github.base_url}/organizations/acme/settings/apps/new?")
    assert other.state != form.state
    assert other.manifest["redirect_url"] == f"{sentinel}/setup/github/callback"


async def test_a_crafted_link_cannot_send_the_code_to_another_host(
    browser: httpx.AsyncClient, sentinel: str
) -> None:
    """The manifest's URLs come from SENTINEL_PUBLIC_URL, whatever the link or form says."""
    evil = "https://sentinel.attacker.test"
    page = await browser.get(f"{sentinel}/setup", params={"public_url": evil})
    assert page.status_code == 200
    assert "attacker" not in page.text
    posted = await browser.post(
        f"{sentinel}/setup?public_url={evil}",
        data={"setup_token": SETUP_TOKEN, "public_url": evil},
    )
    form = parse_form(posted.text)
    assert form.manifest["redirect_url"] == f"{sentinel}/setup/github/callback"
    assert form.manifest["hook_attributes"]["url"] == f"{sentinel}/webhooks/github"
    assert "attacker" not in posted.text


async def test_only_the_operator_can_start_a_registration(
    browser: httpx.AsyncClient, sentinel: str, github: GitHubState
) -> None:
    page = await browser.get(f"{sentinel}/setup")
    assert 'type="password"' in page.text
    assert "settings/apps/new" not in page.text  # no form to GitHub before signing in
    for wrong in ("", "operator-secret-", SETUP_TOKEN + "x"):
        refused = await sign_in(browser, sentinel, token=wrong)
        assert refused.status_code == 403, wrong
        assert "Wrong setup token" in refused.text
        assert "settings/apps/new" not in refused.text
    not_a_form = await browser.post(f"{sentinel}/setup", json={"setup_token": SETUP_TOKEN})
    assert not_a_form.status_code == 415
    huge = await browser.post(
        f"{sentinel}/setup", data={"setup_token": SETUP_TOKEN, "organization": "a" * 10_000}
    )
    assert huge.status_code == 413
    accepted = await sign_in(browser, sentinel)
    assert accepted.status_code == 200
    assert SETUP_TOKEN not in accepted.text


@pytest.mark.parametrize(
    ("missing", "says"),
    [("public_url", "SENTINEL_PUBLIC_URL"), ("setup_token", "SENTINEL_SETUP_TOKEN")],
)
async def test_without_its_configuration_the_page_says_what_to_set(
    browser: httpx.AsyncClient, setup_settings: Settings, missing: str, says: str
) -> None:
    unconfigured = setup_settings.model_copy(update={missing: None})
    async with serve(create_app(unconfigured)) as sentinel:
        page = await browser.get(f"{sentinel}/setup")
        posted = await browser.post(f"{sentinel}/setup", data={"setup_token": SETUP_TOKEN})
    for response in (page, posted):
        assert response.status_code == 503
        assert says in response.text
        assert "settings/apps/new" not in response.text


async def test_the_flow_writes_private_credentials_that_work(
    browser: httpx.AsyncClient, sentinel: str, github: GitHubState, output_dir: Path
) -> None:
    callback = await confirm_on_github(browser, await open_setup(browser, sentinel))
    assert callback.startswith(f"{sentinel}/setup/github/callback?")

    page = await browser.get(callback)
    assert page.status_code == 200, page.text
    registered = flow_of(github).apps["sentinel"]
    pem_path, env_path = output_dir / "github-app.pem", output_dir / "github-app.env"
    assert str(pem_path) in page.text
    assert str(env_path) in page.text
    assert f"{github.html_url}/apps/sentinel/installations/new" in page.text
    for secret in (registered.pem, registered.webhook_secret, registered.client_secret):
        assert secret not in page.text
    assert "PRIVATE KEY" not in page.text

    assert modes(output_dir) == {".": 0o700, "github-app.pem": 0o600, "github-app.env": 0o600}
    env_text = await asyncio.to_thread(env_path.read_text)
    pem = await asyncio.to_thread(pem_path.read_text)
    env = dict(
        line.split("=", 1) for line in env_text.splitlines() if line and not line.startswith("#")
    )
    assert env == {
        "SENTINEL_GITHUB_APP_ID": str(registered.id),
        "SENTINEL_GITHUB_PRIVATE_KEY_PATH": str(pem_path),
        "SENTINEL_APP_SLUG": "sentinel",
        "SENTINEL_GITHUB_API_URL": github.base_url,
        "SENTINEL_GITHUB_WEBHOOK_SECRET": registered.webhook_secret,
        # The App's OAuth client, for the console's "Sign in with GitHub".
        "SENTINEL_GITHUB_CLIENT_ID": f"Iv1.{registered.id:016x}",
        "SENTINEL_GITHUB_CLIENT_SECRET": registered.client_secret,
    }
    assert github.webhook_url == f"{sentinel}/webhooks/github"

    # The written key signs JWTs the simulator accepts as the new App.
    # A cache of its own: githubkit's shared one may hold a JWT of another test's App 1000.
    app = GitHub(
        AppAuthStrategy(int(env["SENTINEL_GITHUB_APP_ID"]), pem),
        base_url=github.base_url,
        cache_strategy=MemCacheStrategy(),
    )
    me = (await app.rest.apps.async_get_authenticated()).parsed_data
    assert me is not None
    assert (me.id, me.slug) == (registered.id, "sentinel")

    # The state worked once: reloading the page cannot register again.
    again = await browser.get(callback)
    assert again.status_code == 400
    assert "Unknown registration" in again.text
    # Nor can the setup page start over while those files are there.
    assert (await browser.get(f"{sentinel}/setup")).status_code == 409


def _env_settings(path: Path) -> Settings:
    """Settings as Sentinel reads them from the env file's variables."""
    lines = path.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return Settings.model_validate({n.removeprefix("SENTINEL_").lower(): v for n, v in pairs})


async def test_restarted_with_the_written_settings_sentinel_is_the_new_app(
    browser: httpx.AsyncClient,
    sentinel: str,
    github: GitHubState,
    setup_settings: Settings,
    output_dir: Path,
) -> None:
    callback = await confirm_on_github(browser, await open_setup(browser, sentinel))
    assert (await browser.get(callback)).status_code == 200
    written = await asyncio.to_thread(_env_settings, output_dir / "github-app.env")
    names = ("github_app_id", "github_private_key_path", "github_webhook_secret", "app_slug")
    restarted = setup_settings.model_copy(update={n: getattr(written, n) for n in names})
    assert restarted.github_app_id == github.app_id
    assert app_private_key(restarted) == github.private_key_pem

    github.add_installation(5150, "acme", repositories=["widgets"])
    async with serve(create_app(restarted)) as url:
        github.webhook_url = f"{url}/webhooks/github"  # the same public URL, in reality
        delivery = await deliver(github, "installation", installation_event(github, 5150))
    # Signed by "GitHub" with the new App's secret, verified with the one written.
    assert delivery.status_code == 202, delivery.status


async def test_a_wrong_state_is_refused_and_spends_nothing(
    browser: httpx.AsyncClient, sentinel: str, output_dir: Path
) -> None:
    callback = await confirm_on_github(browser, await open_setup(browser, sentinel))
    forged = await browser.get(_with_state(callback, "x" * 43))
    assert forged.status_code == 400
    assert "Unknown registration" in forged.text
    missing = await browser.get(f"{sentinel}/setup/github/callback?code=abc")
    assert missing.status_code == 400
    assert modes(output_dir) == {}
    # The code was not exchanged: the genuine redirect still completes.
    assert (await browser.get(callback)).status_code == 200


async def test_a_code_already_exchanged_gets_a_clear_error(
    browser: httpx.AsyncClient, sentinel: str, github: GitHubState, output_dir: Path
) -> None:
    callback = await confirm_on_github(browser, await open_setup(browser, sentinel))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    spent = await browser.post(f"{github.base_url}/app-manifests/{code}/conversions")
    assert spent.status_code == 201

    page = await browser.get(callback)
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "GitHub did not accept the code" in page.text
    assert "already" in page.text
    assert "github-app.pem" not in modes(output_dir)


async def test_an_expired_code_gets_a_clear_error(
    browser: httpx.AsyncClient, sentinel: str, github: GitHubState
) -> None:
    callback = await confirm_on_github(browser, await open_setup(browser, sentinel))
    github.advance_clock(3601)
    page = await browser.get(callback)
    assert page.status_code == 400
    assert "expired" in page.text


async def test_a_failing_github_is_a_502_and_the_page_can_be_reloaded(
    browser: httpx.AsyncClient, sentinel: str, github: GitHubState
) -> None:
    callback = await confirm_on_github(browser, await open_setup(browser, sentinel))
    github.fail_next("/app-manifests/", 502)
    page = await browser.get(callback)
    assert page.status_code == 502
    assert "GitHub refused the code exchange" in page.text
    assert (await browser.get(callback)).status_code == 200


async def test_an_unreachable_github_is_a_502(
    browser: httpx.AsyncClient, setup_settings: Settings
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = setup_settings.model_copy(update={"github_api_url": closed})
    async with serve(create_app(unreachable)) as sentinel:
        form = await open_setup(browser, sentinel)
        page = await browser.get(
            f"{sentinel}/setup/github/callback", params={"code": "abc123", "state": form.state}
        )
    assert page.status_code == 502
    assert "GitHub is unreachable" in page.text
    assert "Traceback" not in page.text


async def test_a_configured_app_is_not_replaced_unless_asked(
    browser: httpx.AsyncClient,
    setup_settings: Settings,
    github: GitHubState,
    output_dir: Path,
    port: int,
) -> None:
    configured = setup_settings.model_copy(update={"github_app_id": 99})
    async with serve(create_app(configured), port=port) as sentinel:
        refused = await browser.get(f"{sentinel}/setup")
        assert refused.status_code == 409
        assert "An App is already configured" in refused.text
        assert 'href="?force=1"' in refused.text

        form = await open_setup(browser, sentinel, force="1")
        page = await browser.get(await confirm_on_github(browser, form))
        assert page.status_code == 200, page.text
    assert "github-app.env" in modes(output_dir)


async def test_what_the_operator_typed_is_escaped(
    browser: httpx.AsyncClient, sentinel: str
) -> None:
    attack = '"><script>alert(1)</script>'
    page = await sign_in(browser, sentinel, organization=attack)
    assert page.status_code == 400
    assert "<script>" not in page.text
    assert "&#34;&gt;&lt;script&gt;" in page.text


async def test_a_public_url_that_is_not_http_is_refused(
    browser: httpx.AsyncClient, setup_settings: Settings
) -> None:
    misconfigured = setup_settings.model_copy(update={"public_url": "javascript:alert(1)"})
    async with serve(create_app(misconfigured)) as sentinel:
        page = await browser.get(f"{sentinel}/setup")
    assert page.status_code == 503
    assert "must be an http(s) address" in page.text
