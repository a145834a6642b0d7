"""Microsoft Teams: the interview, commands and reminders as a Teams bot.

Everything botbuilder-specific lives in this package, so moving to the Microsoft 365
Agents SDK later changes nothing outside it. The rest of Casebook sees three names:
`add_routes` (the web process mounts POST /api/messages), `TeamsNotifier` (the core's
Notifier port: proactive 1:1 messages) and `notifier_from_env` (for the clock process).

They are imported on first use: botbuilder takes a third of a second to import, and
`casebook console` or `casebook teams-package` should not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.teams.notifier import TeamsNotifier
    from adapters.teams.routes import add_routes
    from storage.db import Database

_LAZY = {"add_routes": "adapters.teams.routes", "TeamsNotifier": "adapters.teams.notifier"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def notifier_from_env(*, db: Database) -> TeamsNotifier | None:
    """The Teams notifier, or None when Teams is not configured."""
    from adapters.teams.auth import build_adapter
    from adapters.teams.config import TeamsSettings
    from adapters.teams.notifier import TeamsNotifier

    teams = TeamsSettings.from_env()
    if not teams.enabled:
        return None
    return TeamsNotifier(adapter=build_adapter(teams), db=db, teams=teams)


__all__ = ["TeamsNotifier", "add_routes", "notifier_from_env"]
