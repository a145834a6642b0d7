"""What the core counts (turns, refusals, jobs, reminders), without knowing who collects it.

An adapter that exports metrics installs a Meter at start (adapters/ops/metrics.py); until
then counts go nowhere, so the console, the tests and the core itself need nothing.
"""

from __future__ import annotations

from typing import Protocol


class Meter(Protocol):
    def count(self, name: str, **labels: str) -> None: ...

    def measure(self, name: str, value: float, **labels: str) -> None: ...


class _Nowhere:
    def count(self, name: str, **labels: str) -> None:
        return None

    def measure(self, name: str, value: float, **labels: str) -> None:
        return None


_meter: Meter = _Nowhere()


def install(meter: Meter) -> None:
    global _meter
    _meter = meter


def count(name: str, **labels: str) -> None:
    """One event: `interview_turn`, `refusal` (platform); `followup_job` (kind, outcome);
    `reminder` (kind, outcome)."""
    _meter.count(name, **labels)


def measure(name: str, value: float, **labels: str) -> None:
    """One observed amount: `tracker_sync_delay` (tracker): seconds from a change in Casebook
    to the pass that showed it in the tracker."""
    _meter.measure(name, value, **labels)
