"""Screenshots with a report: taken in at the screenshots step, checked, kept encrypted, shown only to those entitled.

A channel says a file arrived and how to fetch it (with the bot's own credentials, from the
platform's own host); whether it is fetched at all is decided first, from the draft
(dialogs.evidence.image_arrives): where the report may be about an indecent image of a child,
not a byte is read. What is fetched is read no further than the limit, checked to be a PNG,
JPEG, GIF or WebP picture within the pixel limit, and stored encrypted with the draft; on Send
it moves to the report (bot.cases.lifecycle), on Cancel or expiry it goes with the draft.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.app import STORE_ERRORS, App
from bot.cases import lifecycle, messages
from bot.cases.conversation import roster
from bot.cases.access import Action, may
from dialogs import Draft, DraftError, Reply, Tone, is_expired, resume
from dialogs.evidence import (
    MAX_SCREENSHOT_BYTES,
    MAX_SCREENSHOT_PIXELS,
    ImageVerdict,
    image_arrives,
    megabytes,
    received,
    refusal,
)
from dialogs.flow import attached
from dialogs.prompts import error
from dialogs.validation import Invalid
from storage import reports as store
from storage.drafts import load_draft, save_draft
from storage.evidence import add_draft_screenshot, report_screenshots
from storage.log import EventKind, append_event

log = logging.getLogger(__name__)

# Pillow's name for each format taken, and the content type it is stored and sent as.
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}

NOT_AN_IMAGE = ("That file was not taken: Safeguard takes screenshots as PNG, JPEG, GIF or WebP pictures only. "
                "Describe anything else in words.")
TOO_LARGE = (f"That file was not taken: a screenshot may be up to {megabytes()}. Send a smaller one, "
             "or describe it in words.")
TOO_MANY_PIXELS = "That picture was not taken: it is too large in width and height for a screenshot."
NOT_FETCHED = "That file could not be fetched, so it was not taken. Please try sending it again."
NOT_STORED = "That screenshot could not be saved just now, so it was not taken. Please try again in a minute."


class TooLarge(Exception):
    """The file is larger than the limit (said so up front, or found while reading it: reading stopped there)."""


class FetchFailed(Exception):
    """The file could not be fetched (not the platform's own host, refused, or the network failed)."""


# fetch(limit): the file's bytes, read no further than `limit` (TooLarge past it); FetchFailed otherwise.
Fetch = Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True)
class Incoming:
    """A file someone sent, as their channel describes it before a byte of it is read."""

    fetch: Fetch
    declared_size: int | None = None  # what the platform says the size is, checked before fetching


@dataclass(frozen=True)
class Picture:
    """A stored screenshot as it is sent to someone entitled to see it (named by the report, never by the sender)."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Shown:
    """What pressing Screenshots gives a person: the pictures (none if refused) and what to say."""

    reply: Reply
    pictures: tuple[Picture, ...] = ()


def check_image(data: bytes) -> str | Invalid:
    """The content type of a picture Safeguard takes, or why not; only its header is read, nothing is drawn."""
    if len(data) > MAX_SCREENSHOT_BYTES:
        return Invalid(TOO_LARGE)
    from PIL import Image  # when a screenshot comes, not at start: the idle server need not hold Pillow (issue 24)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as picture:
                width, height = picture.size
                kind = picture.format
                if width * height > MAX_SCREENSHOT_PIXELS:
                    return Invalid(TOO_MANY_PIXELS)
                picture.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Invalid(TOO_MANY_PIXELS)
    except Exception:  # Pillow raises many kinds of error on bytes that are not a picture it reads
        return Invalid(NOT_AN_IMAGE)
    if kind not in FORMATS:
        return Invalid(NOT_AN_IMAGE)
    return FORMATS[kind]


async def take(app: App, *, channel: str, user_id: str, files: Sequence[Incoming]) -> list[Reply]:
    """Files someone sent: taken in at the screenshots step, refused (unread where it may be indecent) otherwise."""
    try:
        draft = await _draft(app, channel, user_id)
    except STORE_ERRORS:
        log.exception("could not load the draft of %s on %s", user_id, channel)
        return [messages.unavailable(app, user_id)]
    said: list[Reply] = []
    for incoming in files:
        verdict = image_arrives(draft)
        if verdict is ImageVerdict.NOT_NOW:
            return [*said, messages.NO_FILES]
        if verdict is not ImageVerdict.TAKE:
            # Never fetched: where it may be an indecent image of a child, not a byte is read (UKCIS).
            refused = refusal(verdict)
            assert refused is not None
            said.append(refused)
            break
        assert draft is not None
        outcome = await _take_one(app, channel, user_id, draft, incoming)
        if isinstance(outcome, Reply):
            said.append(outcome)
        else:
            draft = outcome
            said.append(received(draft.evidence))
    if draft is None:
        return said
    try:
        pupils = await roster(app)
    except STORE_ERRORS:
        log.exception("could not load the pupil roster for %s on %s", user_id, channel)
        return [*said, messages.unavailable(app, user_id)]
    return [*said, *resume(draft, colleagues=app.colleagues(user_id), pupils=pupils,
                                 anonymous_ok=app.relay is not None)]


async def _take_one(app: App, channel: str, user_id: str, draft: Draft, incoming: Incoming) -> Draft | Reply:
    """Fetch, check and store one file; the draft that counts it, or why it was not taken."""
    if incoming.declared_size is not None and incoming.declared_size > MAX_SCREENSHOT_BYTES:
        return error(TOO_LARGE)  # not fetched at all
    try:
        data = await incoming.fetch(MAX_SCREENSHOT_BYTES)
    except TooLarge:
        return error(TOO_LARGE)
    except FetchFailed as exc:
        log.warning("a file sent by %s on %s could not be fetched: %s", user_id, channel, exc)
        return error(NOT_FETCHED)
    kind = check_image(data)
    if isinstance(kind, Invalid):
        return error(kind.reason)
    try:
        turn = attached(draft, now=app.now(), pupils=await roster(app), anonymous_ok=app.relay is not None)
        async with app.sessions.begin() as session:
            await save_draft(session, now=turn.draft.updated_at, channel=channel, user_id=user_id,
                             state=turn.draft.to_dict())
            await add_draft_screenshot(session, channel=channel, user_id=user_id, position=turn.draft.evidence.count,
                                       content_type=kind, sha256=hashlib.sha256(data).hexdigest(), data=data)
    except STORE_ERRORS:
        log.exception("could not store a screenshot of %s on %s", user_id, channel)
        return error(NOT_STORED)
    return turn.draft


async def _draft(app: App, channel: str, user_id: str) -> Draft | None:
    """The person's draft as it stands; None without one (or one unreadable or expired: a message deals with those)."""
    async with app.sessions() as session:
        state = await load_draft(session, channel=channel, user_id=user_id)
    if state is None:
        return None
    try:
        draft = Draft.from_dict(state)
    except DraftError:
        return None
    return None if is_expired(draft, app.now()) else draft


async def show(app: App, person_id: str, reference_text: str) -> Shown:
    """A report's screenshots for someone who answers for it (bot.cases.access; logged, by count); everyone else is refused."""
    reference = lifecycle.parse_reference(reference_text)
    if isinstance(reference, Invalid):
        return Shown(error(reference.reason))
    try:
        async with app.sessions.begin() as session:
            report = await store.get_report(session, reference)
            recipients = [] if report is None else (await store.get_routing(session, report))[1]
            if report is not None and may(person_id, Action.SCREENSHOTS, report, recipients):
                shots = await report_screenshots(session, report)
                await append_event(session, now=app.now(), actor=person_id, kind=EventKind.EVIDENCE_SHOWN,
                                   report_ref=reference, data={"count": len(shots)})
                pictures = tuple(Picture(f"{reference}-screenshot-{shot.position}.{EXTENSIONS[shot.content_type]}",
                                         shot.content_type, shot.data) for shot in shots)
                return Shown(_shown_reply(reference, len(pictures)), pictures)
    except STORE_ERRORS:
        log.exception("screenshots of %s for %s could not be read", reference, person_id)
        return Shown(error("Safeguard cannot reach its database just now. Please try again in a minute."))
    return Shown((await lifecycle.refuse(app, person_id, Action.SCREENSHOTS, reference)).reply)


def _shown_reply(reference: str, count: int) -> Reply:
    if count == 0:
        return Reply(f"{reference} has no screenshots.", tone=Tone.DONE)
    noun = "screenshot" if count == 1 else f"{count} screenshots"
    return Reply(f"The {noun} sent with {reference}, for you only. Please do not forward, copy or save them "
                 "anywhere else.", tone=Tone.DONE)
