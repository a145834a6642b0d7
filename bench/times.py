"""Typed times: the hand grammar (bot/parsing/times.py) beside dateparser, on the same forms.

    .venv/bin/pip install dateparser==1.5.0      # not a dependency of Casebook: see the README
    .venv/bin/python bench/times.py [--rounds 20] [--load 2]

A fixed list of times as responders type them, each with the instant a person means (or none:
a refusal is right), read at one fixed `now` in Europe/Paris by an en-GB or en-US speaker.
Three readers, in the same run:

- `hand`: `parse_when`, the strict grammar alone;
- `dateparser`: dateparser.parse with RELATIVE_BASE = the turn's now (local), PREFER_DATES_FROM
  past, TIMEZONE = the speaker's zone, DATE_ORDER from the locale, English only; its result goes
  through the same checks parse_when applies (not in the future, not over three years back);
- `hand+dp`: the grammar first, dateparser only for what no form of the grammar recognised
  (what adopting it as the fallback would give).

Prints each form's readings side by side, then per reader: right, refused, *wrong* (a confident
wrong instant: worse than a refusal), agreement between the two; the per-call median and p95 in
microseconds over --rounds rounds of the whole list (with --load N busy processes running, to
stand for a loaded 2-core machine); dateparser's first call in a fresh process (it loads its
language data lazily); and the import time of each in a fresh process beside `python -c pass`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.parsing import FUTURE_TOLERANCE, MAX_PAST, ParseError, date_order, month_first, parse_when
from bot.parsing.times import Unrecognised

ZONE_NAME = "Europe/Paris"
TZ = ZoneInfo(ZONE_NAME)
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # Tuesday 1 December, 10:00 in Paris
PREVIOUS = dt.datetime(2026, 11, 30, 20, 40, tzinfo=TZ)  # the answer before: Monday 20:40
GB, US = "en-GB", "en-US"


@dataclass(frozen=True)
class Form:
    text: str
    means: str | None  # local `YYYY-MM-DD HH:MM` in Paris, or None: the right answer is a refusal
    locale: str = GB


FORMS = [
    Form("21:40 yesterday", "2026-11-30 21:40"),
    Form("9:40pm yesterday", "2026-11-30 21:40"),
    Form("yesterday 9:40pm", "2026-11-30 21:40"),
    Form("yesterday 21:40", "2026-11-30 21:40"),
    Form("yesterday at 21:40", "2026-11-30 21:40"),
    Form("at 21:40 yesterday", "2026-11-30 21:40"),
    Form("around 21:40 yesterday", "2026-11-30 21:40"),
    Form("~21:40 yesterday", "2026-11-30 21:40"),
    Form("9:40 pm yesterday", "2026-11-30 21:40"),
    Form("9:40 PM Yesterday", "2026-11-30 21:40"),
    Form("yesterday at 9.40pm", "2026-11-30 21:40"),
    Form("21h40 yesterday", "2026-11-30 21:40"),
    Form("last night at 21:40", "2026-11-30 21:40"),
    Form("30/11 21:40", "2026-11-30 21:40"),
    Form("11/30 21:40", "2026-11-30 21:40", US),
    Form("30/11 at 21:40", "2026-11-30 21:40"),
    Form("21:40 30/11", "2026-11-30 21:40"),
    Form("30.11.2026 21:40", "2026-11-30 21:40"),
    Form("30/11/2026 21:40", "2026-11-30 21:40"),
    Form("11/30/2026 9:40pm", "2026-11-30 21:40", US),
    Form("5/11 21:40", "2026-11-05 21:40"),
    Form("5/11 21:40", "2026-05-11 21:40", US),
    Form("11/30 21:40", None),  # en-GB: there is no month 30
    Form("31/11 21:40", None),  # no 31 November
    Form("about an hour later", "2026-11-30 21:40"),
    Form("an hour later", "2026-11-30 21:40"),
    Form("60 minutes later", "2026-11-30 21:40"),
    Form("+1h", "2026-11-30 21:40"),
    Form("+12m", "2026-11-30 20:52"),
    Form("half an hour later", "2026-11-30 21:10"),
    Form("Mon 30 Nov 21:40 (UTC+01:00)", "2026-11-30 21:40"),
    Form("Tue 30 Nov 21:40", None),  # 30 November 2026 is a Monday
    Form("14:05", "2026-11-30 14:05"),  # after now's 10:00: the most recent one, yesterday
    Form("09:30", "2026-12-01 09:30"),
    Form("9am", "2026-12-01 09:00"),
    Form("23:10", "2026-11-30 23:10"),
    Form("00:15", "2026-12-01 00:15"),
    Form("now", "2026-12-01 10:00"),
    Form("25 minutes ago", "2026-12-01 09:35"),
    Form("2 hours ago", "2026-12-01 08:00"),
    Form("an hour ago", "2026-12-01 09:00"),
    Form("1 day ago", "2026-11-30 10:00"),
    Form("three hours ago", "2026-12-01 07:00"),
    Form("2026-11-30 21:40", "2026-11-30 21:40"),
    Form("2026-11-30 21:40 +01:00", "2026-11-30 21:40"),
    Form("2026-11-30T20:40Z", "2026-11-30 21:40"),
    Form("2026-11-30 20:40 UTC", "2026-11-30 21:40"),
    Form("Nov 30 21:40", "2026-11-30 21:40"),
    Form("30 Nov 21:40", "2026-11-30 21:40"),
    Form("November 30, 2026 at 21:40", "2026-11-30 21:40"),
    Form("Mon 30 Nov 21:40", "2026-11-30 21:40"),  # the echo, typed back
    Form("monday 21:40", "2026-11-30 21:40"),
    Form("mon 9:40pm", "2026-11-30 21:40"),
    Form("21:40 on monday", "2026-11-30 21:40"),
    Form("sunday 23:10", "2026-11-29 23:10"),
    Form("half past nine yesterday evening", "2026-11-30 21:30"),
    Form("tomorrow 09:00", None),  # in the future
    Form("in an hour", None),
    Form("13/13 10:00", None),
    Form("banana", None),
]

Reader = Callable[[Form], dt.datetime | None]


def hand(form: Form) -> dt.datetime | None:
    try:
        return parse_when(form.text, now=NOW, tz=TZ, previous=PREVIOUS, month_first=month_first(form.locale))
    except ParseError:
        return None


def dateparser_reader() -> Reader:
    import dateparser

    local_now = NOW.astimezone(TZ).replace(tzinfo=None)

    def read(form: Form) -> dt.datetime | None:
        settings: Any = {
            "RELATIVE_BASE": local_now,
            "PREFER_DATES_FROM": "past",
            "TIMEZONE": ZONE_NAME,
            "TO_TIMEZONE": "UTC",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "DATE_ORDER": date_order(form.locale),
        }
        found = dateparser.parse(form.text, languages=["en"], settings=settings)
        if found is None or found > NOW + FUTURE_TOLERANCE or NOW - found > MAX_PAST:
            return None  # parse_when would refuse it the same way
        return found

    return read


def with_fallback(fallback: Reader) -> Reader:
    def read(form: Form) -> dt.datetime | None:
        try:
            return parse_when(
                form.text, now=NOW, tz=TZ, previous=PREVIOUS, month_first=month_first(form.locale)
            )
        except Unrecognised:
            return fallback(form)
        except ParseError:
            return None  # a form the grammar knows, refused for a reason: never second-guessed

    return read


def meant(form: Form) -> dt.datetime | None:
    return dt.datetime.strptime(form.means, "%Y-%m-%d %H:%M").replace(tzinfo=TZ) if form.means else None


def verdict(form: Form, got: dt.datetime | None) -> str:
    if got == meant(form):
        return "right"
    return "refused" if got is None else "WRONG"


def shown(got: dt.datetime | None) -> str:
    return got.astimezone(TZ).strftime("%a %d %b %H:%M") if got else "—"


@contextmanager
def busy(processes: int) -> Iterator[None]:
    """`processes` CPU-bound children for the duration: a machine that is doing other work."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def per_call_us(reader: Reader, rounds: int) -> list[float]:
    times: list[float] = []
    for _ in range(rounds):
        for form in FORMS:
            started = time.perf_counter()
            reader(form)
            times.append((time.perf_counter() - started) * 1e6)
    return times


def fresh_process_seconds(code: str, runs: int) -> float:
    """The median wall time of `code` printing its own measured seconds, each in a new process."""
    found = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[1],
        )
        found.append(float(out.stdout.strip()))
    return statistics.median(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed passes over the whole list")
    parser.add_argument("--load", type=int, default=0, help="busy processes while timing (e.g. 2)")
    parser.add_argument("--imports", type=int, default=7, help="fresh processes per import timing")
    args = parser.parse_args()
    try:
        dp = dateparser_reader()
    except ImportError:
        sys.exit("dateparser is not installed: .venv/bin/pip install dateparser==1.5.0")
    readers: dict[str, Reader] = {"hand": hand, "dateparser": dp, "hand+dp": with_fallback(dp)}

    results = {name: [reader(form) for form in FORMS] for name, reader in readers.items()}
    print(f"now: {shown(NOW)} {ZONE_NAME}; previous answer: {shown(PREVIOUS)}\n")
    print(f"{'typed':<34} {'loc':<5} {'meant':<16} {'hand':<24} {'dateparser':<24}")
    for i, form in enumerate(FORMS):
        cells = [f"{shown(results[n][i])} {verdict(form, results[n][i])}" for n in ("hand", "dateparser")]
        means = shown(meant(form)) if form.means else "refuse"
        print(f"{form.text:<34} {form.locale[-2:]:<5} {means:<16} {cells[0]:<24} {cells[1]:<24}")

    print(f"\n{len(FORMS)} forms   right  refused  WRONG")
    for name in readers:
        verdicts = [verdict(form, got) for form, got in zip(FORMS, results[name], strict=True)]
        counts = [verdicts.count(v) for v in ("right", "refused", "WRONG")]
        print(f"{name:<11} {counts[0]:>8} {counts[1]:>8} {counts[2]:>6}")
    agree = sum(a == b for a, b in zip(results["hand"], results["dateparser"], strict=True))
    print(f"hand and dateparser give the same reading on {agree} of {len(FORMS)}")

    with busy(args.load):
        timing = {name: per_call_us(readers[name], args.rounds) for name in ("hand", "dateparser")}
    print(f"\nper call, {args.rounds} rounds x {len(FORMS)} forms, {args.load} busy processes:")
    for name, times in timing.items():
        p95 = statistics.quantiles(times, n=20)[-1]
        median = statistics.median(times)
        print(f"{name:<11} median {median:>8.1f} us   p95 {p95:>8.1f} us   max {max(times):>9.1f} us")

    first_call = (
        "import time, datetime as dt, dateparser; t = time.perf_counter(); "
        "dateparser.parse('21:40 yesterday', languages=['en'], settings={'PREFER_DATES_FROM': 'past'}); "
        "print(time.perf_counter() - t)"
    )
    first = fresh_process_seconds(first_call, args.imports)
    print(f"dateparser first call in a fresh process: {first * 1000:.1f} ms")
    print(f"\nimport, median of {args.imports} fresh processes:")
    base = fresh_process_seconds("import time; t = time.perf_counter(); print(time.perf_counter() - t)", 3)
    for module in ("bot.parsing", "dateparser"):
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        print(f"import {module:<12} {(fresh_process_seconds(code, args.imports) - base) * 1000:>7.1f} ms")
    print("\ngoal for a fallback: right on the list, no WRONG, p95 < 5000 us, no cost to `casebook --help`")


if __name__ == "__main__":
    main()
