"""Prevention actions in the team's tracker (GitHub Issues, Jira, Linear), both ways.

The core side: the tracker port (port.py), what an issue says (content.py), the sync pass
(sync.py, a DB-driven sweep like the reminders), closes from the tracker (inbound.py), the
`tracker` command (commands.py), the nudge job (job.py) and the status (status.py). The
adapters live in adapters/trackers/.
"""
