"""Text across the boundary, Block Kit limits, settings, and the no-double-post retry policy."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import MAX_BLOCKS, MAX_SECTION, reply_messages, split_text
from adapters.slack.client import web_client
from adapters.slack.config import SlackSettings
from adapters.slack.mrkdwn import WORD_JOINER, from_slack, to_mrkdwn
from bot.config import ConfigError
from bot.messages import Choice, ListItem, Reply, ReplyKind, Section
from bot.publish import markdown_reply

# --- Markdown out, Slack markup in ------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**Severity:** SEV2", "*Severity:* SEV2"),
        ("an *italic* word and **bold**", "an _italic_ word and *bold*"),
        ("## Timeline", "*Timeline*"),
        ("- first\n  - nested", "• first\n  • nested"),
        ("see [the runbook](https://wiki/x?a=1&b=2)", "see <https://wiki/x?a=1&amp;b=2|the runbook>"),
        ("`a<b> && **not bold**`", "`a&lt;b&gt; &amp;&amp; **not bold**`"),
        ("owner <@U123ABC>, in <#C42|ops>", "owner <@U123ABC>, in <#C42|ops>"),
        ("<!channel> & <!here|here>", "&lt;!channel&gt; &amp; &lt;!here|here&gt;"),
        ("ping @here and @Everyone", f"ping @{WORD_JOINER}here and @{WORD_JOINER}Everyone"),
        ("mail ops@here.example", "mail ops@here.example"),
        ("```\n<!here> **x**\n```", "```\n&lt;!here&gt; **x**\n```"),
    ],
)
def test_markdown_becomes_safe_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


@pytest.mark.parametrize(
    ("slack", "core", "mentioned"),
    [
        ("owner <@U1|dana> and <@U2>", "owner <@U1> and <@U2>", ("U1", "U2")),
        ("in <#C1|ops> and <#C2>", "in #ops and <#C2>", ()),
        ("<!here> <!channel> <!subteam^S1|@oncall>", "@here @channel @oncall", ()),
        (
            "<https://x.io|docs> <https://y.io> <mailto:a@b.c|a@b.c>",
            "[docs](https://x.io) https://y.io a@b.c",
            (),
        ),
        ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d", ()),
    ],
)
def test_slack_markup_becomes_core_text(slack: str, core: str, mentioned: tuple[str, ...]) -> None:
    assert from_slack(slack) == (core, mentioned)


@given(st.text(alphabet=st.sampled_from(list("ab <>&@!*_`\n")), max_size=400))
@settings(max_examples=200, deadline=None)
def test_nothing_a_person_types_pings_a_crowd_or_breaks_markup(typed: str) -> None:
    core, _ = from_slack(typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    out = to_mrkdwn(core)
    assert "<!" not in out and "<" not in out.replace("&lt;", "")
    for crowd in ("@here", "@channel", "@everyone"):
        assert crowd not in out.lower()


# --- limits ------------------------------------------------------------------------------------


@given(
    st.text(alphabet=st.sampled_from(list("abc &<>\n")), max_size=3000),
    st.integers(min_value=40, max_value=400),
)
@settings(max_examples=150, deadline=None)
def test_split_text_keeps_every_character_within_the_limit(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    squeeze = str.maketrans("", "", " \n")
    assert "".join(chunks).translate(squeeze) == text.translate(squeeze)


def test_a_split_inside_a_code_fence_closes_and_reopens_it() -> None:
    text = "```\n" + "\n".join(f"line {i:04d} " + "x" * 60 for i in range(120)) + "\n```"
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(c) <= MAX_SECTION and c.count("```") % 2 == 0 for c in chunks)


def test_a_long_listing_is_split_over_messages_with_buttons_beside_their_item() -> None:
    items = tuple(
        ListItem(
            f"`1.{i}` action {i}",
            (Choice("Done", f"/done 1.{i}", form="done"), Choice("Snooze", "/s")),
            f"1.{i}",
        )
        for i in range(60)
    )
    messages = reply_messages(Reply("**Open actions** (60)", ReplyKind.LIST, items=items))
    assert len(messages) >= 3
    for message in messages:
        assert len(message["blocks"]) <= MAX_BLOCKS and message["blocks"][0]["type"] == "section"
    buttons = [e for m in messages for b in m["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (
        len(buttons) == 120
        and buttons[0]["action_id"] == "form:done:0"
        and buttons[1]["action_id"] == "choice:1"
    )


def test_a_huge_case_respects_every_limit() -> None:
    body = "\n".join(f"- symptom {i} " + "y" * 200 for i in range(200))
    sections = tuple(Section(f"Section {n}", body) for n in range(6))
    reply = markdown_reply(9, "T" * 300, "# Case #9: " + "T" * 300 + "\n\nbody", sections, intro="Intro.")
    messages = reply_messages(reply)
    header = messages[0]["blocks"][0]
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150
    for message in messages:
        assert len(message["blocks"]) <= MAX_BLOCKS
        assert all(len(b.get("text", {}).get("text", "")) <= MAX_SECTION for b in message["blocks"])
    assert "case-9.md" in str(messages[-1]["blocks"][-1])


# --- settings ------------------------------------------------------------------------------------


def test_settings_say_what_to_fix() -> None:
    assert SlackSettings.from_env({}).mode == "off"
    http = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:9/api"}
    )
    assert http.api_url == "http://127.0.0.1:9/api/" and http.mode == "single-workspace, http"
    socket = SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket.mode == "single-workspace, socket mode"
    refused = {
        "SLACK_SIGNING_SECRET is required": {"SLACK_BOT_TOKEN": "xoxb-1"},
        "starts with xoxb-": {"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_SIGNING_SECRET": "s"},
        "not both": {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2"},
        "SLACK_CLIENT_SECRET is missing": {"SLACK_CLIENT_ID": "1", "SLACK_SIGNING_SECRET": "s"},
        "set SLACK_BOT_TOKEN": {"SLACK_SIGNING_SECRET": "s"},
        r"an http\(s\) URL": {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": "slack.com",
        },
        "SLACK_COMMAND": {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_COMMAND": "pm"},
    }
    for message, env in refused.items():
        with pytest.raises(ConfigError, match=message):
            SlackSettings.from_env(env)


# --- retries -------------------------------------------------------------------------------------


async def test_a_dropped_connection_is_retried_only_where_a_repeat_is_harmless() -> None:
    seen: list[str] = []

    async def drop(request: web.Request) -> web.Response:
        seen.append(request.match_info["method"])
        assert request.transport is not None
        request.transport.close()  # as if the response were lost on the way back
        return web.Response()

    app = web.Application()
    app.router.add_route("*", "/api/{method}", drop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = web_client(SlackSettings(api_url=f"http://127.0.0.1:{port}/api/"), token="xoxb-1")
    try:
        posting = client.chat_postMessage(channel="C1", text="once")
        updating = client.chat_update(channel="C1", ts="1.0", text="same again")
        for call in (posting, updating):
            with pytest.raises((aiohttp.ClientError, SlackApiError)):
                await call
    finally:
        await runner.cleanup()
    assert seen == ["chat.postMessage", "chat.update", "chat.update"]
