"""The README's local commands as a user runs them, then the API checked against its own OpenAPI
document by schemathesis (no 5xx, responses match their schemas, invalid input refused)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.web.conftest import PLATFORM_ENV

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not PLATFORM_ENV.match(k) and k != "DATABASE_URL"}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


async def test_demo_then_serve_lists_the_demo_case_and_the_api_matches_its_schema(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/x.db"
    demo = subprocess.run(  # noqa: ASYNC221 - the CLI as a user runs it, before anything is served
        [sys.executable, "-m", "bot", "demo", "--database", database],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    port = _free_port()
    serve = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        env=_env(DATABASE_URL=database, PORT=str(port), HOST="0.0.0.0"),
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        html = ""
        async with aiohttp.ClientSession() as client, asyncio.timeout(60):
            while not html:
                try:
                    async with client.get(base + "/") as page:
                        html = await page.text()
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
        assert "Checkout 502s after the payments pool change" in html
        schemathesis = Path(sys.executable).parent / "st"
        if not schemathesis.exists():
            pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
        checked = await asyncio.create_subprocess_exec(
            str(schemathesis),
            "run",
            base + "/api/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "15",
            "--seed",
            "1",
            # The checker is a test tool, not Casebook: it runs on the real clock even when the suite
            # runs under libfaketime (its hypothesis engine crawls there); the server stays shifted.
            env={k: v for k, v in os.environ.items() if k not in {"LD_PRELOAD", "FAKETIME"}},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(checked.communicate(), timeout=240)
        assert checked.returncode == 0, output.decode()[-6000:]
    finally:
        serve.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(serve.communicate(), timeout=30)
    log = stderr.decode()
    assert "listening on 127.0.0.1 only (HOST=0.0.0.0 ignored)" in log, log
    # aiohttp's own parser logs schemathesis' NUL-byte header probe (and answers 400); ours logs nothing.
    assert "ERROR adapters" not in log, log


async def test_demo_web_writes_its_own_file_then_serves_it(tmp_path: Path) -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--web",
        env=_env(PORT=str(port)),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        html = ""
        async with aiohttp.ClientSession() as client, asyncio.timeout(90):
            while not html:
                try:
                    async with client.get(f"http://127.0.0.1:{port}/") as page:
                        html = await page.text()
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.3)
        assert "Checkout 502s after the payments pool change" in html
        assert (tmp_path / "casebook-demo.db").exists() and not (tmp_path / "casebook.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert f"http://127.0.0.1:{port}/" in output.decode()
