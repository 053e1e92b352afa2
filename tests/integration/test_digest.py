"""The weekly digest: its figures against a known set of reports, its privacy, week bounds, and queuing once.

Everything runs with the example school and a clock moved by hand; reports are made, routed,
acknowledged, escalated, noted and closed through the real lifecycle. Each test runs on SQLite
and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cases import lifecycle
from bot.app import CONSOLE, App
from bot.digest.chart import chart_png
from bot.digest.weekly import (
    IsoWeek,
    due_week,
    duration,
    for_reader,
    last_complete_week,
    parse_week,
    queue_due_digest,
    queue_week,
    recipients,
    render,
    weekly_figures,
)
from bot.cases.escalation import escalate_due
from routing.engine import AROUND_THE_CLOCK
from routing.school import DigestTime
from routing.vocabulary import Category, Flag, Subject
from routing.yamlfields import InputError
from storage.db import create_engine, sessionmaker
from storage.digest_outbox import digests_for_week
from storage import weekly
from storage.log import verify
from storage.models import LogHead, NoteKind, Report
from storage.reports import create_report
from tests.builders import TEST_KEYS, Clock, person, school
from tests.integration import console
from tests.integration.console import SCHOOL

# The weeks below escalate overnight and at weekends: the example school with every clock
# running day and night (`clock: always`), so each figure is the one worked out by hand.
ALWAYS = replace(SCHOOL, clock=AROUND_THE_CLOCK)


def console_app(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> App:
    """The console application on the example school, its clocks running day and night."""
    return console.console_app(sessions, clock, school=ALWAYS)

LONDON = ZoneInfo("Europe/London")
W47 = IsoWeek(2026, 47)  # Monday 16 to Sunday 22 November 2026, GMT
MONDAY_AFTER = datetime(2026, 11, 23, 8, 1, tzinfo=UTC)  # the digest's moment has just passed
# Made-up words in every free-text field, so a leak of any of them shows.
SECRETS = ("Zebedee-Quartz", "Marmaduke-Fennel", "Quillon-Saffron")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def report(app: App, clock: Clock, at: datetime, category: Category, subject: Subject = Subject.PUPIL, *,
                 about: str | None = None, allegation: bool = False, flags: tuple[Flag, ...] = (),
                 routed: bool = True) -> str:
    """A report made by the class teacher at `at`, with a made-up secret in its words; its reference."""
    clock.at = at
    async with app.sessions.begin() as session:
        stored = await create_report(
            session, now=at, school=app.school.name, category=category, subject=subject, reporter="cfinch",
            details={"what": f"{SECRETS[0]} saw something at {at:%H:%M} (made up)"}, flags=flags,
            subject_person=about, allegation=allegation, channel=CONSOLE,
        )
        reference = stored.reference
    if routed:
        await lifecycle.route(app, reference)
    return reference


async def ack(app: App, clock: Clock, when: datetime, person_id: str, reference: str) -> None:
    clock.at = when
    assert (await lifecycle.acknowledge(app, person_id, reference)).changed


async def close(app: App, clock: Clock, when: datetime, person_id: str, reference: str) -> None:
    clock.at = when
    assert (await lifecycle.close(app, person_id, reference, "handled_in_school",
                                  f"{SECRETS[2]} talked it through (made up)")).changed


async def escalate(app: App, clock: Clock, when: datetime) -> list[str]:
    clock.at = when
    return [step.reference for step in await escalate_due(app)]


async def five_weeks(app: App, clock: Clock) -> dict[str, str]:
    """The known reports, made in time order; their references by letter.

    W42 C; W43 A, B (across the October clock change); W44 D; W45 E, M; W46 none;
    W47 F, G, H, K, I, L, J. See each test for what each one is for.
    """
    refs: dict[str, str] = {}
    # Sunday 18 October 23:30 BST: still week 42, though the week's report a moment later is not.
    refs["C"] = await report(app, clock, utc(2026, 10, 18, 22, 30), Category.PUPIL_DISCLOSURE)
    # Monday 19 October 00:30 BST is 23:30 UTC on the Sunday: week 43 at the school.
    refs["A"] = await report(app, clock, utc(2026, 10, 18, 23, 30), Category.MISUSE, Subject.PARENT)
    await ack(app, clock, utc(2026, 10, 19, 0, 10), "smorgan", refs["C"])
    await ack(app, clock, utc(2026, 10, 19, 0, 20), "jellis", refs["A"])
    await close(app, clock, utc(2026, 10, 19, 9, 0), "smorgan", refs["C"])
    await close(app, clock, utc(2026, 10, 19, 9, 5), "jellis", refs["A"])
    # Sunday 25 October 23:30 GMT (after the clock went back): still week 43.
    refs["B"] = await report(app, clock, utc(2026, 10, 25, 23, 30), Category.FRIEND_REQUEST, Subject.PARENT)
    await ack(app, clock, utc(2026, 10, 26, 8, 0), "jellis", refs["B"])
    await close(app, clock, utc(2026, 10, 26, 8, 5), "jellis", refs["B"])
    refs["D"] = await report(app, clock, utc(2026, 10, 28, 10, 0), Category.INAPPROPRIATE_CONTENT)
    await ack(app, clock, utc(2026, 10, 28, 10, 30), "tokafor", refs["D"])
    clock.at = utc(2026, 10, 28, 11, 0)
    assert (await lifecycle.add_note(app, "tokafor", refs["D"], f"{SECRETS[1]} blocked it (made up)",
                                     kind=NoteKind.ACTION)).changed
    await close(app, clock, utc(2026, 10, 28, 11, 5), "tokafor", refs["D"])
    # Monday 2 November 00:00 GMT: the first moment of week 45. Left open, acknowledged late.
    refs["E"] = await report(app, clock, utc(2026, 11, 2, 0, 0), Category.MISUSE, Subject.PARENT)
    # An allegation in week 45, its LADO consultation recorded late: counted in neither week 47 figure.
    refs["M"] = await report(app, clock, utc(2026, 11, 4, 10, 0), Category.COLLEAGUE_CONCERN, Subject.STAFF,
                             about="rpatel", allegation=True)
    await ack(app, clock, utc(2026, 11, 4, 10, 10), "jellis", refs["M"])
    clock.at = utc(2026, 11, 6, 10, 0)
    assert (await lifecycle.lado_consulted(app, "jellis", refs["M"])).changed
    await close(app, clock, utc(2026, 11, 6, 10, 5), "jellis", refs["M"])
    # An escalation in week 46: not this week's.
    assert await escalate(app, clock, utc(2026, 11, 10, 9, 0)) == [refs["E"]]
    await ack(app, clock, utc(2026, 11, 10, 9, 30), "jellis", refs["E"])

    # Week 47. F: acknowledged in 12 minutes.
    refs["F"] = await report(app, clock, utc(2026, 11, 16, 9, 0), Category.PUPIL_DISCLOSURE,
                             flags=(Flag.IMMEDIATE_RISK,))
    await ack(app, clock, utc(2026, 11, 16, 9, 12), "smorgan", refs["F"])
    # G: escalated once, acknowledged after 3 h 5 min (past its 60-minute deadline), closed.
    refs["G"] = await report(app, clock, utc(2026, 11, 17, 10, 0), Category.MISUSE, Subject.PARENT)
    assert await escalate(app, clock, utc(2026, 11, 17, 11, 1)) == [refs["G"]]
    await ack(app, clock, utc(2026, 11, 17, 13, 5), "jellis", refs["G"])
    await close(app, clock, utc(2026, 11, 17, 14, 0), "jellis", refs["G"])
    # H: an allegation acknowledged in 30 minutes, the LADO consulted within its working day.
    refs["H"] = await report(app, clock, utc(2026, 11, 18, 14, 0), Category.COLLEAGUE_CONCERN, Subject.STAFF,
                             about="rpatel", allegation=True)
    await ack(app, clock, utc(2026, 11, 18, 14, 30), "jellis", refs["H"])
    clock.at = utc(2026, 11, 19, 11, 0)
    assert (await lifecycle.lado_consulted(app, "jellis", refs["H"])).changed
    # K: an allegation acknowledged in 20 minutes whose LADO consultation (due Friday 09:00) never came.
    refs["K"] = await report(app, clock, utc(2026, 11, 19, 9, 0), Category.COLLEAGUE_CONCERN, Subject.STAFF,
                             about="tokafor", allegation=True)
    await ack(app, clock, utc(2026, 11, 19, 9, 20), "jellis", refs["K"])
    # I: never acknowledged: up the ladder three times, then a reminder round.
    refs["I"] = await report(app, clock, utc(2026, 11, 19, 16, 0), Category.INAPPROPRIATE_CONTENT)
    for when in (utc(2026, 11, 19, 18, 1), utc(2026, 11, 19, 20, 2), utc(2026, 11, 19, 22, 3),
                 utc(2026, 11, 20, 0, 4)):
        assert await escalate(app, clock, when) == [refs["I"]]
    # L: about the governor lead; never acknowledged. J: stored, never routed.
    refs["L"] = await report(app, clock, utc(2026, 11, 21, 12, 0), Category.COLLEAGUE_CONCERN, Subject.GOVERNOR,
                             about="dwilde")
    refs["J"] = await report(app, clock, utc(2026, 11, 22, 23, 59), Category.FRIEND_REQUEST, Subject.PARENT,
                             routed=False)
    # Monday 23 November 00:00: the week is over, so these steps are the next week's.
    assert await escalate(app, clock, utc(2026, 11, 23, 0, 0)) == [refs["I"], refs["L"]]
    clock.at = MONDAY_AFTER
    return refs


async def test_every_figure_of_a_known_week(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = console_app(sessions, clock)
    refs = await five_weeks(app, clock)
    figures = await weekly_figures(app, W47)

    assert figures.weeks == ["2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert (figures.first_day, figures.last_day) == ("2026-11-16", "2026-11-22")
    assert figures.totals == [2, 1, 2, 0, 7]
    assert figures.by_category == {
        "misuse": [1, 0, 1, 0, 1],  # A, E, G (C, in week 42, is in none)
        "friend_request": [1, 0, 0, 0, 1],  # B, J
        "inappropriate_content": [0, 1, 0, 0, 1],  # D, I
        "colleague_concern": [0, 0, 1, 0, 3],  # M; H, K, L
        "pupil_disclosure": [0, 0, 0, 0, 1],  # F
    }
    assert figures.by_owner == {
        "headteacher": [2, 0, 2, 0, 4],
        "online_safety_officer": [0, 1, 0, 0, 1],
        "dsl": [0, 0, 0, 0, 1],
        "not_routed": [0, 0, 0, 0, 1],
    }
    # F 12 min, K 20 min, H 30 min, G 3 h 5 min: the median is between K and H.
    assert (figures.acknowledged, figures.acknowledged_late) == (4, 1)
    assert (figures.ack_median_seconds, figures.ack_longest_seconds) == (25 * 60, (3 * 60 + 5) * 60)
    assert (figures.escalations, figures.escalated_reports, figures.reminders) == (4, 2, 1)
    assert (figures.open_total, figures.overdue_total) == (7, 2)
    assert figures.open_references == [refs[x] for x in ("I", "L", "E", "F", "H", "K", "J")]
    assert figures.overdue_references == [refs["I"], refs["L"]]
    assert (figures.lado_allegations, figures.lado_consulted_in_time, figures.lado_overdue) == (2, 1, 1)
    async with sessions() as session:
        head = (await session.execute(select(LogHead.seq, LogHead.hash))).one()
    assert (figures.log_seq, figures.log_hash) == tuple(head)
    assert json.loads(json.dumps(figures.as_json())) == figures.as_json()

    text = render(app, figures)
    assert "Week 2026-W47, Mon 16 Nov to Sun 22 Nov 2026" in text
    assert "Reports: 7 (previous weeks 0, 2, 1, 2)" in text
    assert "- A concern about a member of staff's online behaviour: 3 (0, 1, 0, 0)" in text
    assert "- Headteacher: 4 (0, 2, 0, 2)" in text
    assert "- Not routed yet: 1 (0, 0, 0, 0)" in text
    assert "Time to acknowledge: median 25 min, longest 3 h 5 min\n(4 of 7 acknowledged, 1 after the deadline)" in text
    assert "Escalations: 4 on 2 reports; reminder rounds after the ladder: 1" in text
    assert (f"Still open: 7, 2 overdue\n{refs['I']} (overdue), {refs['L']} (overdue), {refs['E']}\n"
            f"{refs['F']}, {refs['H']}, {refs['K']}\n{refs['J']}\n") in text
    assert "LADO: 2 allegations this week, 1 consulted within a working day\nLADO consultations overdue: 1" in text
    assert f"Log check: event {head.seq} has hash\n{head.hash}\n" in text
    assert max(len(line) for line in text.splitlines()) <= 100, "short lines, for a phone"


async def test_one_week_is_counted_on_its_own(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    """The trust digest asks for one week alone; its counts are the last column of the five."""
    app = console_app(sessions, clock)
    await five_weeks(app, clock)
    async with sessions() as session:
        one = await weekly.counts_by_week(session, edges=list(W47.bounds(app.zone)), school=app.school.id)
    assert one.by_category == {"misuse": [1], "friend_request": [1], "inappropriate_content": [1],
                               "colleague_concern": [3], "pupil_disclosure": [1]}
    assert sum(row[0] for row in one.by_owner.values()) == 7


async def test_the_governor_lead_is_not_told_of_open_reports_about_them(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    refs = await five_weeks(app, clock)
    everyone = await weekly_figures(app, W47)
    theirs = await for_reader(app, everyone, "dwilde")
    assert (theirs.open_total, theirs.overdue_total) == (6, 1)
    assert refs["L"] not in theirs.open_references and refs["L"] in everyone.open_references
    assert theirs.totals == everyone.totals, "counts stay whole: they name nobody"
    assert (await weekly_figures(app, W47, reader="dwilde")) == theirs


async def test_a_digest_holds_no_name_id_or_free_text(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = console_app(sessions, clock)
    await five_weeks(app, clock)
    assert await queue_due_digest(app) == ["dwilde"]
    async with sessions() as session:
        queued = await digests_for_week(session, school=app.school.name, week=W47.label)
        details = list(await session.scalars(select(Report.details)))
    assert len(queued) == 1 and queued[0].chart is not None and queued[0].chart.startswith(b"\x89PNG")
    forbidden = [*SECRETS, "cfinch"]
    forbidden += [p.name for p in SCHOOL.people] + [p.id for p in SCHOOL.people]
    forbidden += [p.name.split()[-1] for p in SCHOOL.people]  # surnames alone
    assert any(SECRETS[0] in str(d) for d in details), "the secret is there to leak"
    for text in (queued[0].text, render(app, await weekly_figures(app, W47))):
        assert "Week 2026-W47" in text
        leaked = [word for word in forbidden if word.lower() in text.lower()]
        assert leaked == []


async def test_weeks_begin_at_monday_midnight_at_the_school_either_side_of_the_clock_change() -> None:
    assert parse_week("2026-W43").bounds(LONDON) == (utc(2026, 10, 18, 23, 0), utc(2026, 10, 26, 0, 0))
    assert parse_week("2026-w44").bounds(LONDON) == (utc(2026, 10, 26, 0, 0), utc(2026, 11, 2, 0, 0))
    assert parse_week("2026-W14").bounds(LONDON)[0] == utc(2026, 3, 29, 23, 0)  # summer time began that Sunday
    assert parse_week("2026-W53").label == "2026-W53" and parse_week("2027-W01").monday.isoformat() == "2027-01-04"
    # Monday 00:30 BST is still Sunday in UTC, and already the new week at the school.
    assert last_complete_week(utc(2026, 10, 18, 23, 30), LONDON) == IsoWeek(2026, 42)
    assert last_complete_week(utc(2026, 10, 18, 22, 30), LONDON) == IsoWeek(2026, 41)
    assert last_complete_week(utc(2027, 1, 4, 0, 0), LONDON) == IsoWeek(2026, 53)


@pytest.mark.parametrize(("text", "message"), [
    ("2026-W54", "'2026-W54': 2026 has no week 54; its weeks are W01 to W53"),
    ("2027-W53", "'2027-W53': 2027 has no week 53; its weeks are W01 to W52"),
    ("2026-W00", "'2026-W00': 2026 has no week 0; its weeks are W01 to W53"),
    ("last week", "'last week' is not an ISO week; write it as YYYY-Www, e.g. 2026-W47"),
    ("2026-47", "'2026-47' is not an ISO week; write it as YYYY-Www, e.g. 2026-W47"),
])
def test_a_bad_week_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_week(text)
    assert str(raised.value) == message


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (30, 60, 12 * 60 + 59, 3600, 3 * 3600 + 5 * 60, 26 * 3600, 48 * 3600)] == [
        "under 1 min", "1 min", "12 min", "1 h", "3 h 5 min", "1 d 2 h", "2 d"]


def test_the_digest_goes_to_the_governor_lead_else_the_chair() -> None:
    assert [p.id for p in recipients(SCHOOL)] == ["dwilde"]
    chair_only = school("st-leonards", person("head", "headteacher"), person("chair1", "chair_of_governors"),
                        person("chair2", "chair_of_governors"))
    assert [p.id for p in recipients(chair_only)] == ["chair1", "chair2"]
    assert recipients(school("st-leonards", person("head", "headteacher"))) == ()


async def test_the_due_week_follows_the_configured_day_and_time(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    clock.at = utc(2026, 11, 23, 7, 59)
    assert due_week(app) == IsoWeek(2026, 46)
    clock.at = utc(2026, 11, 23, 8, 0)
    assert due_week(app) == W47
    # Wednesdays at 07:00 in summer time: 06:00 UTC.
    app.school = replace(SCHOOL, digest=DigestTime(day=2, at=time(7, 0)))
    clock.at = utc(2026, 7, 1, 5, 59)
    assert due_week(app) == IsoWeek(2026, 25)
    clock.at = utc(2026, 7, 1, 6, 0)
    assert due_week(app) == IsoWeek(2026, 26)


async def test_the_due_digest_is_queued_at_its_moment_and_once(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    # A fresh install's first report, on Wednesday of week 46.
    await report(app, clock, utc(2026, 11, 11, 10, 0), Category.FRIEND_REQUEST, Subject.PARENT)
    clock.at = utc(2026, 11, 16, 7, 59)
    assert await queue_due_digest(app) == [], "week 45 was over before Safeguard held anything"
    clock.at = utc(2026, 11, 16, 8, 1)
    assert await queue_due_digest(app) == ["dwilde"]
    assert await queue_due_digest(app) == []
    clock.at = utc(2026, 11, 23, 7, 59)
    assert await queue_due_digest(app) == [], "week 46's is queued; week 47's is not due"
    clock.at = utc(2026, 11, 23, 8, 1)
    assert await queue_due_digest(app) == ["dwilde"]
    assert await queue_due_digest(app) == []
    async with sessions() as session:
        w46 = await digests_for_week(session, school=app.school.name, week="2026-W46")
        w47 = await digests_for_week(session, school=app.school.name, week="2026-W47")
        assert (await verify(session)).ok
    assert [(d.person_id, d.channel, d.status) for d in w46 + w47] == [("dwilde", CONSOLE, "queued")] * 2
    assert "Reports: 1 (previous weeks 0, 0, 0, 0)" in w46[0].text
    assert "Reports: 0 (previous weeks 1, 0, 0, 0)" in w47[0].text
    again = await queue_week(app, W47)
    assert [(q.person_id, q.role, q.channel, q.new, q.queued_at) for q in again] == [
        ("dwilde", "governor_lead", CONSOLE, False, utc(2026, 11, 23, 8, 1))]


async def test_two_servers_queue_the_digest_once(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    first = console_app(sessions, clock)
    await report(first, clock, utc(2026, 11, 18, 10, 0), Category.MISUSE)
    other_engine = create_engine(database_url, keys=TEST_KEYS)
    try:
        second = console_app(sessionmaker(other_engine), clock)
        clock.at = MONDAY_AFTER
        results = await asyncio.gather(*(queue_due_digest(app) for app in (first, second, first, second)))
    finally:
        await other_engine.dispose()
    assert sorted(person for queued in results for person in queued) == ["dwilde"]
    async with sessions() as session:
        assert len(await digests_for_week(session, school=first.school.name, week=W47.label)) == 1
        assert (await verify(session)).ok


async def test_the_chart_is_a_png(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = console_app(sessions, clock)
    await report(app, clock, utc(2026, 11, 18, 10, 0), Category.MISUSE)
    clock.at = MONDAY_AFTER
    png = chart_png(await weekly_figures(app, W47))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"Software" not in png
    empty = chart_png(await weekly_figures(app, IsoWeek(2026, 30)))
    assert empty.startswith(b"\x89PNG"), "a week with no reports still draws"


async def test_an_old_allegation_never_consulted_is_overdue_in_every_later_digest(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    reference = await report(app, clock, utc(2026, 9, 1, 10, 0), Category.COLLEAGUE_CONCERN, Subject.STAFF,
                             about="rpatel", allegation=True)
    await ack(app, clock, utc(2026, 9, 1, 10, 5), "jellis", reference)
    clock.at = MONDAY_AFTER
    figures = await weekly_figures(app, W47)
    assert (figures.lado_allegations, figures.lado_overdue, figures.totals) == (0, 1, [0, 0, 0, 0, 0])
    assert (figures.open_total, figures.overdue_total, figures.open_references) == (1, 0, [reference])


async def test_cyberbullying_is_counted_under_its_own_category(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = console.Terminal(app, "cfinch")
    await teacher.open()
    for line in ["Cyberbullying", "A member of staff", "A parent or carer", "I don't know", "Facebook",
                 "A parent posted abuse about a teacher (made-up)", "No", "No", "No screenshots"]:
        await teacher.type(line)
    assert (await teacher.type("Send"))[0].startswith("Thank you. Your report")
    figures = await weekly_figures(app, W47)
    assert figures.by_category == {"cyberbullying": [0, 0, 0, 0, 1]}
    assert "- Cyberbullying of a pupil, a member of staff or the school: 1 (0, 0, 0, 0)" in render(app, figures)
