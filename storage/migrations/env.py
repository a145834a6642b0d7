"""Alembic environment: runs on the sync driver matching DATABASE_URL."""

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata
# Tables that libraries define and their own revisions create (slack_sdk's OAuth stores:
# 0003_slack). They are not in SQLModel.metadata; autogenerate must not offer to drop them.
LIBRARY_TABLE_PREFIXES = ("slack_",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    if type_ == "table" and name and name not in target_metadata.tables:
        return not name.startswith(LIBRARY_TABLE_PREFIXES)
    return True


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
