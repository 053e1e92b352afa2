"""Who may see or act on a report, as a matrix: every party against every action, on real reports.

Each scenario is a report made and routed through the real lifecycle (`lifecycle.submit`, as
every channel sends one) on the example school, plus a second class teacher to be a report's
subject and a third who has nothing to do with anything. Each party then tries every action
the way the channels and `safeguard log export` do: a refusal must answer "You can't ...",
change nothing and log a `refused` event; an allowed action must log its own event. The table
below is written out by hand from the rule (only those a report was routed or escalated to see
it; being told lets a person view it and add a note; its owner, each rung reached and the DSL
acknowledge and close it; nobody sees a report about themselves; the reporter follows its
progress) and bot/cases/access.py's docstring, not computed from `may`, so that a change to the rule
shows here as a failing cell.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases import case_list, follow_up, lifecycle
from bot.cases.access import Action, is_about, may, may_export_log, may_export_report
from bot.app import CONSOLE, App
from bot.cases.escalation import escalate_due
from bot.cases.log_export import ExportRefused, export_log
from bot.examples import EXAMPLE_TRUST
from dialogs import ReportDraft, Tone
from routing.vocabulary import Category, Flag, Subject
from routing.trust import load_deployment
from routing.yamlfields import InputError
from storage.chains import chain_of
from storage.db import create_engine, sessionmaker
from storage.log import entries, head_seq, verify
from storage.models import Event, NoteKind, Recipient, RecipientKind, Report
from tests.builders import TEST_KEYS, Clock, person, submitted
from tests.integration.console import SCHOOL

HEAD, DSL, DEPUTY, OFFICER, CHAIR, GOVERNOR = "jellis", "smorgan", "rpatel", "tokafor", "hbrooks", "dwilde"
TEACHER, COLLEAGUE, STRANGER = "cfinch", "bnolan", "akhan"  # the reporter; a report's subject; unrelated
ROLE_HOLDERS = (HEAD, DSL, DEPUTY, OFFICER, CHAIR, GOVERNOR)
ACTIONS = (Action.VIEW, Action.PROGRESS, Action.NOTE, Action.RECORD_ACTION, Action.EXPORT, Action.ASK,
           Action.ACKNOWLEDGE, Action.CLOSE)
TOLD = frozenset({Action.VIEW, Action.PROGRESS, Action.NOTE, Action.EXPORT})  # told of it: read it, add to it
ANSWERS = TOLD | {Action.ACKNOWLEDGE, Action.CLOSE, Action.ASK}  # the DSL, when it reached her
CARRIES = ANSWERS | {Action.RECORD_ACTION}  # its owner, or a rung it escalated to
OFFICER_TOLD = TOLD | {Action.RECORD_ACTION}  # appendix B: the online safety officer records the action taken
FOLLOWS = frozenset({Action.PROGRESS})  # its reporter: how it is getting on, nothing of what was done
NOTHING: frozenset[Action] = frozenset()
LOGGED = {
    Action.VIEW: "viewed", Action.PROGRESS: "viewed", Action.NOTE: "note_added", Action.RECORD_ACTION: "action_recorded",
    Action.EXPORT: "exported", Action.ACKNOWLEDGE: "acknowledged", Action.CLOSE: "closed", Action.ASK: "reporter_asked",
}


@dataclass(frozen=True)
class Scenario:
    """A report as a channel sends it, who sent it, how far it escalated, and who may do what to it."""

    draft: ReportDraft
    reporter: str
    allowed: dict[str, frozenset[Action]]  # anyone not named may do nothing
    escalations: int = 0  # rungs of the ladder reached before the parties try


def disclosure(**changes: object) -> ReportDraft:
    draft = ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, details={"what": "A made-up disclosure"})
    return dataclasses.replace(draft, **changes)  # type: ignore[arg-type]


def concern_about(person_id: str) -> ReportDraft:
    # The dialog names a colleague as staff; submit reads their roles, as every channel does.
    return ReportDraft(Category.COLLEAGUE_CONCERN, Subject.STAFF, subject_person=person_id,
                       details={"what": "A made-up post on a personal account"})


def self_referral() -> ReportDraft:
    # The dialog does not know who reports; submit names the reporter as its subject, as every channel does.
    return ReportDraft(Category.SELF_REFERRAL, Subject.STAFF, details={"What happened": "A made-up reply to a pupil"})


SCENARIOS = {
    # Example school (St Leonard's): the DSL owns it; the ladder is the deputy DSL, then the headteacher.
    "disclosure-owned-by-the-dsl": Scenario(disclosure(), TEACHER, {DSL: CARRIES, TEACHER: FOLLOWS}),
    # 31 minutes on, nobody has acknowledged: the deputy's rung is reached, the headteacher's is not.
    "escalated-one-rung": Scenario(disclosure(), TEACHER, {DSL: CARRIES, DEPUTY: CARRIES, TEACHER: FOLLOWS},
                                   escalations=1),
    # The reporter is the DSL, who is also its owner: a reporter who is a recipient may act.
    "reported-by-its-owner": Scenario(disclosure(), DSL, {DSL: CARRIES}),
    # §8 "illegal activity": the headteacher is told, to contact the police; told, he may not
    # acknowledge for the DSL (that would stop her clock) nor close her case.
    "disclosure-with-the-headteacher-told": Scenario(
        disclosure(flags=frozenset({Flag.ILLEGAL})), TEACHER, {DSL: CARRIES, HEAD: TOLD, TEACHER: FOLLOWS}),
    # §9: on a school device, the online safety officer is told so the site is blocked, and records that.
    "disclosure-with-the-officer-told": Scenario(
        disclosure(flags=frozenset({Flag.SCHOOL_DEVICE})), TEACHER,
        {DSL: CARRIES, OFFICER: OFFICER_TOLD, TEACHER: FOLLOWS}),
    # §5, §7: the headteacher owns a pupil's friend request and the DSL is told; the DSL may close it too.
    "friend-request-with-the-dsl-told": Scenario(
        ReportDraft(Category.FRIEND_REQUEST, Subject.PUPIL, details={"what": "A made-up request"}), TEACHER,
        {HEAD: CARRIES, DSL: ANSWERS, TEACHER: FOLLOWS}),
    # §8: about a colleague, to the headteacher. The DSL, a rung not reached, may do nothing, export included.
    "concern-about-a-colleague": Scenario(concern_about(COLLEAGUE), TEACHER, {HEAD: CARRIES, TEACHER: FOLLOWS}),
    # §8: about the headteacher, to the chair of governors; never to the headteacher, nor to the DSL.
    "concern-about-the-headteacher": Scenario(concern_about(HEAD), TEACHER, {CHAIR: CARRIES, TEACHER: FOLLOWS}),
    # About the DSL: the DSL's oversight of the log does not reach a report about her (checked by person).
    "concern-about-the-dsl": Scenario(concern_about(DSL), TEACHER, {HEAD: CARRIES, TEACHER: FOLLOWS}),
    # Something about myself (KCSIE Part four, section two): about its reporter, to the headteacher. Whoever
    # self-refers follows its progress as any reporter does, and never sees the notes or the decision.
    "self-referral-by-a-teacher": Scenario(self_referral(), TEACHER, {HEAD: CARRIES, TEACHER: FOLLOWS}),
    # By the DSL: the headteacher's; the DSL's oversight does not reach it, her progress does.
    "self-referral-by-the-dsl": Scenario(self_referral(), DSL, {HEAD: CARRIES, DSL: FOLLOWS}),
    # By the headteacher: the chair of governors', never the headteacher's to handle.
    "self-referral-by-the-headteacher": Scenario(self_referral(), HEAD, {CHAIR: CARRIES, HEAD: FOLLOWS}),
    # A concern naming its own reporter is not a self-referral: its subject still gets nothing.
    "concern-naming-its-own-reporter": Scenario(concern_about(TEACHER), TEACHER, {HEAD: CARRIES}),
}


def parties(scenario: Scenario) -> list[str]:
    """Every role holder, the reporter, the subject (whoever they are) and an unrelated colleague."""
    return list(dict.fromkeys([*ROLE_HOLDERS, scenario.reporter, TEACHER,
                               scenario.draft.subject_person or COLLEAGUE, STRANGER]))


@pytest.fixture
def app(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> App:
    """The example school at the console, with two more class teachers (Test Person bnolan, akhan)."""
    school = dataclasses.replace(SCHOOL, people=(*SCHOOL.people, person(COLLEAGUE), person(STRANGER)))
    return App(school, sessions, channels=(CONSOLE,), clock=clock)


async def report(app: App, clock: Clock, scenario: Scenario) -> str:
    """A new report for `scenario`, sent and escalated as far as it says; its reference."""
    reference = await submitted(app, scenario.draft, reporter=scenario.reporter, channel=CONSOLE)
    for _ in range(scenario.escalations):
        clock.advance(minutes=31)  # a disclosure's deadline, and each rung's, is 30 minutes
        assert reference in [step.reference for step in await escalate_due(app)]
    return reference


async def attempt(app: App, person_id: str, action: Action, reference: str) -> bool:
    """Try `action` as the channels (or `safeguard log export`) do; whether it was allowed.

    VIEW and PROGRESS are both `/view`: the first is allowed when it shows the whole report,
    the second when it shows anything. Progress alone never shows what the report says.
    """
    doing: dict[Action, Callable[[], Awaitable[lifecycle.Result]]] = {
        Action.VIEW: lambda: lifecycle.view(app, person_id, reference),
        Action.PROGRESS: lambda: lifecycle.view(app, person_id, reference),
        Action.NOTE: lambda: lifecycle.add_note(app, person_id, reference, "A made-up note"),
        Action.RECORD_ACTION: lambda: lifecycle.add_note(app, person_id, reference, "Made-up action",
                                                         kind=NoteKind.ACTION),
        Action.ACKNOWLEDGE: lambda: lifecycle.acknowledge(app, person_id, reference),
        Action.CLOSE: lambda: lifecycle.close(app, person_id, reference, "handled_in_school", "A made-up reason"),
        Action.ASK: lambda: follow_up.ask(app, person_id, reference, "A made-up question"),
    }
    if action is Action.EXPORT:
        return await _export(app, person_id, reference)
    result = await doing[action]()
    verb = lifecycle.VERBS[Action.VIEW if action is Action.PROGRESS else action]
    refused = result.reply.text.startswith(f"You can't {verb} {reference}: it was not sent")
    assert refused == (result.reply.tone is Tone.ERROR and not result.changed), result.reply.text
    if action in (Action.VIEW, Action.PROGRESS) and not refused:
        whole = result.reply.text.startswith(f"Report {reference}:")
        if not whole:
            assert result.reply.text.startswith(f"Your report {reference}: ")
            assert "made-up" not in result.reply.text.lower(), "progress never shows what was written"
        return whole or action is Action.PROGRESS
    return not refused


def refusal_logged(party: str, action: Action, reference: str, scenario: Scenario) -> tuple[str, str, str, object]:
    """What the log says of a refused attempt: a `/view` that shows its reporter progress is a viewing."""
    if action is Action.VIEW and Action.PROGRESS in scenario.allowed.get(party, NOTHING):
        return ("viewed", party, reference, {"scope": "progress"})
    return ("refused", party, reference, {"action": (Action.VIEW if action is Action.PROGRESS else action).value})


async def logged_since(app: App, seq: int, chain: str = "") -> list[tuple[str, str, str | None, object]]:
    """(kind, actor, report, data) of each event after `seq` in a chain of the log (a school's, in a trust)."""
    async with app.sessions() as session:
        return [(e.kind, e.actor, e.report, e.data)
                async for e in entries(session, Event.chain == chain, Event.seq > seq)]


async def last_seq(app: App, chain: str = "") -> int:
    async with app.sessions() as session:
        return await head_seq(session, chain)


async def _export(app: App, person_id: str, reference: str) -> bool:
    lines: list[str] = []
    who = app.person(person_id)
    assert who is not None
    try:
        count = await export_log(app.sessions, app.school, person=who, fmt="jsonl", report_ref=reference,
                                 since=None, now=app.now(), write=lines.append)
    except ExportRefused as refused:
        assert str(refused).startswith(f"--as {person_id}: their authority does not cover {reference}")
        assert lines == []
        return False
    assert count == len(lines) > 0 and all(f'"report": "{reference}"' in line for line in lines)
    return True


@pytest.mark.parametrize("name", SCENARIOS)
async def test_every_party_against_every_action(app: App, clock: Clock, name: str) -> None:
    scenario = SCENARIOS[name]
    # Refusals first, on one report: each answered as a refusal and logged as one, in turn.
    reference = await report(app, clock, scenario)
    before = await last_seq(app)
    refusals = [(party, action) for party in parties(scenario) for action in ACTIONS
                if action not in scenario.allowed.get(party, NOTHING)]
    allowed = [f"{party} {action}" for party, action in refusals if await attempt(app, party, action, reference)]
    assert allowed == [], "refused by the table"
    assert await logged_since(app, before) == [
        refusal_logged(party, action, reference, scenario) for party, action in refusals]
    # Then each party allowed anything, on a report of their own, in an order that leaves closing last.
    for party, actions in scenario.allowed.items():
        reference = await report(app, clock, scenario)
        before = await last_seq(app)
        done = [action for action in ACTIONS if action in actions]
        refused = [f"{party} {action}" for action in done if not await attempt(app, party, action, reference)]
        assert refused == [], "allowed by the table"
        assert [kind for kind, actor, _, _ in await logged_since(app, before) if actor == party] == [
            LOGGED[action] for action in done]
    async with app.sessions() as session:
        assert (await verify(session)).ok, "refused and exported events keep the chain whole"


async def test_the_whole_log_is_exported_only_for_the_dsl_and_never_with_a_report_about_them(
    app: App, clock: Clock
) -> None:
    mine = await report(app, clock, SCENARIOS["disclosure-owned-by-the-dsl"])
    about_dsl = await report(app, clock, SCENARIOS["concern-about-the-dsl"])
    about_head = await report(app, clock, SCENARIOS["concern-about-the-headteacher"])
    for party in [*ROLE_HOLDERS, TEACHER, COLLEAGUE, STRANGER]:
        who = app.person(party)
        assert who is not None
        before = await last_seq(app)
        lines: list[str] = []
        expected: list[tuple[str, str, str | None, object]]
        try:
            await export_log(app.sessions, app.school, person=who, fmt="csv", report_ref=None, since=None,
                             now=app.now(), write=lines.append)
        except ExportRefused as refused:
            assert party != DSL, str(refused)
            assert str(refused).startswith(f"--as {party}: only the Designated safeguarding lead (DSL) may export")
            assert lines == []
            expected = [("refused", party, None, {"action": "export"})]
        else:
            assert party == DSL
            exported = "".join(lines)
            # An export never shows a report its reader may not view: not even the DSL's whole log.
            assert mine in exported and about_head not in exported and about_dsl not in exported
            expected = [("exported", party, None, {"scope": "all", "format": "csv", "count": len(lines) - 1,
                                                   "through": before})]
        assert await logged_since(app, before) == expected, party
    async with app.sessions() as session:
        assert (await verify(session)).ok


async def test_a_refusal_is_answered_even_when_it_cannot_be_logged(
    app: App, clock: Clock, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a write lock held by another process is shown with SQLite's file lock")
    reference = await report(app, clock, SCENARIOS["disclosure-owned-by-the-dsl"])
    # A short wait for the lock, so the test does not sit out SQLite's usual 30 seconds.
    impatient = create_engine(database_url, busy_timeout=0.2, keys=TEST_KEYS)
    locked = dataclasses.replace(app, sessions=sessionmaker(impatient))
    path = make_url(database_url).database
    assert path is not None
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock: reads work, the log cannot grow
    try:
        result = await lifecycle.view(locked, STRANGER, reference)
        assert result.reply.text.startswith(f"You can't see {reference}: it was not sent to you.")
        stranger, dsl = locked.person(STRANGER), locked.person(DSL)
        assert stranger is not None and dsl is not None
        with pytest.raises(ExportRefused, match="only the Designated safeguarding lead"):
            await export_log(locked.sessions, locked.school, person=stranger, fmt="csv", report_ref=None,
                             since=None, now=locked.now(), write=print)
        # An export that cannot be recorded is not made.
        lines: list[str] = []
        with pytest.raises(InputError, match=r"^the export could not be recorded in the log \(database is locked\)"):
            await export_log(locked.sessions, locked.school, person=dsl, fmt="csv", report_ref=None,
                             since=None, now=locked.now(), write=lines.append)
        assert lines == []
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await impatient.dispose()
    async with app.sessions() as session:
        assert [e.kind async for e in entries(session)] == ["created", "routed"], "nothing was logged meanwhile"


def _report(subject: str = "pupil", subject_person: str | None = None) -> Report:
    return Report(reference="SG-2026-0001", subject=subject, subject_person=subject_person)


def test_the_subject_may_do_nothing_even_if_a_stale_config_routed_it_to_them() -> None:
    # Routing never names the subject (rule 1); `may` holds even if rows from an old config did.
    routed = [Recipient(person_id=DSL, role="dsl", kind=RecipientKind.OWNER.value)]
    about = _report("dsl", DSL)
    assert not any(may(DSL, action, about, routed) for action in Action)
    assert not may_export_report(SCHOOL.person(DSL), about, routed)  # type: ignore[arg-type]
    # Answering and adding are the reporter's (bot.cases.reporter decides who that is), not a recipient's.
    assert all(may(DSL, action, _report(), routed) for action in Action if action not in (Action.ANSWER, Action.ADD))


def test_a_report_about_a_role_is_about_whoever_holds_it() -> None:
    head, dsl = SCHOOL.person(HEAD), SCHOOL.person(DSL)
    assert head is not None and dsl is not None
    assert is_about(head, _report("headteacher")) and not is_about(dsl, _report("headteacher"))
    # Mersham: the headteacher is the DSL, so a report about "the DSL" is about them.
    both = dataclasses.replace(head, roles=("headteacher", "dsl"))
    assert is_about(both, _report("dsl")) and not may_export_report(both, _report("dsl"), [])
    assert may_export_log(both) and not may_export_log(head)
    # A report naming its subject is about that person only, whatever roles others hold.
    assert not is_about(head, _report("headteacher", DSL))


# A trust of three schools in one deployment (bot/examples/trust.yaml). Bellevue Place (bpa, BPET's
# policy): obrien DSL, nkaur headteacher, gmarsh a teacher; Oakfield (oak, St Leonard's): smorgan
# DSL, jellis headteacher, cfinch a teacher; Hollins Cross (hol, Mersham): ebarker head and DSL.
# The trust's own people: arowe (Chief Executive), mhale (trust safeguarding lead), kdaly (chair of
# the trust board). pshah is deputy DSL at both bpa and oak.
TRUST = load_deployment(EXAMPLE_TRUST)
OTHER_SCHOOLS = {"bpa": ("smorgan", "jellis", "ebarker", "zahmed"), "oak": ("obrien", "nkaur", "ebarker", "zahmed")}
TRUST_PEOPLE = ("arowe", "mhale", "kdaly")


@dataclass(frozen=True)
class TrustScenario:
    """A report at one school of the trust, and who may do what to it; everyone else listed may do nothing."""

    school: str
    draft: ReportDraft
    reporter: str
    allowed: dict[str, frozenset[Action]]
    outsiders: tuple[str, ...]


TRUST_SCENARIOS = {
    # Role holders at the trust's other schools, and the trust's own people it was not routed to.
    "bpa-disclosure": TrustScenario("bpa", disclosure(), "gmarsh", {"obrien": CARRIES, "gmarsh": FOLLOWS},
                                    (*OTHER_SCHOOLS["bpa"], *TRUST_PEOPLE, "pshah")),
    "oak-disclosure": TrustScenario("oak", disclosure(), "cfinch", {"smorgan": CARRIES, "cfinch": FOLLOWS},
                                    (*OTHER_SCHOOLS["oak"], *TRUST_PEOPLE, "pshah")),
    # BPET §11: about the headteacher, to the Chief Executive alone: the safeguarding lead and the
    # chair of the trust board were not routed it, nor was the headteacher it is about.
    "bpa-concern-about-the-headteacher": TrustScenario(
        "bpa", concern_about("nkaur"), "gmarsh", {"arowe": CARRIES, "gmarsh": FOLLOWS},
        (*OTHER_SCHOOLS["bpa"], "mhale", "kdaly", "nkaur")),
}


@pytest.fixture
def trust_app(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> App:
    """The example trust, served as one deployment at the console."""
    return App(TRUST.schools[0], sessions, channels=(CONSOLE,), clock=clock, deployment=TRUST)


async def _trust_export(app: App, person_id: str, reference: str) -> bool:
    """`log export --school <the report's school> --report REF --as PERSON`, as the command runs it."""
    who = app.anyone(person_id)
    assert who is not None
    at = app.at(chain_of(reference))
    try:
        await export_log(at.sessions, at.school, person=who, fmt="jsonl", report_ref=reference, since=None,
                         now=app.now(), write=lambda line: None)
    except ExportRefused:
        return False
    return True


@pytest.mark.parametrize("name", TRUST_SCENARIOS)
async def test_across_a_trust_nobody_at_another_school_nor_a_trust_person_not_routed_may_do_anything(
    trust_app: App, clock: Clock, name: str
) -> None:
    scenario = TRUST_SCENARIOS[name]
    school = next(s for s in TRUST.schools if s.key == scenario.school)
    reference = await submitted(trust_app.for_school(school), scenario.draft, reporter=scenario.reporter,
                                channel=CONSOLE)
    assert reference == f"SG-{scenario.school.upper()}-2026-0001"
    before = await last_seq(trust_app, scenario.school)  # the school's own chain of the log
    allowed = []
    for party in scenario.outsiders:
        for action in ACTIONS:
            done = await (_trust_export(trust_app, party, reference) if action is Action.EXPORT
                          else attempt(trust_app, party, action, reference))
            if done:
                allowed.append(f"{party} {action}")
    assert allowed == [], "another school's staff and the trust's people not routed may do nothing"
    refused = [(kind, actor) for kind, actor, _, _ in await logged_since(trust_app, before, scenario.school)]
    assert refused == [("refused", party) for party in scenario.outsiders for _ in ACTIONS]
    # Those it was routed to may, each from whichever school's view the channel acts in.
    for party, actions in scenario.allowed.items():
        for action in (a for a in (Action.VIEW, Action.NOTE, Action.ACKNOWLEDGE) if a in actions):
            assert await attempt(trust_app.for_school(TRUST.schools[-1]), party, action, reference), (party, action)
    # And their case lists (the Slack Home tab, Teams' My cases, console /alerts and /cases) agree.
    for party in scenario.outsiders:
        assert reference not in [c.report.reference for c in await case_list.cases_for(
            trust_app.for_person(party), party, case_list.CaseFilter())], party
    for party in scenario.allowed:
        if party != scenario.reporter:
            assert reference in [c.report.reference for c in await case_list.cases_for(
                trust_app.for_person(party), party, case_list.CaseFilter())], party
