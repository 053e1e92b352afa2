"""Safeguard on Slack: the only package that imports slack_bolt and slack_sdk (the rest of the code never depends on a chat SDK)."""

from bot.channels.slack.channel import SlackChannel
from bot.channels.slack.host import Registered

__all__ = ["Registered", "SlackChannel"]
