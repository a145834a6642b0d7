"""Secrets at rest: credentials sealed with the keys of CASEBOOK_SECRET_KEY before they reach a row.

CASEBOOK_SECRET_KEY is a comma-separated list of Fernet keys, newest first: values are sealed
with the first and opened with any, so a key is rotated by putting a new one in front, running
`casebook rotate-secrets` (which re-seals every stored value with it), then dropping the old one.
A sealed value carries a prefix, so a row written before encryption was turned on is still read
(and sealed the next time it is written or rotated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from storage.db import Database

PREFIX = "fernet:"


class SecretKeyError(ValueError):
    """CASEBOOK_SECRET_KEY cannot be used, or a stored value was sealed with none of its keys."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def parse_keys(raw: str) -> list[Fernet]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts:
        raise SecretKeyError("no key given")
    keys = []
    for number, part in enumerate(parts, start=1):
        try:
            keys.append(Fernet(part.encode()))
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"key {number} is not a Fernet key (32 url-safe base64 bytes; make one with "
                "`casebook secret-key`)"
            ) from None
    return keys


@dataclass(frozen=True)
class Sealer:
    """Seals and opens stored credentials with the configured keys."""

    keys: MultiFernet

    @classmethod
    def from_keys(cls, raw: str | Sequence[str]) -> Sealer:
        text = raw if isinstance(raw, str) else ",".join(raw)
        return cls(MultiFernet(parse_keys(text)))

    def seal(self, value: str | None) -> str | None:
        if value is None or is_sealed(value):
            return value
        return PREFIX + self.keys.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        if value is None or not is_sealed(value):
            return value  # written before encryption was turned on
        try:
            return self.keys.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret was sealed with a key that CASEBOOK_SECRET_KEY no longer lists: "
                "put the old key back at the end of the list"
            ) from None

    def reseal(self, value: str | None) -> str | None:
        """The value sealed with the newest key (plaintext is sealed; None stays None)."""
        if value is None:
            return None
        if not is_sealed(value):
            return self.seal(value)
        try:
            token = self.keys.rotate(value.removeprefix(PREFIX).encode())
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret was sealed with a key that CASEBOOK_SECRET_KEY no longer lists"
            ) from None
        return PREFIX + token.decode()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


# Columns that hold sealed secrets: slack_sdk's installation store (adapters/slack/auth.py),
# Text since 0014_sealed. Tracker credentials come from the environment and are never stored;
# a tracker credential kept in a row would add its table and columns here.
SEALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "slack_bots": ("bot_token", "bot_refresh_token"),
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
}


async def reseal_all(db: Database, keys: str) -> int:
    """Seal every stored secret with the newest key (plaintext ones too); how many changed."""
    from sqlalchemy import inspect, text

    sealer = Sealer.from_keys(keys)
    changed = 0
    async with db.engine.begin() as connection:
        present = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        for table, columns in SEALED_COLUMNS.items():
            if table not in present:
                continue
            rows = (await connection.execute(text(f"SELECT id, {', '.join(columns)} FROM {table}"))).all()
            for row in rows:
                values = {column: sealer.reseal(getattr(row, column)) for column in columns}
                if any(values[c] != getattr(row, c) for c in columns):
                    assignments = ", ".join(f"{c} = :{c}" for c in columns)
                    await connection.execute(
                        text(f"UPDATE {table} SET {assignments} WHERE id = :id"), {**values, "id": row.id}
                    )
                    changed += 1
    return changed
