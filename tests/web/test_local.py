"""The embedded local mode: the console tenant without sign-in, pages, forms and the API."""

from __future__ import annotations

import json
import re

from storage.db import Database
from tests.web.conftest import csrf_of, say, seed_demo, serving


async def test_lists_searches_filters_and_pages_the_demo_case(db: Database) -> None:
    await seed_demo(db)
    await say(
        db, "postmortem Disk full on logs-1", platform="console", tenant="local", user="alice", admin=True
    )
    async with serving(db) as (base, client):
        async with client.get(base + "/") as page:
            html = await page.text()
        assert page.status == 200
        assert "Checkout 502s after the payments pool change" in html and "Disk full on logs-1" in html
        async with client.get(base + "/", params={"q": "pgbouncer connections waiting"}) as page:
            found = await page.text()
        assert "Checkout 502s" in found and "Disk full" not in found  # only published cases are ranked
        for params, shown in (
            ({"severity": "SEV2", "area": "deploy"}, True),
            ({"severity": "SEV1"}, False),
            ({"service": "pgbouncer"}, True),
            ({"service": "nothing-like-it"}, False),
            ({"status": "interviewing"}, False),
        ):
            async with client.get(base + "/", params=params) as page:
                assert ("Checkout 502s" in await page.text()) is shown, params
        async with client.get(base + "/", params={"per_page": "1", "page": "2"}) as page:
            second = await page.text()
        assert "page 2 of 2" in second and "Checkout 502s" in second and "Disk full" not in second


async def test_bad_filters_are_friendly_400s(db: Database) -> None:
    async with serving(db) as (base, client):
        for params in ({"page": "abc"}, {"severity": "SEV9"}, {"period": "last week"}, {"per_page": "1000"}):
            async with client.get(base + "/", params=params) as page:
                assert page.status == 400, params
                assert "must" in await page.text() or "period" in await page.text()
        async with client.get(base + "/ledger", params={"window": "fortnight"}) as page:
            assert page.status == 400


async def test_case_page_shows_every_section_and_the_downloads(db: Database) -> None:
    await seed_demo(db)
    async with serving(db) as (base, client):
        async with client.get(base + "/cases/1") as page:
            html = await page.text()
        for part in (
            "Summary",
            "Time to detect",
            "Time to resolve",
            "Misleading signals",
            "<h3>Where we got lucky</h3>",
            "hours before the evening sale traffic",
            "Suspected the CDN edge",
            "pgbouncer SHOW POOLS",
            "— bob",  # who gave the diagnostic step
            "Alert when pgbouncer cl_waiting &gt; 50 for 5 minutes",
            ["adds", "system", "complexity"][0],
            "Raw answers",
            "deploy/config",  # carol's / alice's raw answer as typed
        ):
            assert part in html, part
        async with client.get(base + "/cases/1.md") as md:
            assert md.headers["Content-Disposition"] == 'attachment; filename="case-1.md"'
            markdown = await md.text()
            assert markdown.startswith("# Case #1: Checkout 502s")
            assert "**Where we got lucky**\n- It peaked at 14:00 on a Tuesday" in markdown
        async with client.get(base + "/cases/1.json") as raw:
            body = json.loads(await raw.text())
        assert body["number"] == 1 and len(body["actions"]) == 3
        assert body["lucky"] == ["It peaked at 14:00 on a Tuesday, hours before the evening sale traffic"]
        async with client.get(base + "/cases/2") as missing:
            assert missing.status == 404


async def test_html_in_answers_is_shown_as_text(db: Database) -> None:
    await say(
        db,
        "postmortem <script>alert(1)</script><b>bold</b>",
        platform="console",
        tenant="local",
        user="alice",
    )
    async with serving(db) as (base, client):
        async with client.get(base + "/cases/1") as page:
            html = await page.text()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
        assert "script-src" not in page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"


async def test_closing_an_action_from_the_page_goes_through_the_core(db: Database) -> None:
    await seed_demo(db)
    async with serving(db) as (base, client):
        async with client.get(base + "/actions") as page:
            html = await page.text()
        token = csrf_of(html)
        assert "1.1" in html and "by owner" in html
        form = {"csrf": token, "evidence": "https://git.example/pull/88", "next": "/cases/1"}
        async with client.post(base + "/actions/1.1/done", data=form) as done:
            after = await done.text()
        assert done.url.path == "/cases/1"
        assert "1.1 is done" in after and "https://git.example/pull/88" in after
    listed = await say(db, "actions #1", platform="console", tenant="local", user="alice", admin=True)
    assert re.search(r"`1\.1` .* · done", listed), listed


async def test_a_form_without_its_csrf_token_changes_nothing(db: Database) -> None:
    await seed_demo(db)
    async with serving(db) as (base, client):
        async with client.get(base + "/actions"):
            pass
        for data in ({"evidence": "x"}, {"evidence": "x", "csrf": "forged"}):
            async with client.post(base + "/actions/1.1/done", data=data) as refused:
                assert refused.status == 403
                assert "did not come from Casebook" in await refused.text()
    listed = await say(db, "actions #1", platform="console", tenant="local", user="alice", admin=True)
    assert re.search(r"`1\.1` .* · open", listed), listed


async def test_refusals_of_the_core_are_shown_and_change_nothing(db: Database) -> None:
    await seed_demo(db)
    async with serving(db) as (base, client):
        async with client.get(base + "/actions") as page:
            token = csrf_of(await page.text())
        form = {"csrf": token, "until": "10 years", "next": "/actions"}
        async with client.post(base + "/actions/1.2/snooze", data=form) as refused:
            html = await refused.text()
        assert refused.status == 200 and 'class="flash error"' in html
        async with client.post(base + "/actions/9.9/done", data={"csrf": token}) as missing:
            assert "There is no action 9.9" in await missing.text()


async def test_map_and_ledger_pages_draw_svg_and_give_csv(db: Database) -> None:
    await seed_demo(db)
    async with serving(db) as (base, client):
        async with client.get(base + "/ledger") as page:
            html = await page.text()
        assert html.count("<svg") == 4 and "Incidents by severity" in html and 'class="bar"' in html
        async with client.get(base + "/ledger.csv") as csv:
            assert (await csv.text()).startswith("period,start,end,incidents")
        async with client.get(base + "/map") as page:
            assert "Cases per capability area" in await page.text()
        async with client.get(base + "/map.csv") as csv:
            assert "deploy,cases,,1,1" in await csv.text()


async def test_person_page(db: Database) -> None:
    await seed_demo(db)
    async with serving(db) as (base, client):
        async with client.get(base + "/me") as page:
            html = await page.text()
        assert page.url.path.startswith("/people/")
        assert "Add pgbouncer pool checks to the payments runbook" in html  # alice's own action
        async with client.get(base + "/people/999") as missing:
            assert missing.status == 404


async def test_api_needs_no_token_locally_and_pages(db: Database) -> None:
    await seed_demo(db)
    async with serving(db) as (base, client):
        async with client.get(base + "/api/v1/cases") as listed:
            body = await listed.json()
        assert body["total"] == 1 and body["items"][0]["open_actions"] == 3
        async with client.get(base + "/api/v1/cases/1") as one:
            assert (await one.json())["title"].startswith("Checkout 502s")
        async with client.get(base + "/api/v1/actions", params={"owner": "bob", "per_page": "1"}) as actions:
            body = await actions.json()
        assert body["total"] == 1 and body["items"][0]["ref"] == "1.1"
        async with client.get(base + "/api/v1/actions", params={"overdue": "true"}) as late:
            assert (await late.json())["total"] == 0
        async with client.get(base + "/api/v1/ledger") as ledger:
            assert (await ledger.json())["kind"] == "month"
        async with client.get(base + "/api/v1/cases", params={"severity": "bad"}) as bad:
            assert bad.status == 400 and "severity" in (await bad.json())["error"]
        async with client.get(base + "/api/v1/openapi.json") as doc:
            assert set((await doc.json())["paths"]) >= {"/api/v1/cases", "/api/v1/actions", "/api/v1/ledger"}
