"""Shared fixtures: a migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL tests use a throwaway database created on the server named by
CASEBOOK_TEST_PG (default: the local trust-auth server) and skip cleanly when no
server answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from bot.messages import Inbound, InboundKind, Mention, Reply
from storage.db import Database, connect, migrate

# Property-based tests: a fixed seed and a small budget in CI; HYPOTHESIS_PROFILE=long for a
# longer, randomised run (see the README).
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=60, print_blob=True)
settings.register_profile("long", derandomize=False, deadline=None, max_examples=2000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PG_SERVER = os.environ.get("CASEBOOK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# ../shared/corpus beside the checkout; found from a git worktree too (/work/wt/<name>), or named
# by CASEBOOK_CORPUS.
CORPUS = Path(
    os.environ.get("CASEBOOK_CORPUS")
    or next(
        (
            p / "shared" / "corpus"
            for p in Path(__file__).resolve().parents
            if (p / "shared" / "corpus").is_dir()
        ),
        Path(__file__).resolve().parents[1].parent / "shared" / "corpus",
    )
)


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(_pg_conninfo(PG_SERVER), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """A migrated, empty PostgreSQL database for this test run, or None."""
    if not _pg_reachable():
        yield None
        return
    import psycopg

    name = f"casebook_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_pg_conninfo(PG_SERVER), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(_pg_conninfo(PG_SERVER), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "casebook.db"
    migrate(f"sqlite:///{path}")
    return path


def _truncate_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(_pg_conninfo(url), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated database URL: each test runs once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "casebook.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    if url is None:
        pytest.skip("no PostgreSQL server reachable at " + PG_SERVER.split("@")[-1])
    _truncate_pg(url)
    return str(url)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = connect(db_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS


NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # a Friday


class Chat:
    """Sends messages to the core as a platform would; keeps the time moving."""

    def __init__(self, db: Database, *, platform: str = "console", tenant: str = "T1", key: str = "thread-1"):
        self.db = db
        self.platform = platform
        self.tenant = tenant
        self.key = key
        self.now = NOW
        self._events = 0

    def inbound(
        self,
        text: str,
        *,
        user: str = "alice",
        kind: InboundKind = InboundKind.MESSAGE,
        key: str | None = None,
        direct: bool = False,
        timezone: str | None = "UTC",
        admin: bool = False,
        form: dict[str, str] | None = None,
        event_id: str | None = None,
    ) -> Inbound:
        import re

        self._events += 1
        self.now += dt.timedelta(seconds=5)
        mentions = tuple(Mention(uid, uid.capitalize()) for uid in re.findall(r"<@([\w.\-:]+)>", text))
        return Inbound(
            platform=self.platform,
            tenant=self.tenant,
            conversation_key=key or self.key,
            user_id=user,
            user_name=user.capitalize(),
            user_timezone=timezone,
            user_is_admin=admin,
            direct=direct,
            kind=kind,
            text=text,
            form=form,
            mentions=mentions,
            event_id=event_id or f"ev-{self._events}-{uuid.uuid4().hex[:6]}",
            at=self.now,
        )

    async def send(self, text: str, **kwargs: object) -> list[Reply]:
        from bot.config import Settings
        from bot.service import handle

        return await handle(self.db, self.inbound(text, **kwargs), settings=Settings())  # type: ignore[arg-type]

    async def command(self, text: str, **kwargs: object) -> list[Reply]:
        return await self.send(text, kind=InboundKind.COMMAND, **kwargs)


@pytest.fixture
def chat(db: Database) -> Chat:
    return Chat(db)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.get_event_loop().run_until_complete(coro)
