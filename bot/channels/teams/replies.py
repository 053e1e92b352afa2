"""What the Teams bot says of its own (the rest comes from bot.cases.conversation and bot.cases.lifecycle)."""

from __future__ import annotations

from typing import Any

from bot.cases import messages
from dialogs import Reply, Tone

STRANGER = messages.stranger("Teams")
NO_FILES = messages.NO_FILES
NOT_HERE = Reply("Safeguard takes reports in a one-to-one chat only, so nobody else sees them. "
                 "Open a chat with Safeguard and send it a message there.", tone=Tone.ERROR)
STALE = Reply("That button belongs to an earlier question.", tone=Tone.ERROR)
FINISHED = Reply("That report is finished. To report something else, send me any message.", tone=Tone.DONE)
UNKNOWN_BUTTON = Reply("That button is not one Safeguard knows. Send me a message to report a concern.",
                       tone=Tone.ERROR)
BROKEN = Reply("Something went wrong on Safeguard's side, so that was not handled. Please try again in a minute. "
               f"If it is urgent, tell your Designated Safeguarding Lead directly. {messages.EMERGENCY}",
               tone=Tone.ERROR)


def personal(activity: Any) -> bool:
    """Whether an activity comes from a one-to-one chat (the Emulator names no conversation type)."""
    chat = activity.conversation
    return not chat.is_group and chat.conversation_type in (None, "personal")
