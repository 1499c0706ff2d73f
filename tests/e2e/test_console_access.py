"""The console is usable without a mouse and on a phone, and axe-core (the accessibility
engine browsers' audits use, from npm) finds no serious or critical violation on any page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from app.models.identity import Role
from tests.e2e.conftest import ACME, E2E
from tests.e2e.test_console import _reviewed_run, _shot, _sign_in, _token

AXE = Path(__file__).resolve().parents[2] / "console" / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None or not AXE.exists(),
    reason="needs Debian's chromium and console/node_modules (./scripts/test installs both)",
)


async def _violations(page: Page) -> list[str]:
    await page.locator("main[data-ready]").wait_for()
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    return list(found)


async def test_no_page_has_a_serious_accessibility_violation(e2e: E2E, browser: Browser) -> None:
    run = await _reviewed_run(e2e)
    # axe is injected as a script, which the console's CSP forbids: this context bypasses it.
    context = await browser.new_context(base_url=e2e.api_url, bypass_csp=True)
    try:
        page = await context.new_page()
        await page.goto("/console/sign-in")
        problems = {"sign-in": await _violations(page)}
        await _sign_in(page, await _token(e2e, ACME, Role.OWNER))
        for path in (
            "/console/runs", f"/console/runs/{run['id']}", "/console/repositories",
            "/console/policies", "/console/policies/default", "/console/keys", "/console/team",
            "/console/audit", "/console/usage",
        ):  # fmt: skip
            await page.goto(path)
            problems[path] = await _violations(page)
    finally:
        await context.close()
    assert {path: found for path, found in problems.items() if found} == {}


async def test_signing_in_and_moving_around_by_keyboard(e2e: E2E, browser: Browser) -> None:
    context = await browser.new_context(base_url=e2e.api_url)
    try:
        page = await context.new_page()
        await page.goto("/console")
        await page.locator("main[data-ready]").wait_for()
        await page.keyboard.press("Tab")  # the skip link comes first
        await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        token = page.get_by_label("API token")
        await token.focus()
        await page.keyboard.type(await _token(e2e, ACME, Role.ADMIN))
        await page.keyboard.press("Enter")
        # The new page's heading takes the focus, so a screen reader announces where one is.
        await expect(page.get_by_role("heading", level=1)).to_be_focused()
        runs = page.get_by_role("navigation", name="Console").get_by_role("link", name="Runs")
        await runs.focus()
        for _ in range(6):  # Runs → … → Usage
            await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Usage")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Usage")
    finally:
        await context.close()


async def test_pages_fit_a_phone_screen(e2e: E2E, browser: Browser) -> None:
    run = await _reviewed_run(e2e)
    context = await browser.new_context(
        base_url=e2e.api_url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    try:
        page = await context.new_page()
        await _sign_in(page, await _token(e2e, ACME, Role.ADMIN))
        for path, name in (
            (f"/console/runs/{run['id']}", "phone-run"),
            ("/console/usage", "phone-usage"),
        ):
            await page.goto(path)
            await _shot(page, name)
            # Nothing wider than the screen but the tables, which scroll inside their frame.
            overflow = await page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= 390, (path, overflow)
    finally:
        await context.close()
