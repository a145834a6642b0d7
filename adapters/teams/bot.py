"""The Teams bot: one turn = read the activity, remember where it came from, hand
it to the core, send the replies.

Thin on purpose: everything Casebook decides happens in `bot.service.handle`; this
class only translates (botbuilder's TeamsActivityHandler in, Adaptive Cards out).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ErrorResponseException
from botbuilder.schema.teams import MessagingExtensionAction, MessagingExtensionActionResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.teams import capture, cards, delivery, references
from adapters.teams.config import TeamsSettings
from adapters.teams.inbound import (
    PERSONAL,
    PLATFORM,
    Submission,
    read_submission,
    scope_of,
    tenant_of,
    to_inbound,
)
from adapters.teams.notifier import TeamsNotifier
from adapters.teams.tenancy import tenant_session
from bot.config import Settings
from bot.forms import FORMS
from bot.messages import Inbound, Mention, Reply, ReplyKind
from bot.outbox import write_replies
from bot.reminders.refresh import might_change_actions, refresh_digests
from bot.service import handle
from storage import outbox, questions, reach
from storage.db import Database
from storage.models import OutboxEntry, utcnow

log = logging.getLogger(__name__)

FOLLOWUPS = "casebook.followups"  # turn_state key: follow-up jobs to run after the response

WELCOME_CHANNEL = (
    "👋 **Casebook** is here. After an incident, start a new post with "
    "`@Casebook postmortem <title>`: I'll interview everyone in its replies (mention me in "
    "each answer), write up the case, and remind each action owner weekly in a 1:1 chat. "
    "`@Casebook help` lists every command."
)
WELCOME_PERSONAL = (
    "👋 Hi, I'm **Casebook**. Type `postmortem <title>` to write up an incident here, or "
    "`actions` to see the prevention actions you own. Your weekly reminders arrive in this chat. "
    "`help` lists every command."
)


class PersonNotFound(Exception):
    """A people-picker choice that Teams could not resolve to a member."""


@dataclass(frozen=True)
class TurnWork:
    """A turn that left follow-up job rows: the conveyor runs them after the HTTP response."""

    tenant: str
    conversation_key: str


class CasebookTeamsBot(TeamsActivityHandler):
    def __init__(self, *, db: Database, settings: Settings, teams: TeamsSettings, notifier: TeamsNotifier):
        self.db = db
        self.settings = settings
        self.teams = teams
        self.notifier = notifier

    # --- messages and card submits -------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant = _tenant(activity)
        await references.remember(self.db, activity, tenant=tenant)
        submission = read_submission(activity)
        try:
            form, picked = await self._form(turn_context, tenant, submission)
        except PersonNotFound as error:
            await self._say(turn_context, tenant, [Reply(str(error), ReplyKind.ERROR)])
            return
        inbound = to_inbound(
            activity,
            tenant=tenant,
            submission=submission,
            form=form,
            extra_mentions=picked,
            admins=self.teams.admins,
        )
        if inbound is None:
            return
        place = {"activity": activity.serialize()}
        written: list[OutboxEntry] = []

        async def record(session: AsyncSession, replies: list[Reply]) -> None:
            # The replies and jobs are rows of the answer's own transaction (on a retry of the
            # transaction, of the last attempt): a crash before they are sent loses none.
            written[:] = (await write_replies(session, inbound=inbound, replies=replies, place=place)).rows

        replies = await handle(self.db, inbound, settings=self.settings, record=record)
        await self._deliver_rows(turn_context, tenant, written, replies, inbound)
        accepted = bool(replies) and not any(r.kind == ReplyKind.ERROR for r in replies)
        if submission is not None and submission.step and activity.reply_to_id and accepted:
            await self._mark_answered(turn_context, submission, inbound)
        if accepted and might_change_actions(inbound.text):  # digest cards showing it are redrawn
            await refresh_digests(
                self.db,
                {PLATFORM: self.notifier},
                now=inbound.at,
                default_timezone=self.settings.default_timezone,
                public_url=self.settings.public_url,
                platform=PLATFORM,
                tenant=tenant,
            )
        if any(r.followup for r in replies):
            turn_context.turn_state[FOLLOWUPS] = TurnWork(tenant, inbound.conversation_key)

    async def _deliver_rows(
        self,
        context: TurnContext,
        tenant: str,
        rows: list[OutboxEntry],
        replies: list[Reply],
        inbound: Inbound,
    ) -> None:
        """Send this turn's reply rows in the turn, claimed first and settled after. A crash in
        between leaves them claimed: the next start settles them at-most-once, never resends."""
        ids = [row.id for row in rows if row.id is not None]
        async with self.db.transaction() as session:
            ours = set(await outbox.claim_all(session, entry_ids=ids, at=inbound.at))
        mine = [reply for row, reply in zip(rows, replies, strict=False) if row.id in ours]
        outcome = "failed"
        try:
            await self.deliver(context, tenant, mine, inbound=inbound)
            outcome = "sent"
        finally:
            async with self.db.transaction() as session:
                await outbox.settle_all(session, entry_ids=sorted(ours), at=inbound.at, outcome=outcome)

    async def deliver(
        self, context: TurnContext, tenant: str, replies: Sequence[Reply], *, inbound: Inbound | None = None
    ) -> None:
        """Replies for this conversation go here; those `to_user` go by 1:1 chat."""
        here_user = inbound.user_id if inbound and scope_of(context.activity) == PERSONAL else None
        here: list[Reply] = []
        by_user: dict[str, list[Reply]] = {}
        for reply in replies:
            if reply.to_user and reply.to_user != here_user:
                by_user.setdefault(reply.to_user, []).append(reply)
            else:
                here.append(reply)
        known = _known_names(inbound)
        if inbound is not None:
            await self._say_quietly(context, tenant, here, known=known, inbound=inbound)
        else:
            await self._say(context, tenant, here, known=known)
        for user_id, group in by_user.items():
            result = await self.notifier.send_direct(tenant=tenant, user_id=user_id, replies=group)
            if not result.ok:
                note = f"I couldn't send <@{user_id}> a direct message ({result.error})."
                await self._say(context, tenant, [Reply(note, ReplyKind.ERROR)], known=known)

    async def _say(
        self,
        context: TurnContext,
        tenant: str,
        replies: Sequence[Reply],
        *,
        known: dict[str, str | None] | None = None,
    ) -> None:
        if not replies:
            return
        names = await delivery.names_for(self.db, tenant=tenant, replies=replies, known=known)
        await delivery.send(context, delivery.render_all(replies, names))

    async def _say_quietly(
        self,
        context: TurnContext,
        tenant: str,
        replies: Sequence[Reply],
        *,
        known: dict[str, str | None] | None,
        inbound: Inbound,
    ) -> None:
        """One card per question: an answer updates the card that asked it (its record line, or
        the running count of a list), and a question's activity id is kept for that."""
        names = await delivery.names_for(self.db, tenant=tenant, replies=replies, known=known)
        key = inbound.conversation_key
        for reply in replies:
            if reply.react:  # a bot cannot react on Teams: the question card's count says it
                continue
            activities = delivery.render_all([reply], names)
            if reply.records_step and await self._edit_question(context, key, reply.records_step, activities):
                continue
            if not activities:
                continue
            responses = await context.send_activities(activities)
            posted = responses[0].id if responses and responses[0] is not None else None
            if posted and reply.kind == ReplyKind.QUESTION and reply.step:
                async with self.db.transaction() as session:
                    await questions.remember(
                        session,
                        platform=PLATFORM,
                        conversation_key=key,
                        step=reply.step,
                        ref=posted,
                        at=inbound.at,
                    )

    async def _edit_question(
        self, context: TurnContext, key: str, step: str, activities: list[Activity]
    ) -> bool:
        async with self.db.sessions() as session:
            ref = await questions.recall(session, platform=PLATFORM, conversation_key=key, step=step)
        if ref is None or not activities:
            return False
        update = activities[0]
        update.id = ref
        try:
            await context.update_activity(update)
        except ErrorResponseException as error:
            log.info("could not update the question card %s: %s", ref, error)
            return False
        return True

    async def _form(
        self, context: TurnContext, tenant: str, submission: Submission | None
    ) -> tuple[dict[str, str] | None, tuple[Mention, ...]]:
        """The submitted form, with people-picker choices turned into Teams user ids."""
        if submission is None or submission.form_name not in FORMS:
            return None, ()
        _, fields = FORMS[submission.form_name]
        form = {f.name: submission.fields.get(f.name, "") for f in fields}
        picked: list[Mention] = []
        for f in fields:
            if f.type == "user" and form[f.name]:
                person = await self._person(context, tenant, form[f.name])
                form[f.name] = person.user_id
                picked.append(person)
        return form, tuple(picked)

    async def _person(self, context: TurnContext, tenant: str, chosen: str) -> Mention:
        """The picker gives an Entra object id; the core knows people by their Teams id."""
        if chosen.startswith("29:"):
            return Mention(chosen)
        async with tenant_session(self.db, tenant) as (session, tenant_id):
            alias = await reach.user_by_alias(session, tenant_id=tenant_id, alias=chosen.lower())
        if alias is not None:
            return Mention(alias.user_id, alias.display_name)
        try:
            member = await TeamsInfo.get_member(context, chosen)
        except ErrorResponseException as error:
            log.info("people picker: Teams does not know %s here (%s)", chosen, error)
            raise PersonNotFound(
                "I couldn't find that person in this conversation. Reply here and @mention them instead."
            ) from error
        async with tenant_session(self.db, tenant) as (session, tenant_id):
            await reach.save_alias(
                session,
                tenant_id=tenant_id,
                alias=chosen.lower(),
                user_id=member.id,
                display_name=member.name,
                now=utcnow(),
            )
        return Mention(member.id, member.name)

    async def _mark_answered(self, context: TurnContext, submission: Submission, inbound: Inbound) -> None:
        """Replace the question card with its answer, so nobody presses it twice."""
        update = cards.answered(
            submission.question or "Answered", submission.label or "answered", inbound.user_name
        )
        update.id = context.activity.reply_to_id
        try:
            await context.update_activity(update)
        except ErrorResponseException as error:  # cosmetic: the answer itself is saved
            log.info("could not update the answered card %s: %s", update.id, error)

    # --- installs and membership ------------------------------------------------------------

    async def on_teams_messaging_extension_submit_action(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        """ "Add to postmortem" on a message (adapters/teams/capture.py)."""
        return await capture.submit_action(self.db, self.settings, turn_context, action)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant = _tenant(activity)
        bot_id = activity.recipient.id if activity.recipient else None
        if any(m.id == bot_id for m in activity.members_removed or ()):
            log.info("Casebook removed from %s in tenant %s", activity.conversation.id, tenant)
            await references.forget(self.db, activity, tenant=tenant)
            return
        await references.remember(self.db, activity, tenant=tenant)
        if any(m.id == bot_id for m in activity.members_added or ()):
            welcome = WELCOME_PERSONAL if scope_of(activity) == PERSONAL else WELCOME_CHANNEL
            log.info("Casebook added to %s in tenant %s", activity.conversation.id, tenant)
            await self._say(turn_context, tenant, [Reply(welcome)])

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        log.info("Teams installation %s in %s", activity.action, activity.conversation.id)
        if (activity.action or "").startswith("remove"):
            await references.forget(self.db, activity, tenant=_tenant(activity))
        else:
            await references.remember(self.db, activity, tenant=_tenant(activity))


def _tenant(activity: Activity) -> str:
    tenant = tenant_of(activity)
    assert tenant is not None, "the route refuses activities without a tenant"
    return tenant


def _known_names(inbound: Inbound | None) -> dict[str, str | None]:
    if inbound is None:
        return {}
    known: dict[str, str | None] = {m.user_id: m.display_name for m in inbound.mentions}
    known[inbound.user_id] = inbound.user_name
    return known
