"""Export in chat: a report's PDF for the person who pressed Export, to be sent into their own chat with the bot alone.

The channel sends the document only into the presser's direct message (never a channel), and
its preview says only the reference and "export". Whether they may is bot.cases.access's
decision (through bot.cases.report_export, which logs the export, or the refusal, first).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import App
from bot.cases import lifecycle, preview
from bot.cases.access import Action
from bot.cases.report_export import Exported, NotRecorded, Refused, export_report
from dialogs import Reply, Tone
from dialogs.prompts import error
from dialogs.validation import Invalid

NOT_RECORDED = ("The export could not be recorded in the log, so nothing was exported. Please press Export again "
                "in a minute.")
NOT_SENT = "The export could not be sent just now. Please press Export again in a minute."


@dataclass(frozen=True)
class Handed:
    """What to tell the presser, and the document to send into their own chat (None: nothing to send)."""

    reply: Reply
    document: Exported | None = None


async def export_pdf(app: App, person_id: str, reference_text: str) -> Handed:
    """The report's PDF for `person_id` if bot.cases.access lets them export it; otherwise refused (and logged)."""
    reference = lifecycle.parse_reference(reference_text)
    if isinstance(reference, Invalid):
        return Handed(error(reference.reason))
    person = app.anyone(person_id)
    if person is None:
        return Handed((await lifecycle.refuse(app, person_id, Action.EXPORT, reference)).reply)
    try:
        done = await export_report(app, person, reference, "pdf")
    except NotRecorded:
        return Handed(error(NOT_RECORDED))
    if isinstance(done, Refused):
        return Handed(done.reply)
    return Handed(sent(done), done)


def sent(document: Exported) -> Reply:
    """Told with the document: it is theirs alone, and marked so."""
    return Reply(f"{document.reference} exported as {document.name}, for you only. It is marked OFFICIAL-SENSITIVE: "
                 "file it in the school's case record and do not forward it.", tone=Tone.DONE,
                 preview=preview.line("the export you asked for", document.reference))


def not_sent() -> Reply:
    """Told when the chat app would not take the document (the export is logged; pressing again makes another)."""
    return error(NOT_SENT)
