"""Which database objects Alembic's autogenerate compares against the models."""

from __future__ import annotations

from typing import Any

# Full-text search shadow tables and the like: created by migrations, not described by models.
UNMODELLED_PREFIXES: tuple[str, ...] = ("case_search",)
# Tables owned by libraries (e.g. slack_sdk's installation store).
LIBRARY_TABLES: frozenset[str] = frozenset()


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ != "table" or not name:
        return True
    return not (name.startswith(UNMODELLED_PREFIXES) or name in LIBRARY_TABLES)
