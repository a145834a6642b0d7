"""The library in real headless Chromium (Debian's package, driven by Playwright): skipped
cleanly where no browser is installed. Screenshots go to CASEBOOK_SCREENSHOTS (else tmp)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.db import Database
from tests.web.conftest import say, seed_demo, seed_script, serving
from tests.web.oidc_standin import CLIENT_ID, CLIENT_SECRET, start_standin

CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CASEBOOK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_browse_search_open_close_and_chart(db: Database, browser: Any, shots: Path) -> None:
    await seed_demo(db)
    async with serving(db) as (base, _):
        page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        await page.goto(base + "/")
        await page.screenshot(path=str(shots / "cases.png"), full_page=True)
        await page.fill("input[name=q]", "pgbouncer pool exhausted 502")
        await page.click("text=Search")
        await page.click("text=Checkout 502s after the payments pool change")
        assert re.search(r"/cases/1$", page.url)
        assert await page.is_visible("text=Time to resolve")
        await page.screenshot(path=str(shots / "case.png"), full_page=True)
        await page.goto(base + "/actions")
        row = page.locator("#action-1-1")
        await row.locator("input[name=evidence]").fill("https://git.example/pull/88")
        await row.locator("button:has-text('Close')").click()
        assert await page.is_visible("text=1.1 is done")
        await page.screenshot(path=str(shots / "actions.png"), full_page=True)
        await page.goto(base + "/ledger")
        chart = page.locator("svg.chart").first
        assert await chart.is_visible() and (await chart.bounding_box() or {}).get("height", 0) > 100
        await page.screenshot(path=str(shots / "ledger.png"), full_page=True)
        await page.goto(base + "/map")
        await page.screenshot(path=str(shots / "map.png"), full_page=True)
        page.set_default_timeout(5000)
        await page.emulate_media(media="print")
        await page.goto(base + "/cases/1")
        assert not await page.is_visible("text=Markdown")  # downloads and forms are not printed
        await page.screenshot(path=str(shots / "case-print.png"), full_page=True)
    listed = await say(db, "actions #1", platform="console", tenant="local", user="alice", admin=True)
    assert re.search(r"`1\.1` .* · done", listed), listed


async def test_sign_in_tenancy_sessions_and_csrf(
    db: Database, browser: Any, shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin = await start_standin()
    monkeypatch.setenv("SLACK_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SLACK_OIDC_ISSUER", standin.issuer)
    monkeypatch.setenv("CASEBOOK_SESSION_SECRET", "b" * 40)
    await seed_script(db, platform="slack", tenant="T1", title="First team outage")
    await seed_script(db, platform="slack", tenant="T1", title="First team second outage")
    await seed_script(db, platform="slack", tenant="T2", title="Second team outage")
    try:
        async with serving(db) as (base, _):
            first = await browser.new_context()
            page = await first.new_page()
            await page.goto(base + "/cases/2")
            await page.screenshot(path=str(shots / "signin.png"))
            standin.identity = {
                "sub": "bob",
                "https://slack.com/team_id": "T1",
                "https://slack.com/user_id": "bob",
            }
            await page.click("text=Sign in with Slack")
            assert await page.is_visible("h1:has-text('First team second outage')")
            # bob owns 2.1 but not carol's 2.2, and is neither lead nor admin: the core refuses.
            await page.locator("#action-2").locator("input[name=reason]").fill("not needed")
            await page.locator("#action-2 button:has-text('Cancel action')").click()
            notice = page.locator("p.flash")
            assert await notice.get_attribute("class") == "flash error"
            assert (
                await notice.inner_text() == "Only the owner of 2.2, the case lead or an admin can cancel it."
            )
            assert await page.locator("#action-2 button:has-text('Cancel action')").is_visible()
            refused = await page.request.post(base + "/actions/2.1/done", form={"evidence": "no token"})
            assert refused.status == 403

            second = await (await browser.new_context()).new_page()
            standin.identity = {
                "sub": "zed",
                "https://slack.com/team_id": "T2",
                "https://slack.com/user_id": "zed",
            }
            await second.goto(base + "/signin")
            await second.click("text=Sign in with Slack")
            answer = await second.goto(base + "/cases/2")
            assert answer is not None and answer.status == 404

            forged = await browser.new_context()
            host = base.split("//")[1].split(":")[0]
            await forged.add_cookies(
                [{"name": "casebook_session", "value": "e30.forged", "domain": host, "path": "/"}]
            )
            intruder = await forged.new_page()
            await intruder.goto(base + "/cases/1")
            assert intruder.url.split("?")[0].endswith("/signin")
    finally:
        assert standin.server is not None
        await standin.server.close()


async def test_every_action_form_says_what_happened(db: Database, browser: Any, shots: Path) -> None:
    """Snooze, reassign and cancel from the page, each answered by the core's own words in the
    notice the page shows next; a refused form is an error notice and changes nothing."""
    await seed_demo(db)
    async with serving(db) as (base, _):
        page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        page.set_default_timeout(10_000)
        await page.goto(base + "/actions")
        notice = page.locator("p.flash")

        await page.locator("#action-1-1").locator("select[name=until]").select_option("2w")
        await page.locator("#action-1-1").locator("button:has-text('Snooze')").click()
        assert await notice.get_attribute("class") == "flash info"
        assert re.search(r"1\.1.*snoozed", await notice.inner_text()), await notice.inner_text()

        await page.locator("#action-1-2").locator("select[name=owner]").select_option(label="bob")
        await page.locator("#action-1-2").locator("button:has-text('Reassign')").click()
        assert await notice.get_attribute("class") == "flash info"
        assert re.search(r"1\.2.*@?bob", await notice.inner_text()), await notice.inner_text()

        cancel = page.locator("#action-1-3")
        await cancel.locator("button:has-text('Cancel action')").click()  # no reason given
        assert await notice.get_attribute("class") == "flash error"
        assert "Say why it is no longer needed" in await notice.inner_text()
        assert await page.locator("#action-1-3 button:has-text('Cancel action')").is_visible()  # still open

        await cancel.locator("input[name=reason]").fill("covered by the alert in 1.1")
        await cancel.locator("button:has-text('Cancel action')").click()
        assert await notice.get_attribute("class") == "flash info"
        assert await notice.inner_text() == "1.3 cancelled: covered by the alert in 1.1"
        await page.screenshot(path=str(shots / "actions-cancelled.png"), full_page=True)
        await page.goto(base + "/actions")
        assert not await page.locator("p.flash").count()  # a notice is shown once
    listed = await say(db, "actions #1", platform="console", tenant="local", user="alice", admin=True)
    assert re.search(r"`1\.3` .* · cancelled", listed), listed
    assert re.search(r"`1\.2` .*@bob", listed), listed
