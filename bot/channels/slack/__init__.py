"""Safeguard on Slack: the only package that imports slack_bolt and slack_sdk (STYLE 1)."""

from bot.channels.slack.channel import Registered, SlackChannel

__all__ = ["Registered", "SlackChannel"]
