"""`casebook --help` and the light commands load no platform SDK, SQLAlchemy or matplotlib
(what they cost is measured by bench/startup.py, not here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.test_cli import ROOT

HEAVY = ("slack_bolt", "slack_sdk", "botbuilder", "sqlalchemy", "matplotlib", "aiohttp", "openai", "pydantic")

PROBE = """
import json, sys
from adapters.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.stdin.read())))
print("LOADED=" + json.dumps(heavy), file=sys.stderr)
"""


def loaded_by(*args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    line = next(ln for ln in result.stderr.splitlines() if ln.startswith("LOADED="))
    return list(json.loads(line.removeprefix("LOADED=")))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["serve", "--help"], ["ledger", "--help"]])
def test_help_and_version_load_nothing_heavy(args: list[str]) -> None:
    assert loaded_by(*args) == []


def test_secret_key_needs_no_database_or_sdk() -> None:
    assert set(loaded_by("secret-key")) <= {"pydantic"}
