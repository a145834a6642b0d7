"""Acknowledgements first: while requests wait for their 200, applying what is already stored
waits too, so a burst is acknowledged at the speed of storing it and applied right after.

Applying an answer costs the event loop far more than acknowledging one (a turn, its replies,
their claims); sharing the loop 1:1 during a burst made every acknowledgement wait behind
turns (p99 ~400 ms at 50 concurrent). The wait is bounded: once requests have been arriving
without a pause for `patience` seconds, applying goes on beside them, so a sustained load is
still applied as fast as before and no answer waits long for its turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

PATIENCE_SECONDS = 1.0
# A burst's requests leave gaps between one 200 and the next request: microseconds, or a few
# ms when a shared machine stalls a client. Applying in such a gap started every waiting
# conversation's reads and turns while the next requests queued behind them (p99 x3-4). A
# reply waits this much longer after the last request: nobody sees 25 ms in a chat.
LULL_SECONDS = 0.025


class Arrivals:
    def __init__(self, *, patience: float = PATIENCE_SECONDS, lull: float = LULL_SECONDS) -> None:
        self.patience = patience
        self.lull = lull
        self.waiting = 0  # requests in the handler, not yet answered
        self._busy_since = 0.0
        self._idle_since = float("-inf")  # when the last waiting request was answered
        self._quiet: asyncio.Event | None = None

    @contextmanager
    def arriving(self) -> Iterator[None]:
        if self.waiting == 0:
            now = time.monotonic()
            if now - self._idle_since >= self.lull:
                self._busy_since = now  # a new burst: patience counts from here
            self._event().clear()
        self.waiting += 1
        try:
            yield
        finally:
            self.waiting -= 1
            if self.waiting == 0:
                self._idle_since = time.monotonic()
                self._event().set()

    async def quiet(self) -> None:
        """Return once no request has been waiting for `lull` seconds, or at once when they
        have kept coming (gaps shorter than `lull` included) for longer than `patience`."""
        while True:
            now = time.monotonic()
            left = self._busy_since + self.patience - now
            if self.waiting == 0:
                idle = now - self._idle_since
                if idle >= self.lull or left <= 0:
                    return
                await asyncio.sleep(min(self.lull - idle, left))
                continue
            if left <= 0:
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(self._event().wait(), left)

    def _event(self) -> asyncio.Event:
        if self._quiet is None:
            self._quiet = asyncio.Event()
            self._quiet.set()
        return self._quiet
