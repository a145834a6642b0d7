"""Microsoft Teams: the interview, commands and reminders as a Teams bot.

Everything botbuilder-specific lives in this package, so moving to the Microsoft 365
Agents SDK later changes nothing outside it. The rest of Casebook sees three names:
`add_routes` (the web process mounts POST /api/messages), `TeamsNotifier` (the core's
Notifier port: proactive 1:1 messages) and `notifier_from_env` (for the clock process).
"""

from __future__ import annotations

from adapters.teams.config import TeamsSettings
from adapters.teams.notifier import TeamsNotifier
from adapters.teams.routes import add_routes
from storage.db import Database


def notifier_from_env(*, db: Database) -> TeamsNotifier | None:
    """The Teams notifier, or None when Teams is not configured."""
    from adapters.teams.auth import build_adapter

    teams = TeamsSettings.from_env()
    if not teams.enabled:
        return None
    return TeamsNotifier(adapter=build_adapter(teams), db=db, teams=teams)


__all__ = ["TeamsNotifier", "TeamsSettings", "add_routes", "notifier_from_env"]
