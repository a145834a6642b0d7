"""Teams activities shaped like the ones Teams really posts to /api/messages."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from typing import Any

TENANT = "4b1d7c5e-2f0a-4c1b-9d3e-8a6f5e4d3c2b"
OTHER_TENANT = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
APP_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
BOT_ID = f"28:{APP_ID}"
TEAM_ID = "19:Xq3bT2pmAwrrW7jWvJdqCgK9tJ0x8mLq@thread.tacv2"
CHANNEL_ID = "19:b6f3c1e2a9d84f7e8c0d1a2b3c4d5e6f@thread.tacv2"
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # a Friday


@dataclass(frozen=True)
class User:
    id: str
    name: str
    aad: str
    timezone: str = "Europe/Paris"
    locale: str = "en-US"

    def member(self) -> dict[str, Any]:
        """GET /v3/conversations/{id}/members/{id}: a TeamsChannelAccount."""
        given, _, surname = self.name.partition(" ")
        return {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad,
            "givenName": given,
            "surname": surname,
            "email": f"{given.lower()}@contoso.example",
            "userPrincipalName": f"{given.lower()}@contoso.example",
            "tenantId": TENANT,
            "userRole": "user",
        }


ALICE = User("29:1Alice-8kQmN3vXc_7yLpR2sT", "Alice Martin", "6b3f0c1e-0d2a-4e8b-9f1c-2a3b4c5d6e7f")
BOB = User(
    "29:1Bob-Zt5wQ9aH2jK_4nVbX8cM", "Bob Smith", "7c4a1d2f-1e3b-4f9c-8a2d-3b4c5d6e7f80", "America/New_York"
)
CAROL = User("29:1Carol-Pq7rS1tU3vW_5xYz9Ab", "Carol Diaz", "8d5b2e3a-2f4c-4a0d-9b3e-4c5d6e7f8091")
PEOPLE = (ALICE, BOB, CAROL)


class Teams:
    """Builds activities with ids and timestamps that move forward like a real chat."""

    def __init__(self, service_url: str):
        self.service_url = service_url
        self.now = NOW
        self._ids = itertools.count(1_763_650_800_000, 7_919)

    def next_id(self) -> str:
        return str(next(self._ids))

    def _tick(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=20)
        return self.now

    def _base(self, user: User, conversation: dict[str, Any], **extra: Any) -> dict[str, Any]:
        at = self._tick()
        local = at.astimezone(dt.timezone(dt.timedelta(hours=1)))
        return {
            "type": "message",
            "id": extra.pop("id", None) or self.next_id(),
            "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": local.isoformat(timespec="milliseconds"),
            "localTimezone": user.timezone,
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": user.id, "name": user.name, "aadObjectId": user.aad},
            "conversation": conversation,
            "recipient": {"id": BOT_ID, "name": "Casebook"},
            "locale": user.locale,
            **extra,
        }

    # --- a team channel ---

    def channel_conversation(self, root: str, tenant: str = TENANT) -> dict[str, Any]:
        return {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": tenant,
            "id": f"{CHANNEL_ID};messageid={root}",
        }

    def channel_data(self, tenant: str = TENANT) -> dict[str, Any]:
        return {
            "teamsChannelId": CHANNEL_ID,
            "teamsTeamId": TEAM_ID,
            "channel": {"id": CHANNEL_ID},
            "team": {"id": TEAM_ID},
            "tenant": {"id": tenant},
        }

    def channel_post(self, text: str, *, user: User = ALICE, tenant: str = TENANT) -> dict[str, Any]:
        """A new post in the channel that @mentions the bot: it starts a reply chain."""
        root = self.next_id()
        return self._mentioning(user, text, self.channel_conversation(root, tenant), id=root, tenant=tenant)

    def channel_reply(self, root: str, text: str, *, user: User = ALICE) -> dict[str, Any]:
        """A reply in the chain of post `root`, @mentioning the bot."""
        return self._mentioning(user, text, self.channel_conversation(root))

    def _mentioning(
        self, user: User, text: str, conversation: dict[str, Any], *, tenant: str = TENANT, **extra: Any
    ) -> dict[str, Any]:
        entities: list[dict[str, Any]] = [
            {"type": "mention", "text": "<at>Casebook</at>", "mentioned": {"id": BOT_ID, "name": "Casebook"}}
        ]
        for name in re.findall(r"<at>([^<]+)</at>", text):
            person = next(p for p in PEOPLE if p.name == name)
            entities.append(
                {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": person.id, "name": name}}
            )
        entities.append(
            {
                "type": "clientInfo",
                "locale": user.locale,
                "country": user.locale.rpartition("-")[2],
                "platform": "Web",
                "timezone": user.timezone,
            }
        )
        return self._base(
            user,
            conversation,
            text=f"<at>Casebook</at> {text}\n",
            textFormat="plain",
            attachments=[{"contentType": "text/html", "content": f"<div><p>{text}</p></div>"}],
            entities=entities,
            channelData=self.channel_data(tenant),
            **extra,
        )

    def submit(
        self, conversation_id: str, card_activity_id: str, data: dict[str, Any], *, user: User = ALICE
    ) -> dict[str, Any]:
        """What Teams posts when someone presses an Action.Submit of a card the bot sent."""
        personal = conversation_id.startswith("a:")
        conversation = (
            {"conversationType": "personal", "tenantId": TENANT, "id": conversation_id}
            if personal
            else {"isGroup": True, "conversationType": "channel", "tenantId": TENANT, "id": conversation_id}
        )
        return self._base(
            user,
            conversation,
            replyToId=card_activity_id,
            value=data,
            channelData={
                "tenant": {"id": TENANT},
                "source": {"name": "message"},
                "legacy": {"replyToId": "x"},
            }
            if personal
            else self.channel_data(),
            entities=[{"type": "clientInfo", "locale": user.locale, "timezone": user.timezone}],
        )

    # --- a personal chat ---

    def personal(self, conversation_id: str, text: str, *, user: User = ALICE) -> dict[str, Any]:
        conversation = {"conversationType": "personal", "tenantId": TENANT, "id": conversation_id}
        return self._base(
            user,
            conversation,
            text=text,
            textFormat="plain",
            entities=[{"type": "clientInfo", "locale": user.locale, "timezone": user.timezone}],
            channelData={"tenant": {"id": TENANT}},
        )

    # --- installs ---

    def bot_added_to_team(self, *, user: User = ALICE, tenant: str = TENANT) -> dict[str, Any]:
        activity = self._base(
            user,
            {"isGroup": True, "conversationType": "channel", "tenantId": tenant, "id": CHANNEL_ID},
            type="conversationUpdate",
            membersAdded=[{"id": BOT_ID}],
            channelData={**self.channel_data(tenant), "eventType": "teamMemberAdded"},
        )
        activity.pop("localTimezone")
        return activity

    def personal_install(self, conversation_id: str, *, user: User, action: str = "add") -> dict[str, Any]:
        """The app installed (or removed) in someone's personal scope."""
        activity = self._base(
            user,
            {"conversationType": "personal", "tenantId": TENANT, "id": conversation_id},
            type="installationUpdate",
            action=action,
            channelData={"tenant": {"id": TENANT}, "settings": {"selectedChannel": None}},
        )
        activity.pop("localTimezone")
        return activity

    def member_added_to_team(self, member: User, *, user: User = ALICE) -> dict[str, Any]:
        activity = self._base(
            user,
            {"isGroup": True, "conversationType": "channel", "tenantId": TENANT, "id": CHANNEL_ID},
            type="conversationUpdate",
            membersAdded=[{"id": member.id, "aadObjectId": member.aad}],
            channelData={**self.channel_data(), "eventType": "teamMemberAdded"},
        )
        activity.pop("localTimezone")
        return activity


def find_action(card: dict[str, Any], title: str) -> dict[str, Any]:
    """The first action titled `title` anywhere in the card (ShowCards and ActionSets included)."""
    found = _actions(card, title)
    if not found:
        raise AssertionError(f"no action {title!r} in card: {card}")
    return found[0]


def _actions(node: Any, title: str) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if str(node.get("type", "")).startswith("Action.") and node.get("title") == title else []
        return own + [a for value in node.values() for a in _actions(value, title)]
    if isinstance(node, list):
        return [a for item in node for a in _actions(item, title)]
    return []


def submitted(action: dict[str, Any], **inputs: str) -> dict[str, Any]:
    """The `value` Teams sends for an Action.Submit: its data merged with the inputs by id.

    For an Action.ShowCard, the nested Submit's data is used and `inputs` are keyed by
    the field names of its form (the input ids carry a prefix).
    """
    if action["type"] == "Action.ShowCard":
        submit = next(a for a in action["card"]["actions"] if a["type"] == "Action.Submit")
        ids = {i["id"] for i in action["card"]["body"] if "id" in i}
        data = dict(submit["data"])
        prefix = data["prefix"]
        for name, value in inputs.items():
            assert prefix + name in ids, f"the form has no input {name!r}: {sorted(ids)}"
            data[prefix + name] = value
        return data
    data = dict(action["data"])
    for name, value in inputs.items():
        data[data["prefix"] + name] = value
    return data
