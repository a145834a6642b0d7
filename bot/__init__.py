"""Casebook's platform-neutral core: the interview, commands, drafting, reminders, insights."""
