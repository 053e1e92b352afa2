"""Safeguard on Microsoft Teams: the only package that imports botbuilder (the rest of the code never depends on a chat SDK).

Everything botbuilder-specific stays in this folder, so moving to Microsoft's successor SDK
(the Microsoft 365 Agents SDK) is a change of this folder alone.
"""

from bot.channels.teams.channel import MESSAGES_PATH, TEAMS_KEY, TeamsChannel, add_teams_routes
from bot.channels.teams.settings import TeamsSettings

__all__ = ["MESSAGES_PATH", "TEAMS_KEY", "TeamsChannel", "TeamsSettings", "add_teams_routes"]
