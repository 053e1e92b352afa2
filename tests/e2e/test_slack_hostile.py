"""Hostile requests to /slack/events and hostile text in a report: a clear 4xx or a clear message, never a 500.

test_slack_security.py covers forged, tampered and stale signatures and unparsable bodies; these
are the requests that answered 500 before (a missing header, a body that is not UTF-8, fields of
the wrong type that bolt indexes into) and text that could hide or fake something.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.channels.slack.blocks import TONE_MARK
from bot.channels.slack.shape import problem
from storage.log import verify
from dialogs import Tone
from storage.models import Report, ReportNote
from tests.e2e.reports import submit
from tests.e2e.slack_rig import (
    SECRET,
    SLACK_IDS,
    Answer,
    Rig,
    find_button,
    read_as_markup,
    shown_literally,
    text_objects,
)

RLO, PDF, ZWSP = "\u202e", "\u202c", "\u200b"


async def post_raw(rig: Rig, data: bytes, headers: dict[str, str]) -> Answer:
    """POST bytes as they are (rig.post signs text), with exactly these headers."""
    async with rig.http.post(f"{rig.url}/slack/events", data=data, headers=headers) as response:
        return Answer(response.status, await response.text())


def signed_headers(data: bytes, content_type: str = "application/json") -> dict[str, str]:
    """Headers signing `data` as Slack would, over its bytes (so bytes that are not UTF-8 can be signed too)."""
    now = int(time.time())
    digest = hmac.new(SECRET.encode(), f"v0:{now}:".encode() + data, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": f"v0={digest}"}


def event(**fields: Any) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T0OAKFIELD", "event_id": "Ev0HOSTILE1", "event_time": 1, **fields}


# The requests below are refused before anything touches the database: one backend is enough.
REQUEST_LAYER = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HEADERS_NOT_FROM_SLACK = [
    ({}, "no timestamp or signature: slack_sdk's int('') raised"),
    ({"X-Slack-Request-Timestamp": "yesterday"}, "a timestamp that is not a number"),
    ({"X-Slack-Request-Timestamp": "9" * 5000}, "past int()'s 4,300 digits"),
    ({"X-Slack-Signature": "v0=é"}, "compare_digest refuses a non-ASCII string"),
]


@REQUEST_LAYER
async def test_headers_slack_never_sends_get_a_401(rig: Rig) -> None:
    body = json.dumps(event(event={"type": "message", "channel_type": "im", "user": SLACK_IDS["cfinch"]})).encode()
    for headers, why in HEADERS_NOT_FROM_SLACK:
        sent = {"Content-Type": "application/json"}
        if headers:
            sent.update({"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00", **headers})
        answer = await post_raw(rig, body, sent)
        assert (answer.status, answer.body) == (401, "invalid request"), why
    assert rig.fake.calls == []


@REQUEST_LAYER
async def test_a_body_that_is_not_utf8_gets_a_400_signed_or_not(rig: Rig) -> None:
    data = b'{"type": "event_callback", "x": "\xff\xfe"}'
    for headers in (signed_headers(data), {"Content-Type": "application/json"}):
        answer = await post_raw(rig, data, headers)
        assert (answer.status, answer.body) == (400, "the request body is not UTF-8 text")


@REQUEST_LAYER
async def test_a_type_slack_never_sends_gets_a_415(rig: Rig) -> None:
    data = json.dumps(event(event={"type": "app_home_opened", "user": SLACK_IDS["cfinch"]})).encode()
    for content_type in ("text/plain", "multipart/form-data; boundary=x", "application/xml", ""):
        answer = await post_raw(rig, data, signed_headers(data, content_type))
        assert answer.status == 415 and "application/json" in answer.body, content_type
    assert rig.fake.calls == []


WRONG_SHAPES = [
    (event(event=5), "body.event is int, not dict"),
    (event(event=None), "body.event is null"),
    (event(event={"type": "message", "channel_type": "im", "user": SLACK_IDS["cfinch"], "text": ["hi"]}),
     "body.event.text is list, not str"),
    (event(event={"type": "message"}, authorizations={"0": {}}), "body.authorizations is dict, not list"),
    # Stored to answer each event once: PostgreSQL refuses a NUL in text.
    (event(event={"type": "message"}, event_id="Ev0\u0000"),
     "body.event_id is not an id (a control character, or over 255 characters)"),
    # A user id goes into conversations.open's query string: one of 10,000 characters is no Slack id.
    ({"type": "shortcut", "callback_id": "report_concern", "user": {"id": "U" * 10_000}},
     "body.user.id is not an id (a control character, or over 255 characters)"),
    ({"type": "block_actions", "actions": 5}, "body.actions is int, not list"),
    ({"type": "block_actions", "actions": [], "user": {"id": SLACK_IDS["smorgan"]}}, "body.actions is empty"),
    ({"type": "block_actions", "actions": [{"value": "x"}]}, "body.actions[0].action_id is missing"),
    ({"type": "block_actions", "actions": [{"action_id": "sg_ack", "value": "SG-2026-0001"}], "user": "U0SMORGAN1"},
     "body.user is str, not dict"),
    ({"type": "view_submission", "view": {"callback_id": "sg_note", "state": {"values": {"b\ud800": ["x"]}}}},
     "body.view.state.values.b\\ud800 is list, not dict"),  # the sender's key, escaped: it is logged and answered
]


@REQUEST_LAYER
async def test_a_signed_payload_of_the_wrong_shape_gets_a_400_naming_the_field(rig: Rig) -> None:
    for body, field in WRONG_SHAPES:
        as_json = json.dumps(body)
        sent = [(as_json, "application/json")]
        if body["type"] != "event_callback":  # interactions come as a form; events only ever as JSON
            sent.append((urlencode({"payload": as_json}), "application/x-www-form-urlencoded"))
        for data, content_type in sent:
            answer = await rig.post(data, content_type=content_type)
            assert (answer.status, answer.body) == (400, f"the request is not as Slack sends it: {field}")
    assert rig.fake.calls == []


@REQUEST_LAYER
async def test_signed_json_that_is_not_text_or_too_deep_gets_a_400(rig: Rig) -> None:
    surrogate = await rig.post('{"type": "event_callback", "token": "\\ud800"}', content_type="application/json")
    assert (surrogate.status, surrogate.body) == (
        400, "the request is not as Slack sends it: it holds text that is not Unicode (a lone surrogate escape)")
    deep = await rig.post("[" * 100_000 + "]" * 100_000, content_type="application/json")  # past the parser's recursion
    assert (deep.status, deep.body) == (400, "the request body could not be read")


@REQUEST_LAYER
def test_payloads_as_slack_sends_them_pass_the_shape_check(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    message = {"ts": "1.0", "text": "Hi", "blocks": [{"type": "section", "block_id": "b"}]}
    action = {"type": "button", "action_id": "sg_choice_0", "block_id": "sg_q:category:0:0", "value": "misuse",
              "text": {"type": "plain_text", "text": "Misuse"}}
    assert problem(event(event=teacher.message_event("hello"), authorizations=[{"team_id": "T0", "user_id": "U"}],
                         enterprise=None)) is None
    assert problem(teacher.action_payload(message, {"block_id": "b"}, action)) is None
    assert problem({"type": "view_submission", "view": {"id": "V1", "type": "modal", "callback_id": "sg_note",
                                                          "state": {"values": {"b": {"a": {"value": None}}}}},
                    "user": {"id": "U0"}, "team": "T0", "response_urls": []}) is None


HOSTILE = (f"He sent {RLO}gpj.exe{PDF} <!channel> <@U0SMORGAN1> <https://evil.example|the school site> "
           f"*Acknowledged by the DSL*\x00\x1b[2J to{ZWSP}day")
# What the teacher meant, as the report keeps it: Slack's markup read back to words, nothing hidden.
KEPT = ("He sent gpj.exe @channel @U0SMORGAN1 the school site (https://evil.example) "
        "*Acknowledged by the DSL*[2J today")


async def test_hostile_text_is_kept_as_seen_and_shown_literally(rig: Rig) -> None:
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart", "skip", HOSTILE, "no", "with_me", "no"):
        await teacher.type(words)
    summary = await teacher.type("no")
    assert KEPT in shown_literally(summary)
    await teacher.tap("Send")
    alert = dsl.message_of(await dsl.wait_for_post(1))
    block, button = find_button(alert, "View log")
    assert (await rig.interact(dsl.action_payload(alert, block, button))).status == 200
    logged = (await rig.fake.wait_for("views.update"))[0]
    assert f"The child's words: {KEPT}" in shown_literally(logged)
    await rig.slack.idle()
    for call in rig.fake.calls:
        parsed, sent = read_as_markup(call), call.text()
        # Nothing Slack reads as markup carries a ping or a link; nothing shown in a message or modal is mrkdwn
        # at all (the notification text, escaped, may still show *stars*: Slack gives it no way to escape them).
        for markup in ("<!channel>", "<@U0SMORGAN1>", "<https://evil"):
            assert markup not in parsed, (call.method, parsed)
        assert not [t for t in text_objects(call) if t["type"] == "mrkdwn" and "Acknowledged by the DSL" in t["text"]]
        for hidden in (RLO, PDF, ZWSP, "\\u0000", "\\u001b", "\\u202e"):
            assert hidden not in sent, (call.method, sent)
    async with rig.app.sessions() as session:
        report = (await session.scalars(select(Report))).one()
        assert report.details["The child's words"] == KEPT
        assert (await verify(session)).ok


async def test_a_note_over_the_limit_is_refused_with_the_limit_and_a_hostile_one_is_kept_as_seen(rig: Rig) -> None:
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    dsl = rig.phone("smorgan")
    alert = dsl.latest()
    block, button = find_button(alert, "Add note")
    assert (await rig.interact(dsl.action_payload(alert, block, button))).status == 200
    opened = (await rig.fake.wait_for("views.open"))[0]
    view = {**opened.args["view"], "id": opened.result["view"]["id"]}

    async def save(note: str) -> str:
        before = len(rig.fake.to("response_url", user=dsl.user))
        # Slack's box stops at 2,000 characters; a request made by hand does not.
        values = {"sg_note_text": {"text": {"type": "plain_text_input", "value": note}}}
        assert (await rig.interact(dsl.view_submission(view, values))).status == 200
        told = await rig.fake.wait_for("response_url", before + 1, user=dsl.user)
        return str(told[-1].words()).removeprefix(TONE_MARK[Tone.ERROR])

    assert await save("x" * 2001) == (f"Nothing was added to {reference}. That is 2,001 characters. "
                                      "Please keep it to 2,000 or fewer.")
    assert await save(f"{RLO}Closed{PDF}: *no further action* <!here>\x07") == f"Note added to {reference}."
    async with rig.app.sessions() as session:
        assert [n.text for n in await session.scalars(select(ReportNote))] == [
            "Closed: *no further action* <!here>"]
        assert (await verify(session)).ok
