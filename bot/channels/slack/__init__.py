"""Safeguard on Slack: the only package that imports slack_bolt and slack_sdk (STYLE 1)."""

from bot.channels.slack.channel import SlackChannel
from bot.channels.slack.host import Registered

__all__ = ["Registered", "SlackChannel"]
