"""Acknowledgements first: applying waits while requests wait for their 200, but not forever."""

from __future__ import annotations

import asyncio

from adapters.arrivals import Arrivals


async def test_with_no_request_waiting_applying_goes_on_at_once() -> None:
    arrivals = Arrivals(patience=60)

    await asyncio.wait_for(arrivals.quiet(), 1)


async def test_applying_waits_until_the_last_waiting_request_is_answered() -> None:
    arrivals = Arrivals(patience=60)
    order: list[str] = []
    first, second = arrivals.arriving(), arrivals.arriving()
    first.__enter__()
    second.__enter__()

    async def apply() -> None:
        await arrivals.quiet()
        order.append("applied")

    applying = asyncio.create_task(apply())
    await asyncio.sleep(0.01)
    first.__exit__(None, None, None)
    await asyncio.sleep(0.01)
    order.append("second answered")
    second.__exit__(None, None, None)
    await asyncio.wait_for(applying, 1)

    assert order == ["second answered", "applied"]
    assert arrivals.waiting == 0


async def test_requests_that_keep_coming_do_not_hold_applying_past_its_patience() -> None:
    arrivals = Arrivals(patience=0.05)
    with arrivals.arriving():
        await asyncio.wait_for(arrivals.quiet(), 5)  # returns once patience is spent
        assert arrivals.waiting == 1


async def test_a_request_that_fails_still_counts_as_answered() -> None:
    arrivals = Arrivals(patience=60)
    try:
        with arrivals.arriving():
            raise ValueError("a handler error")
    except ValueError:
        pass

    assert arrivals.waiting == 0
    await asyncio.wait_for(arrivals.quiet(), 1)


async def test_a_gap_shorter_than_the_lull_between_requests_does_not_let_applying_in() -> None:
    arrivals = Arrivals(patience=60, lull=1.0)
    applied = asyncio.Event()

    async def apply() -> None:
        await arrivals.quiet()
        applied.set()

    with arrivals.arriving():
        applying = asyncio.create_task(apply())
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.01)  # one 200 answered, the next request not yet in
    with arrivals.arriving():
        await asyncio.sleep(0.01)
        assert not applied.is_set()
    assert not applied.is_set()  # the lull starts again from the last answer
    await asyncio.wait_for(applying, 5)


async def test_patience_counts_across_gaps_shorter_than_the_lull() -> None:
    arrivals = Arrivals(patience=0.2, lull=60)
    loop = asyncio.get_running_loop()
    started = loop.time()
    applying = asyncio.create_task(arrivals.quiet())
    while not applying.done():
        assert loop.time() - started < 5, "applying waited past its patience"
        with arrivals.arriving():
            await asyncio.sleep(0.01)
    assert loop.time() - started >= 0.2
