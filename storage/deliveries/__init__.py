"""Reminder bookkeeping for bot/reminders, one module per question:

- `schedules`: every tenant with its own weekly slot, and the `reminders` command's writes;
- `workload`: who has open actions, and the rows a digest or an escalation lists;
- `ledger`: the weekly delivery rows of digests and escalations, claimed before sending;
- `sql`: how a list of rows travels as one statement parameter.

Set-based on purpose: a sweep issues a handful of statements whatever the number of owners.
"""
