"""Capturing the case from where the incident happened: a pasted account (`account`), messages
added by a shortcut (`clip`), and a channel's history (`history`). Platform-neutral; the
Slack and Teams parts live in their adapters.

Modules import what they need directly (`from bot.capture.account import parse_account`):
this package imports nothing at load, so the interview may use `bot.capture.sections`
without a cycle.
"""
