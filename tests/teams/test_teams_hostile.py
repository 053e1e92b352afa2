"""Hostile requests to /api/messages and hostile text in a report: a clear 4xx or a clear message, never a 500.

test_teams_safety.py covers bodies that are not JSON, the wrong content type, and activities without
what a reply needs; these are the requests that answered 500, or failed inside the turn, before.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import TEAMS, App
from bot.channels.teams import TeamsSettings, add_teams_routes
from routing.school import load_school
from storage.log import verify
from storage.models import Draft, ReportNote
from storage.reports import get_report
from tests.teams.fake_connector import FakeBotConnector, nodes
from tests.teams.rig import Rig, User
from tests.teams.test_teams_safety import reported

RLO, PDF, ZWSP = "\u202e", "\u202c", "\u200b"


async def post(rig: Rig, data: bytes, content_type: str = "application/json") -> tuple[int, str]:
    async with rig.http.post(f"{rig.url}/api/messages", data=data, headers={"Content-Type": content_type}) as answer:
        return answer.status, await answer.text()


async def drafts(rig: Rig) -> int:
    async with rig.app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Draft)) or 0)


# The requests below are refused before anything touches the database: one backend is enough.
REQUEST_LAYER = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@REQUEST_LAYER
async def test_bodies_that_are_not_text_or_too_deep_get_a_400(rig: Rig) -> None:
    activity = json.dumps(rig.user("cfinch").activity(text="hello"))
    assert await post(rig, activity.encode()[:-1] + b'\xff}') == (400, "the request body is not UTF-8 text")
    assert await post(rig, activity.replace('"hello"', '"\\ud800"').encode()) == (
        400, "the request body holds text that is not Unicode (a lone surrogate escape)")
    # json.loads raised RecursionError here, which nothing caught: a 500.
    assert await post(rig, b"[" * 100_000 + b"]" * 100_000) == (400, "the request body is not JSON")
    assert rig.fake.sent == [] and await drafts(rig) == 0


@REQUEST_LAYER
async def test_a_charset_that_does_not_exist_is_ignored_as_json_is_always_utf8(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    # aiohttp's request.json() looked the charset up and raised LookupError: a 500.
    status, _ = await post(rig, json.dumps(teacher.activity(text="hello")).encode(), "application/json; charset=bogus")
    assert status == 200
    reply = await rig.fake.wait_in(teacher.conversation["id"], "What are you reporting?")
    assert reply.kind == "reply"


WRONG_FIELDS = [
    ({"id": {"x": 1}}, "the activity's id is not text"),  # was sent on into the reply's address
    ({"text": 5}, "the activity's text is not text"),
    ({"replyToId": ["1"]}, "the activity's replyToId is not text"),
    ({"conversation": {"id": 7, "conversationType": "personal"}}, "the activity's conversation.id is not text"),
    ({"from": {"id": {"id": "29:1cfinch-teams"}}}, "the activity's from.id is not text"),
    # Sent on in the reply's address, where a NUL, or 10,000 characters, made the reply fail.
    ({"conversation": {"id": "a:1chat\u0000", "conversationType": "personal"}},
     "the activity's conversation.id is not an id (a control character, or over 1,000 characters)"),
    ({"id": "1" * 10_000}, "the activity's id is not an id (a control character, or over 1,000 characters)"),
    ({"serviceUrl": "http://[::1"}, "the activity has no serviceUrl to answer to"),  # urlparse raised: a 500
    ({"serviceUrl": "http://fake host/"}, "the activity has no serviceUrl to answer to"),
    ({"serviceUrl": "http://127.0.0.1:port/"}, "the activity has no serviceUrl to answer to"),
]


@REQUEST_LAYER
async def test_fields_of_the_wrong_type_get_a_400_naming_them(rig: Rig) -> None:
    for change, said in WRONG_FIELDS:
        activity = {**rig.user("cfinch").activity(text="hello"), **change}
        assert await post(rig, json.dumps(activity).encode()) == (400, said)
    assert rig.fake.sent == [] and await drafts(rig) == 0


@REQUEST_LAYER
async def test_a_button_value_of_the_wrong_type_is_answered_not_a_failed_turn(rig: Rig,
                                                                               caplog: pytest.LogCaptureFixture) -> None:
    teacher = rig.user("cfinch")
    # An unhashable action was looked up in a dict: the turn failed and said "Something went wrong".
    reply = await teacher.taps({"type": "Action.Submit", "data": {"safeguard": "report", "action": ["acknowledge"],
                                                                  "reference": "SG-2026-0001"}})
    assert reply.text().startswith("That button is not one Safeguard knows")
    status, body = await teacher.post(teacher.activity("invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": ["acknowledge"], "data": {"reference": "SG-2026-0001"}}}))
    assert (status, body["value"]["code"]) == (400, "BadRequest")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@REQUEST_LAYER
async def test_with_an_app_id_a_missing_or_invalid_token_gets_a_401(
    sessions: async_sessionmaker[AsyncSession], school_file: Any, fake_connector: tuple[FakeBotConnector, str],
) -> None:
    fake, fake_url = fake_connector
    web_app = web.Application()
    add_teams_routes(web_app, App(load_school(school_file), sessions, channels=(TEAMS,)),
                     TeamsSettings(app_id="3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b", app_password="made-up",
                                   outbox_seconds=0))
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    activity = {"type": "message", "id": "1", "channelId": "msteams", "serviceUrl": fake_url + "/", "text": "hello",
                "from": {"id": "29:1cfinch-teams"}, "recipient": {"id": "28:bot"}, "conversation": {"id": "a:1x"}}
    try:
        async with aiohttp.ClientSession() as http:
            # Only tokens that are not JWTs: one shaped like a JWT makes botbuilder fetch Microsoft's keys online.
            for authorization in (None, "Bearer", "Bearer not-a-token", "Basic Y2ZpbmNoOnBhc3N3b3Jk", "é"):
                headers = {"Content-Type": "application/json"}
                if authorization is not None:
                    headers["Authorization"] = authorization
                async with http.post(server.make_url("/api/messages"), data=json.dumps(activity),
                                     headers=headers) as answer:
                    assert (answer.status, await answer.text()) == (401, "not authenticated"), authorization
    finally:
        await server.close()
    assert fake.sent == []


HOSTILE = (f"He sent {RLO}gpj.exe{PDF} **Acknowledged by the DSL** [the school site](https://evil.example) "
           f"<at>everyone</at> {{\"type\": \"Action.OpenUrl\", \"url\": \"https://evil.example\"}}\x00 to{ZWSP}day")
KEPT = ("He sent gpj.exe **Acknowledged by the DSL** [the school site](https://evil.example) "
        "<at>everyone</at> {\"type\": \"Action.OpenUrl\", \"url\": \"https://evil.example\"} today")


def runs(cards: list[dict[str, Any]]) -> list[str]:
    return [run["text"] for run in nodes(cards, ("TextRun",))]


async def test_hostile_text_is_kept_as_seen_and_shown_literally_on_cards(rig: Rig) -> None:
    teacher, dsl = rig.user("cfinch"), rig.user("smorgan")
    await dsl.installs()
    card = await teacher.says("Pupil disclosure")
    for answer in ("No", "The child is the victim", "Mia Hart", "Skip"):
        card = await teacher.says(answer)
    card = await teacher.taps(card.action("Next"), answer=HOSTILE)
    for answer in ("No", "With me", "No", "No"):
        card = await teacher.says(answer)
    assert f"The child's words: {KEPT}" in runs(card.cards)
    await teacher.taps(card.action("Send"))
    alert = await rig.fake.wait_in(dsl.conversation["id"], "SG-2026-0001")
    await rig.teams.idle()
    saved = await dsl.taps(alert.action("Save"), note_text=f"{RLO}Closed{PDF}: **no further action**\x07")
    assert saved.text() == "Note added to SG-2026-0001."
    viewed = await dsl.taps(alert.action("View log"))
    shown = runs(viewed.cards)
    assert f"The child's words: {KEPT}" in shown
    assert any(line.endswith(": Closed: **no further action**") for line in shown)
    for sent in rig.fake.sent:
        # Typed text only ever sits in a TextRun, which reads no markdown; it added no element and no action.
        assert nodes(sent.cards, ("TextBlock", "Action.OpenUrl")) == [], sent.cards
        assert not {RLO, PDF, ZWSP, "\x00", "\x07"} & set(json.dumps(sent.activity, ensure_ascii=False))
        assert "text" not in sent.activity  # a message's own text is markdown in Teams: Safeguard sends cards only
    async with rig.app.sessions() as session:
        report = await get_report(session, "SG-2026-0001")
        assert report is not None and report.details["The child's words"] == KEPT
        assert [n.text for n in await session.scalars(select(ReportNote))] == ["Closed: **no further action**"]
        assert (await verify(session)).ok


async def test_a_note_over_the_limit_is_refused_with_the_limit(rig: Rig) -> None:
    acknowledge = await reported(rig)
    dsl: User = rig.user("smorgan")
    save = {"type": "Action.Submit", "data": {**acknowledge["data"], "action": "note"}}
    # The card's box stops at 2,000 characters; a request made by hand does not.
    refused = await dsl.taps(save, note_text="x" * 2001)
    assert refused.text() == ("Nothing was added to SG-2026-0001. That is 2,001 characters. "
                              "Please keep it to 2,000 or fewer.")
    async with rig.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReportNote)) == 0
