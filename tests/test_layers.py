"""Imports go one way only: adapters -> bot -> storage; the core imports no chat SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiohttp")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("bot"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_imports_no_platform_and_no_adapter(path: Path) -> None:
    found = imports_of(path)
    assert not {n for n in found if n.split(".")[0] in PLATFORM_SDKS}, "bot/ must stay platform-neutral"
    if path.name != "__main__.py":  # the composition root may start the CLI
        assert not {n for n in found if n.split(".")[0] == "adapters"}


@pytest.mark.parametrize("path", modules("storage"), ids=lambda p: str(p.relative_to(ROOT)))
def test_storage_knows_nothing_of_chat(path: Path) -> None:
    found = imports_of(path)
    assert not {n for n in found if n.split(".")[0] in {"bot", "adapters", *PLATFORM_SDKS}}
