"""Set-based statements: a list of rows travels as ONE JSON parameter (json_each on
SQLite, jsonb_to_recordset on PostgreSQL), not as one statement or one bind per row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, String, Table, column, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import FromClause
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


def table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


async def execute(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Run a Core statement on the session's connection: plain rows, no ORM loading on the way."""
    connection = await session.connection()
    return await connection.execute(statement, params)


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def json_rows(dialect: str, rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, Any]]) -> FromClause:
    """A list of dicts as a table, from a single bound JSON parameter."""
    payload = literal(json.dumps(list(rows)), String)
    if dialect == "postgresql":
        records = func.jsonb_to_recordset(sql_cast(payload, JSONB))
        return records.table_valued(*(column(name, kind) for name, kind in columns)).render_derived(
            name="src", with_types=True
        )
    each = func.json_each(payload).table_valued("value")
    fields = [
        sql_cast(func.json_extract(each.c.value, f"$.{name}"), kind).label(name) for name, kind in columns
    ]
    return select(*fields).select_from(each).subquery("src")


def id_list(dialect: str, ids: Sequence[int]) -> Any:
    """`ids` as a subquery for `column.in_(...)`: one bind whatever their number."""
    src = json_rows(dialect, [{"id": i} for i in ids], [("id", Integer)])
    return select(src.c.id).scalar_subquery()
