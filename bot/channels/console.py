"""The console channel: the whole product in a terminal, as one person of the school config.

Choices are numbered (type the number or the words), alerts and news are printed when
they arrive, and slash commands act on reports the way the buttons do in Slack and Teams.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from bot.cases import case_list, children, conversation, evidence, follow_up, handover, lifecycle, requests
from bot.outbox import digest_delivery, notices
from bot.app import CONSOLE, STORE_ERRORS, App
from bot.channels.console_export import save_export
from bot.cases.messages import CLOSE_DECISIONS, Alert
from dialogs import InputKind, Reply, Tone
from routing.school import Person
from dialogs.validation import Invalid
from routing.vocabulary import Category
from storage.models import NoteKind

PREFIX = {Tone.ERROR: "! ", Tone.WARNING: "!! ", Tone.ADVICE: "Tip: "}
TYPED = {InputKind.TEXT, InputKind.URL, InputKind.DATE, InputKind.PERSON}
RULE = "-" * 60
COMMANDS = {
    "acknowledge": "/ack {ref}",
    "note": "/note {ref} TEXT",
    "record_action": "/action {ref} TEXT",
    "view": "/view {ref}",
    "lado": "/lado {ref}",
    "reassign": "/reassign {ref} PERSON REASON",
    "reopen": "/reopen {ref} REASON",
    "history": "/history {ref}",
    "screenshots": "/evidence {ref} FOLDER",
    "ask": "/ask {ref} QUESTION",
    "answer": "/answer {ref} TEXT",
    "add": "/add {ref} TEXT",
    "export": "/export {ref}",
}
HELP = f"""Commands:
  /report                      start a report, or carry on with an unfinished one
  /alerts                      the reports sent to you that are still open
  /cases [FILTERS]             every report you may see: open first (oldest deadline first), then closed
                               filters: open, unacknowledged, acknowledged, closed;
                               a category: {", ".join(list(Category)[:3])},
                                 {", ".join(list(Category)[3:5])},
                                 {", ".join(list(Category)[5:])};
                               since DATE, until DATE (like 2026-11-01), today, this week, last N days;
                               child NAME, last: reports naming a child whose name has NAME in it
                               e.g. /cases open cyberbullying since 2026-11-01, /cases open child ava
  /view REF                    a report's details and history (REF looks like SG-2026-0042)
  /ack REF                     acknowledge a report
  /note REF TEXT               add a note to a report
  /action REF TEXT             record the action taken on a report
  /lado REF                    record that the LADO was consulted about an allegation
  /ask REF QUESTION            ask the person who reported it a question (they answer in their own chat)
  /answer REF TEXT             answer a question about a report you sent
  /add REF TEXT                add something to a report you sent, later
  /attach PATH                 send a screenshot (PNG, JPEG, GIF or WebP) when a report asks for them
  /evidence REF FOLDER         save a report's screenshots in FOLDER (only if the report was sent to you)
  /export REF                  save a closed report, whole, as a PDF in this folder (if it was sent to you)
  /close REF DECISION REASON   close a report with the decision taken and why
                               decisions: {", ".join(CLOSE_DECISIONS)}
  /reassign REF PERSON REASON  hand a report you own (or, as the DSL, one sent to you) to another
                               role holder, by their id (like rpatel); /reassign REF lists who
  /reopen REF REASON           reopen a closed report (the DSL and deputies)
  /unblock                     ask for a wrongly blocked website to be unblocked (where the policy has it)
  /socialmedia                 ask to set up a school social media site (where the policy has it)
  /requests                    the requests waiting for you; /request REF shows one (AR-... or SM-...)
  /pass REF                    pass a request you reviewed on for approval
  /approve REF REASONS         approve a request (or your part of it);  /refuse REF REASONS refuses it
  /unblocked REF               record that the approved site was unblocked
  /child NAME                  every report about a child (type part of their name; DSL and deputies)
  /history REF                 every report about the children a report names (DSL and deputies)
  /help                        this list
  /quit                        leave (an unfinished report is kept for next time)
Anything else answers the current question, or starts a report."""


def render(reply: Reply) -> str:
    """A neutral reply as plain text: the message, then its choices numbered from 1."""
    lines = [PREFIX.get(reply.tone, "") + reply.text]
    lines += [f"  {number}. {choice.label}" for number, choice in enumerate(reply.choices, 1)]
    if reply.input in TYPED:
        limit = f", up to {reply.max_length:,} characters" if reply.max_length else ""
        pick = ", or a number above" if reply.choices else ""
        lines.append(f"  (type your answer{limit}{pick})")
    return "\n".join(lines)


def render_cases(app: App, cases: list[case_list.Case]) -> str:
    """A case list: each case on three lines, indented."""
    return "\n".join("  " + "\n    ".join(case_list.entry(app, case)) for case in cases)


def render_alert(alert: Alert) -> str:
    """An alert with the commands that stand in for its buttons."""
    actions = " | ".join(COMMANDS[button.action].format(ref=alert.reference) for button in alert.buttons)
    return "\n".join([RULE, alert.text, actions, RULE])


class Console:
    """One person at the terminal: their news, their reports, their conversation."""

    def __init__(self, app: App, person: Person, write: Callable[[str], None]) -> None:
        self.app = app
        self.person = person
        self.write = write
        self.children: tuple[int, ...] = ()  # the pupils /child last listed, for /child N

    async def open(self) -> None:
        """Greet, then show what arrived for this person and any unfinished report."""
        roles = ", ".join(self.app.role_name(role) for role in self.person.roles)
        schools = self.app.schools_of(self.person.id)
        # Someone at two schools of a trust is asked which a report is for, so both are named here.
        where = self.app.school.name if len(schools) < 2 else \
            f"{self.app.trust.name} ({' and '.join(s.name for s in schools)})"
        self.write(f"Safeguard console: {where}. You are {self.person.name}"
                   + (f" ({roles})." if roles else "."))
        await self.news()
        if self.person.roles:
            await self.alerts(quiet=True)
        nudged = await self.nudges()
        if not nudged:
            try:
                pending = await conversation.has_draft(self.app, channel=CONSOLE, user_id=self.person.id)
            except STORE_ERRORS:
                pending = False
            if pending:
                self.say(await conversation.begin(self.app, channel=CONSOLE, user_id=self.person.id))
        self.write("Type anything to report a concern, or /help for commands.")

    async def line(self, text: str) -> bool:
        """Handle one typed line; False when the person asked to leave."""
        words = text.strip()
        if words.startswith("/"):
            keep_going = await self.command(words)
        elif (form := await requests.message(self.app, channel=CONSOLE, user_id=self.person.id, text=text)) is not None:
            self.say(form)
            keep_going = True
        elif not words and not await _has_draft(self):
            return True  # an empty line with no report under way: nothing to answer
        else:
            self.say(await conversation.message(self.app, channel=CONSOLE, user_id=self.person.id, text=text))
            keep_going = True
        await self.news()
        return keep_going

    async def command(self, words: str) -> bool:
        name, _, rest = words.partition(" ")
        name = name.lower()
        me = self.person.id
        if name in ("/quit", "/exit"):
            return False
        if name == "/help":
            self.write(HELP)
        elif name == "/report":
            self.say(await conversation.begin(self.app, channel=CONSOLE, user_id=me))
        elif name == "/alerts":
            await self.alerts()
        elif name == "/ack":
            self.say([(await lifecycle.acknowledge(self.app, me, rest)).reply])
        elif name == "/view":
            self.say([(await lifecycle.view(self.app, me, rest)).reply])
        elif name == "/child":
            found = await children.find_child(self.app, me, rest, self.children)
            self.children = found.listed or self.children
            self.say(found.replies)
        elif name == "/history":
            self.say([await children.history_for_report(self.app, me, rest)])
        elif name == "/lado":
            self.say([(await lifecycle.lado_consulted(self.app, me, rest)).reply])
        elif name in ("/note", "/action"):
            reference, _, text = rest.strip().partition(" ")
            kind = NoteKind.ACTION if name == "/action" else NoteKind.NOTE
            self.say([(await lifecycle.add_note(self.app, me, reference, text, kind=kind)).reply])
        elif name in ("/ask", "/answer", "/add"):
            reference, _, text = rest.strip().partition(" ")
            self.say([(await follow_up.ask(self.app, me, reference, text) if name == "/ask" else
                       await (follow_up.answer if name == "/answer" else follow_up.add)(
                           self.app, channel=CONSOLE, user_id=me, person_id=me, reference_text=reference,
                           text=text)).reply])
        elif name == "/cases":
            await self.cases(rest)
        elif name == "/reassign":
            await self.reassign(rest)
        elif name == "/reopen":
            reference, _, reason = rest.strip().partition(" ")
            self.say([(await handover.reopen(self.app, me, reference, reason)).reply])
        elif name == "/attach":
            self.say(await evidence.take(self.app, channel=CONSOLE, user_id=me, files=[local_file(rest.strip())]))
        elif name == "/evidence":
            reference, _, folder = rest.strip().partition(" ")
            self.say([await save_screenshots(self.app, me, reference, folder.strip())])
        elif name == "/export":
            self.say([await save_export(self.app, me, rest.strip())])
        elif name in requests.COMMANDS:  # /unblock, /socialmedia
            self.say(await requests.start(self.app, channel=CONSOLE, user_id=me, kind_id=requests.COMMANDS[name]))
        elif name in ("/pass", "/approve", "/refuse", "/unblocked"):
            reference, _, reasons = rest.strip().partition(" ")
            verb = {"/pass": "pass", "/approve": "approve", "/refuse": "refuse", "/unblocked": "done"}[name]
            self.say([await requests.act(self.app, me, reference, verb, reasons)])
        elif name == "/request":
            self.say([await requests.view(self.app, me, rest)])
        elif name == "/requests":
            waiting = await requests.waiting(self.app, me)
            self.write("\n".join(["Requests waiting for you:", *waiting]) if waiting else "No requests waiting for you.")
        elif name == "/close":
            reference, decision, reason = (rest.split(maxsplit=2) + ["", ""])[:3]
            self.say([(await lifecycle.close(self.app, me, reference, decision, reason)).reply])
        else:
            self.say([Reply(f"There is no command {name[:30]}. Type /help for the list.", tone=Tone.ERROR)])
        return True

    async def alerts(self, *, quiet: bool = False) -> None:
        """The reports still open that reached this person (nothing said when there are none and `quiet`)."""
        try:
            cases = await case_list.cases_for(self.app, self.person.id, case_list.OPEN)
        except STORE_ERRORS:
            self.say([Reply("Safeguard cannot reach its database just now.", tone=Tone.ERROR)])
            return
        if not cases:
            if not quiet:
                self.write("No open reports for you.")
            return
        self.write(f"Open reports for you ({len(cases)}):")
        self.write(render_cases(self.app, cases))

    async def cases(self, text: str) -> None:
        """Every report this person may see, filtered as they asked."""
        wanted = case_list.parse_filter(self.app, text)
        if isinstance(wanted, Invalid):
            self.say([Reply(wanted.reason, tone=Tone.ERROR)])
            return
        try:
            cases = await case_list.cases_for(self.app, self.person.id, wanted)
        except STORE_ERRORS:
            self.say([Reply("Safeguard cannot reach its database just now.", tone=Tone.ERROR)])
            return
        self.write(case_list.heading(cases, wanted))
        if cases:
            self.write(render_cases(self.app, cases))

    async def reassign(self, text: str) -> None:
        """/reassign REF PERSON REASON; with the reference alone, who it could go to."""
        reference, to, reason = (text.split(maxsplit=2) + ["", ""])[:3]
        if to:
            self.say([(await handover.reassign(self.app, self.person.id, reference, to, reason)).reply])
            return
        found = await handover.choices(self.app, self.person.id, reference)
        if isinstance(found, lifecycle.Result):
            self.say([found.reply])
            return
        listed = "\n".join(f"  {c.person.id}  {c.person.name} ({c.role_name})" for c in found)
        self.write(f"{reference.upper()} can be reassigned to:\n{listed}\n"
                   f"Type /reassign {reference.upper()} PERSON REASON, like /reassign {reference.upper()} "
                   f"{found[0].person.id} the reason for handing it over.")

    async def news(self) -> None:
        """Print the alerts and news waiting for this person, and mark each delivered once shown."""
        try:
            waiting = await notices.pending(self.app, CONSOLE, self.person.id)
            for notice in waiting:
                for shown in [render_alert(notice.alert)] if notice.alert is not None else map(render, notice.replies):
                    self.write(shown)
                if notice.buttons and notice.reference is not None:  # the commands that stand in for its buttons
                    self.write(" | ".join(COMMANDS[b.action].format(ref=notice.reference) for b in notice.buttons))
                await notices.delivered(self.app, notice)
            # The weekly digest: a terminal shows no image, so the chart is offered as a file instead.
            for digest in await digest_delivery.claim(self.app, CONSOLE, self.person.id):
                chart = (f"\nIts chart, as a PNG file: safeguard digest --week {digest.week} --chart FILE"
                         if digest.chart is not None else "")
                self.write(f"{RULE}\n{digest.text.rstrip()}{chart}\n{RULE}")
                await digest_delivery.delivered(self.app, digest)
        except STORE_ERRORS:
            self.say([Reply("Safeguard cannot reach its database just now, so new alerts may be waiting.",
                            tone=Tone.ERROR)])

    async def nudges(self) -> bool:
        """Show this person's draft reminder or expiry, if one is due; whether there was one."""
        try:
            due = await conversation.sweep(self.app, CONSOLE, self.person.id)
        except STORE_ERRORS:
            return False
        self.say([nudge.reply for nudge in due])
        return bool(due)

    def say(self, replies: list[Reply]) -> None:
        for reply in replies:
            self.write(render(reply))


def local_file(path_text: str) -> evidence.Incoming:
    """A file on this computer, read (if it is read at all) no further than the limit."""
    path = Path(path_text).expanduser()

    async def read(limit: int) -> bytes:
        if not path_text:
            raise evidence.FetchFailed("no file was named: /attach PATH")
        try:
            with path.open("rb") as opened:
                data = opened.read(limit + 1)
        except OSError as exc:
            raise evidence.FetchFailed(exc.strerror or str(exc)) from None
        if len(data) > limit:
            raise evidence.TooLarge()
        return data

    try:
        size: int | None = path.stat().st_size if path_text else None
    except OSError:
        size = None
    return evidence.Incoming(read, size)


async def save_screenshots(app: App, person_id: str, reference: str, folder_text: str) -> Reply:
    """A report's screenshots written to a folder this person names, if bot.cases.access lets them view it."""
    if not reference or not folder_text:
        return Reply("Say which report and where to save its screenshots: /evidence REF FOLDER", tone=Tone.ERROR)
    folder = Path(folder_text).expanduser()
    if not folder.is_dir():
        return Reply(f"{folder_text[:80]} is not a folder, so nothing was saved.", tone=Tone.ERROR)
    shown = await evidence.show(app, person_id, reference)
    saved: list[str] = []
    for picture in shown.pictures:
        target = folder / picture.name
        try:
            # Readable by this person only, and never over a file already there.
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(picture.data)
        except OSError as exc:
            return Reply(f"{target} could not be written ({exc.strerror or exc}); saved so far: "
                         f"{', '.join(saved) or 'nothing'}.", tone=Tone.ERROR)
        saved.append(str(target))
    if not saved:
        return shown.reply
    return Reply(f"{shown.reply.text}\nSaved: " + "\n".join(saved), tone=Tone.DONE)


async def run(console: Console, read_line: Callable[[], str], *, poll_seconds: float = 0) -> None:
    """Read lines until end of input or /quit; with `poll_seconds`, show alerts as they arrive meanwhile."""
    await console.open()
    # One thing at a time on the screen: news found by the poll waits for a line being handled.
    busy = asyncio.Lock()

    async def poll() -> None:
        while True:
            await asyncio.sleep(poll_seconds)
            async with busy:
                await console.news()
                await console.nudges()

    poller = asyncio.create_task(poll()) if poll_seconds > 0 else None
    try:
        while True:
            text = await asyncio.to_thread(read_line)
            if text == "":  # end of input
                break
            async with busy:
                if not await console.line(text.rstrip("\n")):
                    break
    finally:
        if poller is not None:
            poller.cancel()
    if await _has_draft(console):
        console.write("Your unfinished report is kept: run safeguard chat again to carry on.")
    console.write("Bye.")


async def _has_draft(console: Console) -> bool:
    try:
        return await conversation.has_draft(console.app, channel=CONSOLE, user_id=console.person.id)
    except STORE_ERRORS:
        return False
