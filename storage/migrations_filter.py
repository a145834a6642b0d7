"""Which database objects Alembic's autogenerate compares against the models."""

from __future__ import annotations

from typing import Any

from storage.search import UNMODELLED_PREFIXES

# Tables owned by libraries (slack_sdk's installation and OAuth state stores): created by
# migration 0003_slack from the library's own definitions, described by no model of ours.
LIBRARY_PREFIXES: tuple[str, ...] = ("slack_",)


def _unmodelled(name: str) -> bool:
    return name.startswith(UNMODELLED_PREFIXES + LIBRARY_PREFIXES)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave out what the models cannot describe: full-text shadow tables, library tables."""
    if type_ == "table" and name and _unmodelled(name):
        return False
    if type_ == "index" and name and _unmodelled(name):
        return False  # an index of the search's own on a modelled table (0020_similar)
    table = getattr(obj, "table", None)
    return not (type_ == "index" and table is not None and _unmodelled(str(table.name)))
