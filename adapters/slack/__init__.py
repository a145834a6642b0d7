"""Slack: the `/postmortem` interview in threads, actions from buttons, App Home, OAuth install."""

from adapters.slack.app import add_routes

__all__ = ["add_routes"]
