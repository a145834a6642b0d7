"""`casebook serve` and `casebook clock`: the Procfile's processes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from adapters.reminders_cli import run_clock

if TYPE_CHECKING:
    from bot.config import Settings


def add_commands(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the web process (Slack, Teams, health check)")
    serve.set_defaults(handler=run_serve)
    clock = sub.add_parser("clock", help="run the reminder scheduler")
    clock.set_defaults(handler=run_clock)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.server import run_serve as serve

    return serve(args, settings)


def not_configured(args: argparse.Namespace, settings: Settings) -> int:
    print(
        f"casebook {args.command}: not configured yet. This process arrives with the Slack, Teams "
        "and reminder work; use `casebook console` or `casebook demo` meanwhile.",
        file=sys.stderr,
    )
    return 2
