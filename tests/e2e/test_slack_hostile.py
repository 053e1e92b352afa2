"""Hostile requests to /slack/events: a clear 4xx, never a 500.

test_slack_security.py covers forged, tampered and stale signatures and unparsable bodies; these
are the requests that answered 500 before (a missing header, a body that is not UTF-8, fields of
the wrong type that bolt indexes into).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.shape import problem
from tests.e2e.slack_rig import SECRET, SLACK_IDS, Answer, Rig


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
    surrogate = await rig.post('{"type": "event_callback", "event_id": "\\ud800"}', content_type="application/json")
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
