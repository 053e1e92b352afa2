"""Advice and warnings, given at the moment they help, each traced to the policy it comes from."""

from __future__ import annotations

from dialogs.prompts import Reply, Tone, advice
from dialogs.questions import Context
from dialogs.state import Answer
from routing.vocabulary import Category, Target

# Brief rule 3 (KCSIE 2024 Part one): a reporter is told at once to act on the school's
# emergency procedure when a child may be in immediate danger.
IMMEDIATE_DANGER = "If a child is in immediate danger, call 999 now, then follow your school's emergency procedure."

# St Leonard's §5 and §7: staff do not friend, follow or contact pupils or parents on
# personal accounts, and report an attempt; a screenshot keeps the evidence once blocked.
FRIEND_REQUEST = (
    "Do not accept the request or reply to it. Take a screenshot to keep as evidence. "
    "You can then block the account."
)

# St Leonard's §10: cyberbullying is dealt with quickly, and the evidence is what the school
# acts on. A nude image of a child is never copied, even as evidence (making or sharing one is
# an offence; the DSL decides what happens to it, St Leonard's §8). Staff have their own
# helpline (UK Safer Internet Centre); an immediate threat is for the police.
CYBERBULLYING = (
    "Do not reply or retaliate. Keep the evidence: take a screenshot, unless it is a nude or "
    "sexual image of a child: then do not screenshot, copy or forward it, and tell the DSL. "
    "Report the account and block it on the platform. If anyone is threatened with immediate "
    "harm, call 999."
)
STAFF_HELPLINE = (
    "For advice as a member of staff, the Professionals Online Safety Helpline "
    "(0344 381 4772, helpline@saferinternet.org.uk) can help, including with getting content taken down."
)

# St Leonard's §9: the online safety officer blocks the site, and attempts to get round
# the network's firewalls are themselves a breach.
SCHOOL_DEVICE = (
    "Leave the site for the online safety officer to block. "
    "Do not try to get round the school's filter to check it."
)

# St Leonard's §8: a disclosure is handled under the child protection policy, which means
# the child cannot be promised secrecy and their own words are the record.
DISCLOSURE = (
    "Do not promise the child confidentiality: you must pass on what they told you. "
    "Write their words as they said them, not in your own words."
)

# KCSIE 2024 Part four: whether a concern meets the harm threshold (an allegation) or is a
# low-level concern is decided by the headteacher (or the DSL), not by the reporter.
THRESHOLD_NOT_SURE = "That's fine: the DSL or headteacher will decide whether it meets the harm threshold."


# KCSIE 2024 Part four, section two: schools should make staff feel confident to self-refer, and
# a low-level concern is shared with whoever the school's policy names, with the name of the
# member of staff it is about. Said before the first question, so nobody starts one thinking it
# is anonymous or that it goes to a colleague.
SELF_REFERRAL = (
    "Thank you for telling the school: raising it yourself is what the school asks staff to do. "
    "It goes with your name (never anonymously) to whoever your school's policy names for a concern "
    "about a member of staff, usually the headteacher, and never to you."
)


def after_category(answer: Answer, ctx: Context) -> list[Reply]:
    """Before a self-referral's questions: who it goes to, and that it carries the reporter's name."""
    return [advice(SELF_REFERRAL)] if answer.value == Category.SELF_REFERRAL else []


def immediate_danger() -> Reply:
    """The 999 warning, given in the same turn as the answer that a child may be at risk."""
    return Reply(IMMEDIATE_DANGER, tone=Tone.WARNING)


def after_platform(answer: Answer, ctx: Context) -> list[Reply]:
    """Once a friend request's platform is known ('Other' is named next), what to do with it."""
    if ctx.category is not Category.FRIEND_REQUEST or answer.value == "other":
        return []
    return [advice(FRIEND_REQUEST)]


def after_platform_named(answer: Answer, ctx: Context) -> list[Reply]:
    """Once a friend request's 'Other' platform is named, what to do with it."""
    return [advice(FRIEND_REQUEST)] if ctx.category is Category.FRIEND_REQUEST else []


def after_target(answer: Answer, ctx: Context) -> list[Reply]:
    """Once it is known who is being bullied, what to do now (and, for staff, where to get help)."""
    if answer.value == Target.STAFF:
        return [advice(f"{CYBERBULLYING} {STAFF_HELPLINE}")]
    return [advice(CYBERBULLYING)]


def after_school_device(answer: Answer, ctx: Context) -> list[Reply]:
    """On a school device or network, leave blocking to the online safety officer."""
    return [advice(SCHOOL_DEVICE)] if answer.value == "yes" else []


def after_immediate_risk(answer: Answer, ctx: Context) -> list[Reply]:
    """A child may be at immediate risk: 999 first."""
    return [immediate_danger()] if answer.value == "yes" else []


def after_harm_threshold(answer: Answer, ctx: Context) -> list[Reply]:
    """Not sure is a fine answer: someone else decides."""
    return [advice(THRESHOLD_NOT_SURE)] if answer.value == "not_sure" else []


def disclosure_reminder() -> Reply:
    """Shown before the child's words are asked for."""
    return advice(DISCLOSURE)


# UKCIS, "Sharing nudes and semi-nudes: advice for education settings working with children and
# young people" (December 2020, updated March 2024): staff must not view, copy, print, share, store
# or save such imagery, nor delete it or ask a child to; the device is confiscated and kept secure
# (switched off) and the DSL told at once, and the DSL decides what happens next. A screenshot
# sent to Safeguard would be a copy, so none is ever taken where the image may be one.
INDECENT_IMAGE = (
    "Do not send it here. Do not view, copy, screenshot, forward, print or delete the image, and do not ask "
    "anyone else to. Tell the DSL now where the device is, and keep the device safe: switched off and "
    "locked away, until the DSL decides what happens next."
)
NOT_OPENED = "Safeguard has not opened or kept that file, because this report may be about an indecent image of a child."


def indecent_image() -> Reply:
    """Said the moment a reporter says the image may be an indecent image of a child."""
    return Reply(INDECENT_IMAGE, tone=Tone.WARNING)


def image_refused_unread() -> Reply:
    """Said when a file arrives in a draft that may be about an indecent image of a child: it was never fetched."""
    return Reply(f"{NOT_OPENED} {INDECENT_IMAGE}", tone=Tone.WARNING)


def after_self_generated_imagery(answer: Answer, ctx: Context) -> list[Reply]:
    """Imagery a pupil took of themselves may be indecent: what to do with it (and that it is not sent here)."""
    return [indecent_image()] if answer.value == "yes" else []
