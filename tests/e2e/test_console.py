"""The web console in a real headless Chromium (Debian's, driven by Playwright) against the
real `sentinel api`, worker and Postgres of the end-to-end stack: signing in, enabling a
repository, a policy version and its diff, a key shown masked, a run and its findings, the
usage chart and its CSV; a member kept out of admin pages; another workspace's run a 404.
Each page's screenshot is written under `.data/screenshots/`."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from app.audit import Actor
from app.db import create_engine, create_sessionmaker, tenant_session
from app.models.identity import Role
from app.tokens.service import create_api_token
from tests.e2e.conftest import ACME, E2E, GLOBEX, SCREENSHOTS

NUMBER = 71

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (./scripts/test installs it)",
)


async def _workspace_of(e2e: E2E, repo: Any) -> uuid.UUID:
    (row,) = await e2e.rows(
        "SELECT workspace_id FROM installations WHERE external_id = :id", id=repo.installation
    )
    return row["workspace_id"]


async def _token(e2e: E2E, repo: Any, role: Role) -> str:
    engine = create_engine(e2e.settings, pool_size=1, max_overflow=0)
    try:
        workspace_id = await _workspace_of(e2e, repo)
        async with tenant_session(create_sessionmaker(engine), workspace_id) as session:
            minted = await create_api_token(
                session, workspace_id, role=role, name=f"console test {role.value}",
                actor=Actor(type="system", id="tests"),
            )  # fmt: skip
        return minted.token
    finally:
        await engine.dispose()


@pytest.fixture
async def context(browser: Browser, e2e: E2E) -> AsyncIterator[BrowserContext]:
    created = await browser.new_context(base_url=e2e.api_url, accept_downloads=True)
    try:
        yield created
    finally:
        await created.close()


async def _sign_in(page: Page, token: str) -> None:
    await page.goto("/console")
    await expect(page.get_by_role("heading", name="Sign in to Sentinel")).to_be_visible()
    await page.get_by_label("API token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def _shot(page: Page, name: str) -> None:
    await page.locator("main[data-ready]").wait_for()
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def _reviewed_run(e2e: E2E) -> dict[str, Any]:
    runs = await e2e.runs(ACME, NUMBER)
    if runs and runs[0]["status"] == "completed":
        return runs[0]
    head = await e2e.open_pull_request(ACME, NUMBER)
    run = await e2e.finished_run(ACME, NUMBER, head)
    assert run["status"] == "completed", run
    return run


async def test_an_admin_signs_in_and_reads_a_run_and_its_findings(
    e2e: E2E, context: BrowserContext
) -> None:
    run = await _reviewed_run(e2e)
    token = await _token(e2e, ACME, Role.ADMIN)
    page = await context.new_page()
    await _sign_in(page, token)

    await expect(page).to_have_url(f"{e2e.api_url}/console/runs")
    row = page.get_by_role("row").filter(has_text=f"#{NUMBER}")
    await expect(row.first).to_contain_text("completed")
    await _shot(page, "runs")
    # The session is an HttpOnly cookie: the page's script cannot read it, and the token
    # is kept nowhere in the page.
    assert await page.evaluate("document.cookie") == ""
    assert token not in await page.content()
    assert (
        await page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
        == "{}{}"
    )

    # Filtered by pull request number, only that pull request's runs are listed.
    await page.get_by_label("Pull request").fill(str(NUMBER))
    await page.get_by_role("button", name="Filter").click()
    await expect(page).to_have_url(re.compile(rf"pull_request_number={NUMBER}"))
    listed = page.get_by_role("table", name="Runs, newest first").locator("tbody tr")
    await expect(listed.first).to_contain_text(f"#{NUMBER}")
    assert all(f"#{NUMBER}" in text for text in await listed.all_inner_texts())
    await page.get_by_label("Pull request").fill("9999")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("No runs match.")).to_be_visible()
    await page.go_back()
    await expect(listed.first).to_contain_text(f"#{NUMBER}")
    row = page.get_by_role("row").filter(has_text=f"#{NUMBER}")

    await row.first.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Run of {ACME.full_name} #{NUMBER}"
    )
    pull_link = page.get_by_role("link", name=f"{ACME.full_name}#{NUMBER}")
    # The simulator serves GitHub's web pages too: links go to the GitHub Sentinel uses.
    assert await pull_link.get_attribute("href") == (
        f"{e2e.github.base_url}/{ACME.full_name}/pull/{NUMBER}"
    )
    findings = page.get_by_role("table", name="Every finding and where it was posted")
    await expect(findings).to_contain_text("inline")
    await expect(findings).to_contain_text("settings.py")
    detail = page.locator("dl.facts")
    snapshot = (await e2e.rows("SELECT policy_snapshot FROM runs WHERE id = :id", id=run["id"]))[0]
    await expect(detail).to_contain_text(snapshot["policy_snapshot"]["hash"])
    await expect(detail).to_contain_text("claude-sonnet-5-5")
    await expect(detail).to_contain_text(str(run["metrics"]["prompt_version"]))
    await _shot(page, "run")


async def test_an_admin_disables_and_enables_a_repository(
    e2e: E2E, context: BrowserContext
) -> None:
    page = await context.new_page()
    await _sign_in(page, await _token(e2e, ACME, Role.ADMIN))
    await page.get_by_role("link", name="Repositories").click()
    toggle = page.get_by_role("button", name=f"Reviews for {ACME.full_name}", exact=True)
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    rows = await e2e.rows("SELECT is_enabled FROM repositories WHERE name = :n", n=ACME.full_name)
    assert rows == [{"is_enabled": False}]
    await _shot(page, "repositories")
    await toggle.press("Enter")  # keyboard works too
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    rows = await e2e.rows("SELECT is_enabled FROM repositories WHERE name = :n", n=ACME.full_name)
    assert rows == [{"is_enabled": True}]

    # Its settings: validated as typed, saved through the API.
    await page.get_by_role("link", name=ACME.full_name).click()
    settings = page.get_by_label("Settings (YAML", exact=False)
    await settings.fill("max_comments: many\n")
    await expect(page.locator("#settings-status")).to_contain_text("max_comments")
    await settings.fill("max_comments: 7\nmin_severity: warning\n")
    await expect(page.locator("#settings-status")).to_contain_text("Valid against the schema")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await _shot(page, "repository-settings")
    (saved,) = await e2e.rows(
        "SELECT s.settings FROM repository_settings s JOIN repositories r"
        " ON r.id = s.repository_id WHERE r.name = :n",
        n=ACME.full_name,
    )
    assert saved["settings"]["max_comments"] == 7


async def test_a_policy_is_validated_as_typed_saved_as_versions_and_diffed(
    e2e: E2E, context: BrowserContext
) -> None:
    page = await context.new_page()
    await _sign_in(page, await _token(e2e, ACME, Role.ADMIN))
    await page.goto("/console/policies/strict")
    editor = page.get_by_label("Policy document (YAML)")
    await editor.fill("min_severity: catastrophic\n")
    await expect(page.locator("#policy-status")).to_contain_text("min_severity")
    await expect(editor).to_have_attribute("aria-invalid", "true")
    await editor.fill("min_severity: warning\nmax_comments: 10\n")
    await expect(page.locator("#policy-status")).to_contain_text("Valid against the schema")
    await page.get_by_role("button", name="Save version 1").click()
    await expect(page.get_by_role("table", name="Every version, newest first")).to_contain_text(
        "v1"
    )

    await page.get_by_label("Policy document (YAML)").fill(
        "min_severity: critical\nmax_comments: 10\n"
    )
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.get_by_role("table", name="Every version, newest first")).to_contain_text(
        "v2"
    )
    diff = page.get_by_label("Differences between the versions")
    await expect(diff).to_contain_text("- min_severity: warning")
    await expect(diff).to_contain_text("+ min_severity: critical")
    await _shot(page, "policy")
    versions = await e2e.rows(
        "SELECT version, config ->> 'min_severity' AS severity FROM policies"
        " WHERE name = 'strict' ORDER BY version"
    )
    assert versions == [
        {"version": 1, "severity": "warning"},
        {"version": 2, "severity": "critical"},
    ]


async def test_a_provider_key_is_added_and_shown_masked(e2e: E2E, context: BrowserContext) -> None:
    page = await context.new_page()
    await _sign_in(page, await _token(e2e, ACME, Role.ADMIN))
    await page.get_by_role("link", name="Provider keys").click()
    key = "sk-console-test-" + uuid.uuid4().hex[:16] + "wxyz"
    await page.get_by_label("Provider").select_option("openai")
    await page.get_by_label("API key").fill(key)
    await page.get_by_label("Verify with one minimal call").uncheck()
    await page.get_by_role("button", name="Save key").click()
    await expect(page.locator("[data-result]")).to_contain_text("ending in wxyz")
    masked = page.get_by_role("table", name="Keys, masked")
    await expect(masked).to_contain_text("••••wxyz")
    assert key not in await page.content()
    assert await page.get_by_label("API key").input_value() == ""
    await _shot(page, "provider-keys")

    # The saved Anthropic key is checked with one call to the (simulated) provider.
    await page.get_by_role("button", name="Verify anthropic key").click()
    await expect(page.locator("[data-result]")).to_contain_text("The provider accepted the key")
    # Deleting asks first; the row goes.
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="Delete openai key").click()
    await expect(page.locator("[data-result]")).to_contain_text("Deleted the openai key")
    await expect(masked).not_to_contain_text("••••wxyz")
    rows = await e2e.rows(
        "SELECT k.provider FROM provider_keys k JOIN workspaces w ON w.id = k.workspace_id"
        " WHERE w.slug = 'acme'"
    )
    assert [r["provider"] for r in rows] == ["anthropic"]


async def test_usage_is_charted_and_downloads_as_csv(e2e: E2E, context: BrowserContext) -> None:
    await _reviewed_run(e2e)
    page = await context.new_page()
    await _sign_in(page, await _token(e2e, ACME, Role.BILLING))
    await expect(page).to_have_url(f"{e2e.api_url}/console/usage")
    await expect(page.get_by_text("Plan and quota this month")).to_be_visible()
    chart = await page.evaluate(
        "(() => { const c = window.Chart.getChart('usage-chart');"
        " return c.data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)]); })()"
    )
    charted = dict(chart)
    assert charted["Input tokens"] > 0, charted
    assert charted["Reviews"] >= 1, charted
    await _shot(page, "usage")

    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download CSV").click()
    download = await download_info.value
    saved = await download.path()
    rows = list(csv.DictReader(io.StringIO(await asyncio.to_thread(saved.read_text))))
    assert {r["type"] for r in rows} >= {"review", "llm_input_tokens", "llm_output_tokens"}
    tokens = sum(int(r["quantity"]) for r in rows if r["type"] == "llm_input_tokens")
    assert tokens == charted["Input tokens"]


async def test_a_member_cannot_reach_admin_pages(e2e: E2E, context: BrowserContext) -> None:
    page = await context.new_page()
    await _sign_in(page, await _token(e2e, ACME, Role.MEMBER))
    navigation = page.get_by_role("navigation", name="Console")
    await expect(navigation.get_by_role("link", name="Runs")).to_be_visible()
    for hidden in ("Provider keys", "Team", "Audit log", "Usage"):
        await expect(navigation.get_by_role("link", name=hidden)).to_have_count(0)
    for path in ("/console/keys", "/console/team", "/console/audit", "/console/usage"):
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Not available to your role"
        )
    await _shot(page, "member-denied")
    # The API says the same to the session itself.
    status = await page.evaluate("fetch('/v1/workspaces/acme/provider-keys').then(r => r.status)")
    assert status == 403


async def test_another_workspaces_run_is_not_found(e2e: E2E, context: BrowserContext) -> None:
    run = await _reviewed_run(e2e)
    page = await context.new_page()
    await _sign_in(page, await _token(e2e, GLOBEX, Role.OWNER))
    await page.goto(f"/console/runs/{run['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    await _shot(page, "other-workspace-run")
    status = await page.evaluate(
        f"fetch('/v1/workspaces/acme/runs/{run['id']}').then(r => r.status)"
    )
    assert status == 404


async def test_a_write_without_the_sessions_csrf_token_is_refused(
    e2e: E2E, context: BrowserContext
) -> None:
    page = await context.new_page()
    await _sign_in(page, await _token(e2e, ACME, Role.ADMIN))
    (cookie,) = [c for c in await context.cookies() if c["name"] == "sentinel_console"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    repository = (await e2e.rows("SELECT id FROM repositories WHERE name = :n", n=ACME.full_name))[
        0
    ]
    url = f"{e2e.api_url}/v1/workspaces/acme/repositories/{repository['id']}"
    async with httpx.AsyncClient(cookies={"sentinel_console": cookie["value"]}) as client:
        refused = await client.patch(url, json={"is_enabled": False})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf"
        allowed = await client.get(url.rsplit("/", 1)[0])
        assert allowed.status_code == 200

    # Signing out ends the session on the server, not only in this browser.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in to Sentinel")).to_be_visible()
    async with httpx.AsyncClient(cookies={"sentinel_console": cookie["value"]}) as client:
        assert (await client.get(url.rsplit("/", 1)[0])).status_code == 401


async def test_the_team_and_audit_pages_show_the_workspaces_records(
    e2e: E2E, context: BrowserContext
) -> None:
    page = await context.new_page()
    await _sign_in(page, await _token(e2e, ACME, Role.OWNER))
    await page.get_by_role("link", name="Team").click()
    await page.get_by_label("Email").fill("new.person@acme.test")
    await page.get_by_role("button", name="Invite").click()
    await expect(page.get_by_role("table", name="Invitations")).to_contain_text(
        "new.person@acme.test"
    )
    await _shot(page, "team")
    await page.get_by_role("link", name="Audit log").click()
    events = page.get_by_role("table", name="Admin writes, newest first")
    await expect(events).to_contain_text("invitation")
    await expect(events).to_contain_text("console.signed_in")
    await _shot(page, "audit")


async def test_a_member_signs_in_with_github(e2e: E2E, context: BrowserContext) -> None:
    (owner,) = await e2e.rows(
        "SELECT u.github_login FROM users u JOIN team_members m ON m.user_id = u.id"
        " JOIN workspaces w ON w.id = m.workspace_id WHERE w.slug = 'acme' AND m.role = 'owner'"
    )
    e2e.github.web_login = owner["github_login"]  # signed in to GitHub in this browser
    page = await context.new_page()
    await page.goto("/console/sign-in")
    await page.get_by_role("link", name="Sign in with GitHub").click()
    # The account is in both workspaces of the stack: GitHub sign-in asks which.
    await expect(page.get_by_text("member of several workspaces")).to_be_visible()
    await page.get_by_role("link", name="acme", exact=True).click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(page.locator("#who")).to_contain_text("acme · owner")
    await _shot(page, "signed-in-with-github")
    (token,) = await e2e.rows(
        "SELECT id, revoked_at FROM api_tokens WHERE name = :n",
        n=f"console session (GitHub @{owner['github_login']})",
    )
    assert token["revoked_at"] is None
    # The GitHub user token went to GitHub only: not to the page, not to Sentinel's tables.
    assert not [t for t in e2e.github.user_tokens if t in await page.content()]

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in to Sentinel")).to_be_visible()
    (token,) = await e2e.rows("SELECT revoked_at FROM api_tokens WHERE id = :id", id=token["id"])
    assert token["revoked_at"] is not None  # the session's own token ends with it

    e2e.github.web_login = "someone-else"
    await page.get_by_role("link", name="Sign in with GitHub").click()
    await expect(page.get_by_role("alert")).to_contain_text("not a member of a Sentinel workspace")
    # GitHub refusing the App's client secret (rotated on GitHub, not here) is said so.
    e2e.github.web_login = owner["github_login"]
    real_secret, e2e.github.client_secret = e2e.github.client_secret, "rotated"
    try:
        await page.get_by_role("link", name="Sign in with GitHub").click()
        await expect(page.get_by_role("alert")).to_contain_text("GitHub did not accept")
    finally:
        e2e.github.client_secret = real_secret
    # A callback that this browser did not start is refused, whatever its code.
    await page.goto("/console/oauth/github/callback?code=stolen&state=forged")
    await expect(page.get_by_role("alert")).to_contain_text("did not start here")
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
