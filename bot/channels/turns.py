"""How a turn's replies are parted into messages, the same on every chat channel."""

from __future__ import annotations

from collections.abc import Sequence

from dialogs import Reply, Tone


def parted(replies: Sequence[Reply]) -> list[list[Reply]]:
    """The replies as messages: a warning stands as a message of its own, before what follows it.

    The 999 advice after "Could a child be at immediate risk? Yes" (KCSIE Part one: act on the
    emergency procedure at once) must not read as the top line of the next question, where a
    reporter on a phone scrolls past it to the buttons.
    """
    messages: list[list[Reply]] = []
    current: list[Reply] = []
    for reply in replies:
        if reply.tone is Tone.WARNING:
            if current:
                messages.append(current)
            messages.append([reply])
            current = []
        else:
            current.append(reply)
    if current:
        messages.append(current)
    return messages
