"""LOG_FORMAT=json: one JSON object per line, and every line of one request (and of the work it
started after the acknowledgement) carries the same request id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.ops.logs import configure
from tests.slack.conftest import Harness


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure(level=logging.DEBUG, fmt="json", stream=stream)
    yield stream
    root.handlers[:], root.level = saved


def logged(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written since the last call, each one a JSON object."""
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    stream.seek(0), stream.truncate()
    return lines


async def test_one_turn_one_request_id(harness: Harness, json_logs: io.StringIO) -> None:
    h = harness
    logged(json_logs)
    assert (await h.sender.command("Checkout 502s")).status == 200
    await h.settle()
    start = logged(json_logs)
    root = h.root()
    await h.say(root, "SEV2")
    answer = logged(json_logs)

    for lines in (start, answer):
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
        ids = {
            line.get("request_id") for line in lines if line["logger"].startswith(("slack_sdk", "adapters"))
        }
        assert len(ids) == 1 and None not in ids, ids  # the request's lines and its after-ack work
    [first], [second] = (
        {line["request_id"] for line in lines if "request_id" in line} for lines in (start, answer)
    )
    assert first != second
    posted = [line for line in start if "chat.postMessage" in line["message"]]
    assert posted and all(line["request_id"] == first for line in posted)  # work done after the ack
