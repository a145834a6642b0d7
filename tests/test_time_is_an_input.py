"""Time is an input: no table stamps a moment by itself, and the core never reads the wall clock.

A unit of work (a turn, a sweep, an import, a job) takes `now` once and passes it to every
write. These checks keep it so: a datetime column with a Python-side default would stamp the
wall clock silently when a caller forgets `now`; a `datetime.now()` in bot/ or storage/ would
make a result depend on the day a test runs.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from pydantic_core import PydanticUndefined
from sqlalchemy import Date, DateTime
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import storage
from bot.messages import Inbound
from storage.db import Database
from storage.models import Tenant
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[1]

# The clock boundaries of bot/ and storage/: (file, enclosing function) that may read the wall
# clock. `storage.models.utcnow` is the one clock function; adapters and the command line call
# it (or their own) at their entry and hand the moment down.
CLOCK_BOUNDARIES = {("storage/models.py", "utcnow")}


def _table_models() -> list[type[SQLModel]]:
    for module in pkgutil.walk_packages(storage.__path__, "storage."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[SQLModel]] = []
    pending = list(SQLModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if getattr(model, "__table__", None) is not None and model.__module__.startswith("storage."):
            found.append(model)
    return found


def _moment_columns(model: type[SQLModel]) -> list[str]:
    return [f"{model.__tablename__}.{name}" for name in _moments(model)]


def _moments(model: type[SQLModel]) -> list[str]:
    """The model's datetime and date columns."""
    found = []
    for name in model.model_fields:
        column = model.__table__.columns.get(name)  # type: ignore[attr-defined]
        if column is not None and isinstance(getattr(column.type, "impl", column.type), Date | DateTime):
            found.append(name)
    return found


def _stamped_columns(model: type[SQLModel]) -> list[str]:
    """Datetime/date columns that get a value without the caller giving one."""
    stamped = []
    for name in _moments(model):
        info, column = model.model_fields[name], model.__table__.columns[name]  # type: ignore[attr-defined]
        has_default = info.default_factory is not None or info.default not in (PydanticUndefined, None)
        if has_default or column.default is not None or column.onupdate is not None:
            stamped.append(f"{model.__tablename__}.{name}")
    return stamped


def test_every_table_module_is_scanned() -> None:
    tables = {model.__tablename__ for model in _table_models()}
    assert {
        "cases",
        "conversations",
        "prevention_actions",
        "reminder_deliveries",
        "inbox",
        "outbox",
    } <= tables


def test_the_scan_sees_every_moment_column() -> None:
    columns = {name for model in _table_models() for name in _moment_columns(model)}
    assert {
        "cases.created_at",
        "cases.started_at",
        "prevention_actions.due_date",
        "inbox.received_at",
    } <= columns


def test_no_datetime_column_takes_its_value_from_a_model_default() -> None:
    stamped = [column for model in _table_models() for column in _stamped_columns(model)]
    assert stamped == [], f"these columns stamp a time by themselves; take `now` from the caller: {stamped}"


async def test_a_row_written_without_its_moment_is_refused(db: Database) -> None:
    """Forgetting `now` fails loudly (NOT NULL) instead of stamping the wall clock."""
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(Tenant(platform="console", external_id="T-forgot"))  # type: ignore[call-arg]
            await session.flush()


def test_an_inbound_needs_the_moment_it_arrived() -> None:
    with pytest.raises(TypeError):
        Inbound("console", "T1", "console:alice", "alice", "hello")  # type: ignore[call-arg]
    assert Inbound("console", "T1", "console:alice", "alice", "hello", at=NOW).at == NOW


WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def _wall_clock_reads(path: Path) -> list[tuple[int, str, str]]:
    """(line, enclosing function, what) for every wall-clock read or `utcnow` use in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inside = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inside = child.name
            if isinstance(child, ast.Attribute):
                base = child.value
                base_name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                if (base_name, child.attr) in WALL_CLOCK_CALLS:
                    found.append((child.lineno, inside, f"{base_name}.{child.attr}"))
            if isinstance(child, ast.Name) and child.id == "utcnow":
                found.append((child.lineno, inside, "utcnow"))  # a call, or the wall clock as a default
            visit(child, inside)

    visit(tree, "<module>")
    return found


def _core_modules() -> list[Path]:
    paths = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]
    return sorted(p for p in paths if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_reads_no_wall_clock(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    reads = [
        f"{relative}:{line} {what} in {function}"
        for line, function, what in _wall_clock_reads(path)
        if (relative, function) not in CLOCK_BOUNDARIES
    ]
    assert reads == [], "take `now` from the unit of work instead: " + "; ".join(reads)


def test_the_scan_sees_a_wall_clock_read(tmp_path: Path) -> None:
    """The scan itself: each form it must catch, caught."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import datetime as dt, time\n"
        "from storage.models import utcnow\n"
        "def a():\n    return dt.datetime.now(dt.UTC)\n"
        "def b():\n    return time.time()\n"
        "def c(clock=utcnow):\n    return clock()\n"
        "def d():\n    return dt.date.today()\n",
        encoding="utf-8",
    )
    assert [(f, w) for _, f, w in _wall_clock_reads(sample)] == [
        ("a", "datetime.now"),
        ("b", "time.time"),
        ("c", "utcnow"),
        ("d", "date.today"),
    ]
