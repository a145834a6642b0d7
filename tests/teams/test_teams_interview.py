"""A whole postmortem in a Teams channel's reply chain, over real HTTP, to a stored case."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import col, select

from storage.models import Case, ConversationRef, Person, PreventionAction, RawAnswer, UserAlias
from tests.teams.activities import ALICE, BOB, CAROL, CHANNEL_ID, User, find_action, submitted
from tests.teams.conftest import Bot
from tests.teams.standins import Sent


class Chain:
    """One reply chain: the post that @mentioned the bot, and everything under it."""

    def __init__(self, bot: Bot, root: str):
        self.bot = bot
        self.root = root
        self.id = f"{CHANNEL_ID};messageid={root}"

    @classmethod
    async def start(cls, bot: Bot, text: str, user: User = ALICE) -> tuple[Chain, list[Sent]]:
        post = bot.teams.channel_post(text, user=user)
        mark = len(bot.connector.sent)
        assert await bot.post(post) == 200
        return cls(bot, post["id"]), bot.connector.since(mark)

    async def say(self, text: str, user: User = ALICE) -> list[Sent]:
        mark = len(self.bot.connector.sent)
        assert await self.bot.post(self.bot.teams.channel_reply(self.root, text, user=user)) == 200
        return self.bot.connector.since(mark)

    def last_card_with(self, title: str) -> Sent:
        for sent in reversed(self.bot.connector.to(self.id)):
            if sent.card is not None and _has_action(sent.card, title):
                return sent
        raise AssertionError(f"no card with {title!r} in the chain")

    async def press(
        self, title: str, user: User = ALICE, *, card: Sent | None = None, **inputs: str
    ) -> list[Sent]:
        card = card or self.last_card_with(title)
        assert card.card is not None
        value = submitted(find_action(card.card, title), **inputs)
        mark = len(self.bot.connector.sent)
        assert await self.bot.post(self.bot.teams.submit(self.id, card.id, value, user=user)) == 200
        return self.bot.connector.since(mark)


def _has_action(card: dict[str, Any], title: str) -> bool:
    try:
        find_action(card, title)
    except AssertionError:
        return False
    return True


def texts(sent: list[Sent]) -> str:
    return "\n".join(s.text for s in sent)


async def test_a_whole_interview_in_a_channel_reply_chain(bot: Bot) -> None:
    bot.connector.members[CAROL.aad] = CAROL.member()  # known to Teams, never talked to the bot
    chain, first = await Chain.start(bot, "postmortem Checkout 502s after the payments pool change")
    assert "Postmortem **#1**: Checkout 502s" in texts(first)
    assert all(s.conversation_id == chain.id for s in first), "answers go in the post's reply chain"
    severity_card = chain.last_card_with("SEV2")

    replies = await chain.press("SEV2")
    assert "capability area" in texts(replies)
    update = bot.connector.updates()[-1]
    assert update.id == severity_card.id and "✓ **SEV2** · Alice Martin" in update.text

    assert "services" in texts(await chain.press("Answer", choice="deploy"))
    await chain.say("checkout-api, payments, pgbouncer", BOB)
    await chain.say("3 hours ago")
    await chain.say("+9m", BOB)
    await chain.say("+41m")
    await chain.say("+1h12m")
    await chain.say(
        "- 502 rate on checkout-api rose to 14% (Grafana: Checkout overview)\n"
        "- PagerDuty: CheckoutErrorBudgetBurn fired",
        BOB,
    )
    await chain.press("Done", BOB)
    await chain.say("Suspected the CDN edge in eu-west — cost: 15 min purging caches", BOB)
    await chain.say("done", BOB)
    await chain.say("The payments-db CPU alarm pointed at the database, which was idle — cost: 10 min", BOB)
    await chain.say("done", BOB)
    await chain.say("skip", BOB)  # where we got lucky
    await chain.say("Checked the checkout error dashboard: 502s only on requests that call payments", BOB)
    await chain.say("pgbouncer SHOW POOLS: cl_waiting 400, pool_size 20 since the 13:50 config deploy")
    await chain.say("done")
    await chain.say(
        "A config change cut the pgbouncer pool for payments from 200 to 20, applied without a "
        "capacity check; at peak, payment requests queued until checkout's 30 s timeout."
    )
    await chain.say("No alert on connection-pool saturation")
    assert "prevention plan" in texts(await chain.say("done"))

    # The first action through the card's form, its owner picked with the people picker.
    replies = await chain.press(
        "Add a prevention action",
        description="Alert when pgbouncer cl_waiting > 50 for 5 minutes",
        owner=CAROL.aad,
        due="2026-12-04",
        kind="detect",
    )
    assert "Risk check" in texts(replies)
    await chain.press("None of these")

    # The second one typed, its owner @mentioned.
    await chain.say("Check pool-size changes against peak connection counts in CI")
    assert "due" in texts(await chain.say("<at>Bob Smith</at>"))
    await chain.say("end of month")
    await chain.press("prevent")
    await chain.say("complexity")
    review = await chain.press("No more actions")
    assert "Here is the draft" in texts(review) and "Alert when pgbouncer" in texts(review)
    await chain.press("Confirm")
    mark = len(bot.connector.sent)
    await chain.press("Yes, publish")
    published = bot.connector.sent[mark:]

    # The case, as a card in the chain, with its Markdown one click away.
    case_card = next(s for s in published if s.card and "Prevention plan" in s.text)
    assert case_card.conversation_id == chain.id
    for section in ("Summary", "Timeline", "Symptoms", "Misjudgment risks", "Diagnostic path", "Root cause"):
        assert section in case_card.text
    assert "owner <at>Carol Diaz</at>, due 2026-12-04, detect, open" in case_card.text
    assert case_card.card is not None
    markdown = find_action(case_card.card, "Markdown")["card"]["body"][1]["value"]
    assert markdown.startswith("# Case #1: Checkout 502s after the payments pool change")
    assert len(str(case_card.body).encode()) < 28_000

    # Each owner is told in a new 1:1 chat (the bot had none with them yet).
    created = {s.body["members"][0]["id"] for s in bot.connector.created()}
    assert created == {BOB.id, CAROL.id}
    for owner in (BOB, CAROL):
        dm = bot.connector.to(f"a:personal-{owner.id}")
        assert len(dm) == 1 and "You own 1 prevention action(s) from case #1" in dm[0].text

    async with bot.db.transaction() as session:
        case = (await session.exec(select(Case))).one()
        assert (case.status, case.severity, case.area) == ("published", "SEV2", "deploy")
        assert case.services == ["checkout-api", "payments", "pgbouncer"]
        assert case.detected_at and case.started_at
        assert case.detected_at - case.started_at == dt.timedelta(minutes=9)
        actions = (await session.exec(select(PreventionAction).order_by(col(PreventionAction.number)))).all()
        people = {p.id: p for p in (await session.exec(select(Person))).all()}
        owners = [(people[a.owner_id].platform_user_id, people[a.owner_id].display_name) for a in actions]
        assert owners == [(CAROL.id, "Carol Diaz"), (BOB.id, "Bob Smith")]
        assert [(a.kind, a.status, a.due_date) for a in actions] == [
            ("detect", "open", dt.date(2026, 12, 4)),
            ("prevent", "open", dt.date(2026, 11, 30)),
        ]
        assert people[case.lead_id].timezone == "Europe/Paris"
        raw = (await session.exec(select(RawAnswer))).all()
        assert any(
            r.question_key == "services" and people[r.responder_id].platform_user_id == BOB.id for r in raw
        )
        refs = {
            (r.scope, r.conversation_id, r.user_id)
            for r in (await session.exec(select(ConversationRef))).all()
        }
        assert ("channel", CHANNEL_ID, None) in refs
        assert ("personal", f"a:personal-{CAROL.id}", CAROL.id) in refs
        alias = (await session.exec(select(UserAlias).where(UserAlias.alias == CAROL.aad))).one()
        assert alias.user_id == CAROL.id

    # A stale button changes nothing: the severity question was answered long ago.
    stale = await chain.press("SEV1", card=severity_card)
    assert "already answered" in texts(stale) and "interview has ended" in texts(stale)
    async with bot.db.transaction() as session:
        assert (await session.exec(select(Case))).one().severity == "SEV2"


async def test_commands_in_a_channel_and_in_a_personal_chat(bot: Bot) -> None:
    chain, first = await Chain.start(bot, "help")
    assert "postmortem [title]" in texts(first)
    assert "no open prevention actions" in texts(await chain.say("actions", BOB))
    personal = "a:1hUHOx0ZrO9wyFyVmgbp2p6oL2_bob"
    answer = await bot.say(bot.teams.personal(personal, "postmortem Disk full on db-3", user=BOB))
    assert any("Postmortem **#1**: Disk full on db-3" in t for t in answer)
    assert all(s.conversation_id == personal for s in bot.connector.to(personal))
    answer = await bot.say(bot.teams.personal(personal, "SEV3", user=BOB))
    assert any("capability area" in t for t in answer)


async def test_a_redelivered_activity_is_applied_once(bot: Bot) -> None:
    chain, _ = await Chain.start(bot, "postmortem Queue backlog")
    answer = bot.teams.channel_reply(chain.root, "SEV3")
    assert await bot.post(answer) == 200
    mark = len(bot.connector.sent)
    assert await bot.post(answer) == 200  # the Bot Framework retries a delivery it thinks failed
    assert bot.connector.since(mark) == []
    async with bot.db.transaction() as session:
        assert (await session.exec(select(Case))).one().severity == "SEV3"


async def test_a_redelivered_card_press_is_quiet_not_stale(bot: Bot) -> None:
    chain, _ = await Chain.start(bot, "postmortem Queue backlog")
    card = chain.last_card_with("SEV2")
    assert card.card is not None
    press = bot.teams.submit(chain.id, card.id, submitted(find_action(card.card, "SEV2")))
    assert await bot.post(press) == 200
    mark = len(bot.connector.sent)
    assert await bot.post(press) == 200
    assert bot.connector.sent[mark:] == []


async def test_a_button_of_a_question_the_interview_moved_past_is_refused(bot: Bot) -> None:
    chain, _ = await Chain.start(bot, "postmortem Queue backlog")
    severity_card = chain.last_card_with("SEV2")
    assert "capability area" in texts(await chain.press("SEV2"))
    updates = len(bot.connector.updates())

    stale = await chain.press("SEV1", card=severity_card, user=BOB)

    assert "already been answered" in texts(stale) and "now at the capability area" in texts(stale)
    assert len(bot.connector.updates()) == updates, "a refused press leaves the card as it was"
    async with bot.db.transaction() as session:
        assert (await session.exec(select(Case))).one().severity == "SEV2"
    assert "services" in texts(await chain.press("Answer", choice="deploy"))  # still at the area question
