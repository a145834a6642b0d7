"""Which database objects Alembic's autogenerate compares against the models."""

from __future__ import annotations

from typing import Any

from storage.search import UNMODELLED_PREFIXES

# Tables owned by libraries (e.g. slack_sdk's installation store), created by their own migration.
LIBRARY_TABLES: frozenset[str] = frozenset()


def _unmodelled(name: str) -> bool:
    return name.startswith(UNMODELLED_PREFIXES) or name in LIBRARY_TABLES


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave out what the models cannot describe: full-text shadow tables, library tables."""
    if type_ == "table" and name and _unmodelled(name):
        return False
    table = getattr(obj, "table", None)
    return not (type_ == "index" and table is not None and _unmodelled(str(table.name)))
