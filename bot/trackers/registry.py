"""Where the core finds the tracker adapters for work it starts itself (the follow-up job).

The composition roots (`casebook serve`, the CLI) install an opener; the core never
imports an adapter. Without one, nudges do nothing and the clock's pass does the work.
"""

from __future__ import annotations

from bot.trackers.port import TrackerOpener

_opener: list[TrackerOpener] = []


def install(opener: TrackerOpener) -> None:
    _opener[:] = [opener]


def installed() -> TrackerOpener | None:
    return _opener[0] if _opener else None


def uninstall() -> None:
    _opener.clear()
