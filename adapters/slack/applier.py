"""The Slack steps of the conveyor: an inbox row into the core, an outbox row onto Slack.

A slash command `start` needs its thread before it can be applied: the thread hangs from a
root message whose ts names it. That root is the row's prelude: claimed in its own commit,
posted, its ts kept on the row, then the start is applied in the new thread. A crash after the
claim and before the ts was kept cannot tell whether the root landed, so the start is not
posted again (at-most-once): the person is told to run the command again.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.conveyor import Conveyor
from adapters.slack.blocks import answered, reply_messages, root_message
from adapters.slack.delivery import SEND_ERRORS, Target, update_message
from adapters.slack.home import SlackSurfaces
from adapters.slack.places import thread_key
from adapters.slack.runtime import PLATFORM, Runtime, Workspace, flat
from bot.messages import Inbound, InboundKind, Reply, ReplyKind
from bot.outbox import Applying, Written, apply_run, reply_from, settle_without_applying
from bot.reminders.refresh import might_change_actions, refresh_digests
from storage import inbox, questions
from storage.models import InboxEntry, OutboxEntry

log = logging.getLogger(__name__)
HomePublisher = Callable[[AsyncWebClient, Workspace, str, str | None], Awaitable[None]]

INTERRUPTED_START = Reply(
    "Your postmortem was being started when Casebook restarted, and I can't tell whether its "
    "thread was created. Please run the command again.",
    ReplyKind.ERROR,
    ephemeral=True,
)


class SlackApplier:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.home: HomePublisher | None = None  # App Home's page, set by the interactions
        self.surfaces: SlackSurfaces | None = None  # digest edits and App Homes after a change
        self.conveyor = Conveyor(
            platform=PLATFORM,
            db=rt.db,
            settings=rt.core,
            spawn=rt.work.spawn,
            apply=self.apply,
            send=self.send,
            after=self.after,
            clock=rt.clock,
            arrivals=rt.arrivals,
            repeatable=_is_repeatable,
            rewrites=_rewritten_message,
        )
        rt.conveyor = self.conveyor

    # --- inbox -> core ------------------------------------------------------------------------

    async def apply(self, entries: list[InboxEntry], more: Callable[[], bool]) -> list[Written]:
        """The first row, and the rows after it while the core goes on in the same
        transaction (a burst of answers to one question); a start goes alone."""
        if entries[0].payload["after"].get("start") is not None:
            return [await self._start(entries[0])]
        run = list(itertools.takewhile(lambda e: e.payload["after"].get("start") is None, entries))
        asked: dict[tuple[str, str], str | None] = {}  # the run's question posts, looked up once
        items = [await self._applying(entry, asked=asked) for entry in run]
        return await apply_run(self.rt.db, items, settings=self.rt.core, more=more)

    async def _start(self, entry: InboxEntry) -> Written:
        client = await self.rt.client_for(entry.payload["workspace"]["tenant"])
        target = Target(**entry.payload["target"])
        root = entry.prelude_result or await self._root(client, entry, target)
        if isinstance(root, Written):
            return root  # the start cannot go on: its refusal is what was written
        key = thread_key(target.channel or "", root)
        target = replace(target, thread_ts=root, via_command=False)
        applying = await self._applying(entry, key, target)
        return (await apply_run(self.rt.db, [applying], settings=self.rt.core))[0]

    async def _applying(
        self,
        entry: InboxEntry,
        key: str | None = None,
        target: Target | None = None,
        asked: dict[tuple[str, str], str | None] | None = None,
    ) -> Applying:
        """The row as the core's Inbound; `key` and `target`: a start's new thread."""
        assert entry.id is not None
        payload = entry.payload
        workspace = Workspace(**payload["workspace"])
        client = await self.rt.client_for(workspace.tenant)
        target = target or Target(**payload["target"])
        inbound = await self.rt.inbound(
            client,
            workspace,
            user=target.user,
            text=payload["text"],
            kind=InboundKind(payload["kind"]),
            key=key or entry.conversation_key,
            event_id=None,  # the inbox row is the delivery's one record (inbox.mark_applied)
            direct=payload["direct"],
            form=payload["form"],
            step=payload["step"],
            also_mentioned=tuple(payload["also_mentioned"]),
            at=entry.received_at,
        )
        place = {"workspace": payload["workspace"], "target": flat(target)}
        # The replies go out under the row's own conversation (a start's: its channel's).
        locate = partial(_question_to_edit, target, {} if asked is None else asked)
        return Applying(inbound, entry.id, place, key=entry.conversation_key, locate=locate)

    async def _root(self, client: AsyncWebClient, entry: InboxEntry, target: Target) -> str | Written:
        """Post the start's root once; when the start cannot go on, the row is settled with a
        refusal, which is returned."""
        assert entry.id is not None and target.channel is not None
        # Through the conveyor's group commits: the claim shares a commit with the others.
        commits = self.conveyor.ledger
        claimed = await commits.run(partial(inbox.claim_prelude, entry_id=entry.id, at=self.rt.clock()))
        if not claimed:
            log.warning("a postmortem start (inbox row %s) was cut off while posting its root", entry.id)
            self.conveyor.tally.at_most_once += 1
            return await self._refuse(entry, target, INTERRUPTED_START)
        root = await self._post_root(client, target.channel, target.user)
        if root is None:
            return await self._refuse(entry, target, self._cannot_post())
        await commits.run(partial(inbox.keep_prelude, entry_id=entry.id, result=root))
        return root

    async def _refuse(self, entry: InboxEntry, target: Target, reply: Reply) -> Written:
        assert entry.id is not None
        inbound = Inbound(
            platform=PLATFORM,
            tenant=entry.tenant,
            conversation_key=entry.conversation_key,
            user_id=target.user,
            at=self.rt.clock(),
        )
        place = {"workspace": entry.payload["workspace"], "target": flat(target)}
        return await settle_without_applying(
            self.rt.db, inbound, inbox_id=entry.id, place=place, replies=[reply]
        )

    def _cannot_post(self) -> Reply:
        return Reply(
            "I can't post in this channel. Add me to it (`/invite @Casebook`), then run "
            f"`{self.rt.slack.command}` again.",
            ReplyKind.ERROR,
            ephemeral=True,
        )

    async def _post_root(self, client: AsyncWebClient, channel: str, user: str) -> str | None:
        message = root_message(state="starting", command=self.rt.slack.command, lead=user)
        for attempt in (1, 2):
            try:
                response = await client.chat_postMessage(channel=channel, **message)
                return str(response["ts"])
            except SEND_ERRORS as error:
                reason = error.response.get("error") if isinstance(error, SlackApiError) else repr(error)
                if reason == "not_in_channel" and attempt == 1 and await _join(client, channel):
                    continue
                log.warning("cannot post a postmortem root in %s: %s", channel, reason)
                return None
        return None

    # --- outbox -> Slack -----------------------------------------------------------------------

    async def send(self, row: OutboxEntry) -> str:
        place = row.payload["place"]
        workspace = Workspace(**place["workspace"])
        target = Target(**place["target"])
        reply = reply_from(row.payload["reply"])
        client = await self.rt.client_for(workspace.tenant)
        courier = self.rt.courier(client, workspace)
        if reply.react and await courier.react(target, reply.react):
            return "sent"
        if reply.records_step and target.channel and place.get("edit"):
            # Found when the answer was applied: this edit only, never a post in its place (the
            # row goes again after a crash, see `_is_repeatable`).
            edited = await _edit(client, target.channel, place["edit"], reply)
            return "sent" if edited else "failed"
        if reply.records_step and await self._edit_question(client, target, reply):
            return "sent"
        delivered, ts = await courier.send_one(target, reply)
        if delivered and ts and reply.kind == ReplyKind.QUESTION and reply.step and target.channel:
            remember = partial(
                questions.remember,
                platform=PLATFORM,
                conversation_key=thread_key(target.channel, target.thread_ts or ts),
                step=reply.step,
                ref=ts,
                at=self.rt.clock(),
            )
            await self.conveyor.ledger.run(remember)
        if delivered and reply.publication:
            await self.rt.mark_published(client, target, [reply])
        return "sent" if delivered else "failed"

    async def _edit_question(self, client: AsyncWebClient, target: Target, reply: Reply) -> bool:
        """Edit the message that asked `reply.records_step` into `reply`; False when none is known."""
        if not (target.channel and target.thread_ts and reply.records_step):
            return False
        async with self.rt.db.reads() as session:
            ts = await questions.recall(
                session,
                platform=PLATFORM,
                conversation_key=thread_key(target.channel, target.thread_ts),
                step=reply.records_step,
            )
        return ts is not None and await _edit(client, target.channel, ts, reply)

    # --- cosmetic touches once the replies are out ---------------------------------------------

    async def after(self, entry: InboxEntry, replies: list[Reply]) -> None:
        if self.surfaces is not None and not refused(replies) and might_change_actions(entry.payload["text"]):
            await refresh_digests(
                self.rt.db,
                {PLATFORM: self.surfaces},
                now=self.rt.clock(),
                default_timezone=self.rt.core.default_timezone,
                public_url=self.rt.core.public_url,
                platform=PLATFORM,
                tenant=entry.tenant,
            )
        touches: dict[str, Any] = entry.payload["after"]
        if not touches:
            return
        workspace = Workspace(**entry.payload["workspace"])
        client = await self.rt.client_for(workspace.tenant)
        target = Target(**entry.payload["target"])
        if "start" in touches:
            await self._settle_root(client, target, entry, replies, title=touches["start"].get("title"))
        press = touches.get("press")
        recorded = any(r.records_step for r in replies)  # the record line took the question's place
        if press and not refused(replies) and not recorded:
            blocks = answered(press["blocks"], user_id=target.user, label=press["label"])
            update = {"text": press["text"], "blocks": blocks}
            await update_message(client, press["channel"], press["ts"], update)
        if touches.get("home") and self.home is not None:
            shown = [r.text for r in replies if not r.to_user]
            await self.home(client, workspace, target.user, "\n".join(shown) or None)

    async def _settle_root(
        self,
        client: AsyncWebClient,
        target: Target,
        entry: InboxEntry,
        replies: list[Reply],
        title: str | None,
    ) -> None:
        """The root says how the start went."""
        async with self.rt.db.reads() as session:
            fresh = await session.get(InboxEntry, entry.id)
        root = fresh.prelude_result if fresh else None
        channel = target.channel
        if root is None or channel is None:
            return
        number = next((r.case_number for r in replies if r.case_number), None)
        message = root_message(
            state="running" if number else "failed",
            command=self.rt.slack.command,
            lead=target.user,
            number=number,
            title=title,
        )
        await update_message(client, channel, root, message)


async def _edit(client: AsyncWebClient, channel: str, ts: str, reply: Reply) -> bool:
    [message, *_] = reply_messages(reply)
    return await update_message(client, channel, ts, dict(message))


async def _question_to_edit(
    target: Target, asked: dict[tuple[str, str], str | None], session: AsyncSession, reply: Reply
) -> dict[str, Any]:
    """The message a record line replaces, when its question's post is known. `asked` keeps
    what one transaction found: a question is posted only after it commits."""
    if not (reply.records_step and target.channel and target.thread_ts):
        return {}
    place = (thread_key(target.channel, target.thread_ts), reply.records_step)
    if place not in asked:
        asked[place] = await questions.recall(
            session, platform=PLATFORM, conversation_key=place[0], step=place[1]
        )
    ts = asked[place]
    return {"edit": ts} if ts else {}


def _rewritten_message(payload: dict[str, Any]) -> str | None:
    """An edit replaces its message's whole text: the newest of several is all that shows."""
    edit = payload["place"].get("edit")
    return f"{payload['place']['target'].get('channel')}:{edit}" if edit else None


def _is_repeatable(payload: dict[str, Any]) -> bool:
    """A reaction added twice is one reaction (Slack answers `already_reacted`); a message
    edited twice into the same text is edited once."""
    return bool(payload["reply"].get("react")) or bool(payload["place"].get("edit"))


def refused(replies: list[Reply]) -> bool:
    return bool(replies) and replies[0].kind == ReplyKind.ERROR


async def _join(client: AsyncWebClient, channel: str) -> bool:
    try:
        await client.conversations_join(channel=channel)
    except SlackApiError as error:
        log.info("could not join %s: %s", channel, error.response.get("error"))
        return False
    return True
