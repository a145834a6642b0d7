"""The clock process and `casebook remind`: APScheduler ticks, the database decides."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlmodel import select

from adapters import clock as clock_process
from adapters.cli import main
from bot.config import Settings
from bot.messages import Reply
from bot.notify import SendResult
from bot.reminders.config import ReminderSettings
from storage.db import Database, connect, migrate
from storage.models import ReminderDelivery
from tests.reminder_fixtures import MONDAY, RecordingNotifier, seed_case

ROOT = Path(__file__).resolve().parents[1]


async def test_the_ticker_runs_sweeps_and_the_database_keeps_them_to_one_digest(db: Database) -> None:
    await seed_case(db, owners=[("bob", None), ("carol", None)])
    sweeps = 0

    def frozen() -> dt.datetime:  # every tick sees Monday 09:30: due once, then done
        nonlocal sweeps
        sweeps += 1
        return MONDAY + dt.timedelta(hours=9, minutes=30)

    notifier = RecordingNotifier()
    stop = asyncio.Event()
    runner = asyncio.create_task(
        clock_process.run(
            db,
            {"console": notifier},
            settings=Settings(),
            reminders=ReminderSettings(tick_seconds=0.05),
            stop=stop,
            clock=frozen,
        )
    )
    for _ in range(200):
        await asyncio.sleep(0.02)
        if sweeps >= 12:
            break
    stop.set()
    await asyncio.wait_for(runner, 5)
    assert sweeps >= 12
    assert sorted(s.user_id for s in notifier.sent) == ["bob", "carol"]


class HeldNotifier(RecordingNotifier):
    """A platform that holds each digest until released, as a slow network call would."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        self.holding.set()
        await self.release.wait()
        return await super().send_direct(tenant=tenant, user_id=user_id, replies=replies)


async def test_a_stop_lets_the_running_sweep_finish_its_send(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)])
    notifier = HeldNotifier()
    stop = asyncio.Event()
    runner = asyncio.create_task(
        clock_process.run(
            db,
            {"console": notifier},
            settings=Settings(),
            reminders=ReminderSettings(tick_seconds=0.05),
            stop=stop,
            clock=lambda: MONDAY + dt.timedelta(hours=9, minutes=30),
        )
    )
    await asyncio.wait_for(notifier.holding.wait(), 10)
    stop.set()
    await asyncio.sleep(0.2)
    assert not runner.done()  # the digest in flight is not cut off
    notifier.release.set()
    await asyncio.wait_for(runner, 10)
    assert [s.user_id for s in notifier.sent] == ["bob"]
    async with db.sessions() as session:
        [delivery] = (await session.exec(select(ReminderDelivery))).all()
    assert delivery.status == "sent"


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'casebook.db'}"
    migrate(url)

    async def seed() -> None:
        db = connect(url)
        try:
            await seed_case(db, tenant="local", owners=[("bob", None)], since=MONDAY - dt.timedelta(days=10))
        finally:
            await db.dispose()

    asyncio.run(seed())
    return url


def test_remind_now_says_what_it_sent_and_does_it_once(
    sqlite_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_file)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)

    def remind(*flags: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exited:
            main(["remind", *flags])
        return int(exited.value.code or 0), capsys.readouterr().out

    code, out = remind("--now", "--dry-run")
    assert code == 0 and "would send  console/local @bob: digest (1 action" in out
    code, out = remind("--now")
    assert code == 0 and "→ DM to @bob (local):" in out and "sent  console/local @bob" in out
    code, out = remind("--now")
    assert code == 0 and "Nothing due" in out
    code, _ = remind()
    assert code == 2


def test_a_bad_reminder_setting_is_a_clear_error(
    sqlite_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_file)
    monkeypatch.setenv("REMINDER_TIME", "9 o'clock")
    with pytest.raises(SystemExit) as exited:
        main(["remind", "--now"])
    assert exited.value.code == 2
    assert 'REMINDER_TIME="9 o\'clock": use HH:MM' in capsys.readouterr().err


def test_the_clock_process_sends_then_stops_cleanly_on_sigterm(sqlite_file: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_file,
        "REMINDER_TICK_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "INFO",
        # The clock refuses to run with no chat platform; Teams' development mode is one that
        # needs no network. The digest still goes to the console tenant, through the console.
        "TEAMS_DEV_ALLOW_UNAUTHENTICATED": "1",
        "TEAMS_ALLOWED_TENANTS": "00000000-0000-0000-0000-000000000001",
        "METRICS_PORT": str(metrics_port),
        "HOST": "127.0.0.1",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "MICROSOFT_APP_ID"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "clock"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)  # never hang the suite
    watchdog.start()
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "sent  console/local @bob" in line:
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as scraped:
            metrics = scraped.read().decode()
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=10)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    output = "".join(seen) + rest
    assert process.returncode == 0, output
    assert "→ DM to @bob (local):" in output and "clock stopped" in output
    assert 'casebook_reminders_total{kind="digest",outcome="sent"} 1.0' in metrics
