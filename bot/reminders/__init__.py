"""Prevention follow-through: the weekly digest, escalations and the sweep that sends them.

`bot.reminders.sweep.sweep` is the entry point; the clock process (adapters/clock.py)
and `casebook remind --now` call it. Nothing here knows a chat platform: sends go
through the notifier port (bot/notify.py).
"""
