"""Views: the App Home tab, and the modals for a note, an action taken and a report's log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.app import App
from bot.channels.slack.blocks import Block, escape, literal_sections, plain_text, sections
from bot.channels.slack.ids import NOTE_BLOCK, NOTE_INPUT, ActionId, CallbackId
from dialogs import Reply
from bot.cases.case_list import OPEN, Case, CaseFilter
from bot.channels.slack.case_views import case_blocks
from storage.models import NoteKind

TITLE_CHARS = 24
NOTE_CHARS = 2000  # bot.cases.lifecycle.NOTE_LENGTH: Slack stops the typing there


@dataclass(frozen=True)
class NoteTarget:
    """What a note modal adds to: the report, the kind of note, where to say it was done."""

    reference: str
    kind: NoteKind
    channel: str | None
    response_url: str | None = None  # the button's: answers the person where they pressed it

    def dump(self) -> str:
        """As the modal's private_metadata."""
        return json.dumps({"ref": self.reference, "kind": self.kind.value, "channel": self.channel,
                           "respond": self.response_url})

    @classmethod
    def load(cls, metadata: str) -> NoteTarget | None:
        """From a modal's private_metadata; None if it is not ours."""
        try:
            data = json.loads(metadata)
            channel, respond = data.get("channel"), data.get("respond")
            return cls(str(data["ref"]), NoteKind(data["kind"]), channel if isinstance(channel, str) else None,
                       respond if isinstance(respond, str) and respond else None)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # not ours: not even an object
            return None


def home(app: App, person_name: str | None, cases: Sequence[Case] = (), *, has_roles: bool = False,
         has_draft: bool = False, problem: str | None = None, wanted: CaseFilter = OPEN,
         requests: Sequence[str] = ()) -> Block:
    """The App Home: a button to report, the requests waiting on this person, and for role holders their cases."""
    # In a trust the Home tab is the same for every school: each report goes under its own school's policy.
    whose = app.school.name if app.trust.alone else "your school"
    intro = ("Report an online-safety concern in a minute: a few taps, a few words. Safeguard sends it to "
             f"the right person under {whose}'s policy, and tells you when they have acknowledged it. "
             # KCSIE 2024 Part four, section two: staff should feel confident to self-refer.
             "A situation of your own that could be misread (a pupil messaged you and you replied) can be "
             "reported too: choose Something about myself.")
    blocks: list[Block] = [{"type": "header", "text": plain_text("Safeguard", 150)}, *sections(escape(intro))]
    if person_name is None:
        blocks += sections(escape("Safeguard does not know your Slack account yet. Please ask your school's "
                                  "Safeguard administrator to add you to the school's staff list."))
        return {"type": "home", "blocks": blocks}
    blocks.append({"type": "actions", "block_id": "sg_home", "elements": [{
        "type": "button", "action_id": ActionId.START, "style": "primary",
        "text": plain_text("Report a concern"), "value": "start",
    }]})
    if problem is not None:
        blocks.append(_context(f"{problem} If a child is in immediate danger, call 999."))
    if has_draft:
        blocks.append(_context("You have a report you haven't finished: tap Report a concern to carry on."))
    if requests:  # one line each (bot.cases.requests.waiting); their notices in the DM carry the buttons
        blocks += [{"type": "divider"}, {"type": "header", "text": plain_text("Requests waiting for you", 150)},
                   *literal_sections("\n".join(requests)),
                   _context("Their messages in your direct messages with Safeguard have the buttons to act on them.")]
    if has_roles:
        blocks += [{"type": "divider"}, {"type": "header", "text": plain_text("Your cases", 150)}]
        if problem is None:
            blocks += case_blocks(app, cases, wanted)
    return {"type": "home", "blocks": blocks}


def note_modal(target: NoteTarget) -> Block:
    """The modal for a note, or for the action taken (appendix B)."""
    action = target.kind is NoteKind.ACTION
    return {
        "type": "modal", "callback_id": CallbackId.NOTE, "private_metadata": target.dump(),
        "title": plain_text("Record action" if action else "Add a note", TITLE_CHARS),
        "submit": plain_text("Save", TITLE_CHARS), "close": plain_text("Cancel", TITLE_CHARS),
        "blocks": [
            *sections(f"Report *{escape(target.reference)}*"),
            {"type": "input", "block_id": NOTE_BLOCK,
             "label": plain_text("What action was taken?" if action else "Note", 2000),
             "element": {"type": "plain_text_input", "action_id": NOTE_INPUT, "multiline": True,
                         "max_length": NOTE_CHARS}},
        ],
    }


def report_modal(title: str, reply: Reply | None) -> Block:
    """A report's details and history (or why it cannot be shown); loading while `reply` is None."""
    # The log holds what staff typed (the report's words, notes): shown literally, never read as mrkdwn.
    blocks = literal_sections("Loading…" if reply is None else reply.text)
    # A modal holds 100 blocks: a log too long for that is cut, and says so.
    if len(blocks) > 99:
        blocks = blocks[:98] + sections("… (cut short: see `safeguard log export` for the whole log)")
    return {
        "type": "modal", "callback_id": CallbackId.REPORT,
        "title": plain_text(title, TITLE_CHARS), "close": plain_text("Close", TITLE_CHARS), "blocks": blocks,
    }


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(text)}]}
