"""/export at the console: a report's PDF written into the folder the console runs in, for the person at it alone."""

from __future__ import annotations

import os
from pathlib import Path

from bot.app import App
from bot.cases import export_in_chat
from dialogs import Reply, Tone


async def save_export(app: App, person_id: str, reference: str) -> Reply:
    """A report's PDF written to a new file in the working folder, if bot.cases.access lets this person export it."""
    handed = await export_in_chat.export_pdf(app, person_id, reference)
    if handed.document is None:
        return handed.reply
    name = Path(handed.document.name)
    for number in range(1, 100):
        target = Path.cwd() / (name.name if number == 1 else f"{name.stem}-{number}{name.suffix}")
        try:
            # Readable by this person only, and never over a file already there: the next free name instead.
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError:
            break
        with os.fdopen(descriptor, "wb") as out:
            out.write(handed.document.data)
        return Reply(f"{handed.reply.text}\nSaved: {target}", tone=Tone.DONE)
    return Reply(f"The export of {handed.document.reference} could not be saved in {Path.cwd()}; run the console "
                 "from a folder you can write to and try again.", tone=Tone.ERROR)
