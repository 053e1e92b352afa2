"""Thousands of malformed Slack and Teams requests, generated, over real HTTP to one server started once.

Every one must get an answer under 500 and log no error; afterwards the server still answers, a
real message still gets its reply, and the event log still verifies. The requests run from junk
bytes to payloads shaped like Slack's and Teams' with wrong types, missing fields, stale or forged
signatures, lone surrogates, deep nesting and huge values; the well-formed ones reach the real
listeners, which answer through FakeSlack and the fake Bot Connector.

One SQLite database, not both backends: what is under test is the request layer in front of the
database, and the run must stay short (see SLACK_EXAMPLES).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.app import CONSOLE, SLACK, TEAMS, App
from bot.server import SLACK_KEY, Settings, build_server
from bot.channels.slack.ids import COMMAND, SHORTCUT, ActionId, CallbackId
from bot.channels.teams import TEAMS_KEY
from routing.school import load_school
from storage.db import create_engine, sessionmaker
from storage.log import verify
from tests.builders import TEST_KEYS, example_school_with_ids
from tests.e2e.fake_slack import TOKEN, FakeSlack, dm_channel
from tests.e2e.reports import submit
from tests.e2e.slack_rig import SECRET, SLACK_IDS, eventually
from tests.teams.fake_connector import FakeBotConnector
from tests.teams.rig import CONFIG_TEAMS_IDS

# Measured on a two-core machine, data generation included: about 6 ms a Slack request and 10 ms a
# Teams one (botbuilder builds a connector client per reply), so the file runs in about 25 s, a
# little more while the machine is busy with other work. 3,000 requests in all.
SLACK_EXAMPLES = 1500
TEAMS_EXAMPLES = 1500
FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
TEAMS_IDS = {pid: f"29:1{pid}-teams" for pid in CONFIG_TEAMS_IDS}


@dataclass(repr=False)
class Served:
    """Our server (Slack and Teams on), the two fakes, and every error logged while requests ran."""

    url: str
    app: App
    channels: tuple[Any, ...]
    http: aiohttp.ClientSession
    slack: FakeSlack
    connector_url: str
    errors: list[logging.LogRecord] = field(default_factory=list)

    def __repr__(self) -> str:  # hypothesis shows the arguments of a failing example: keep this one short
        return f"Served({self.url})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # what hypothesis's printer calls
        printer.text(repr(self))

    def no_new_errors(self, since: int) -> None:
        """Nothing logged at ERROR since `since` (a listener bolt ran after answering shows up a request later)."""
        new = self.errors[since:]
        assert not new, "\n".join(f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info)}"
                                   if r.exc_info else f"{r.name}: {r.getMessage()}" for r in new[:3])

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST; the status, and the start of what a refusal said."""
        async with self.http.post(f"{self.url}{path}", data=body, headers=headers) as response:
            said = (await response.read())[:45].decode("utf-8", "replace") if response.status >= 400 else ""
            return response.status, said


class Errors(logging.Handler):
    """Keeps every record at ERROR or above: a crash that still answered 200 is caught too."""

    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory, migrated_templates: dict[str, str]) -> AsyncIterator[Served]:
    # On tmpfs where there is one: otherwise every request's commit waits for the disk, which is not what
    # this test is about and took a third of its time.
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(migrated_templates["sqlite"], folder / "safeguard.db")
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'safeguard.db'}", keys=TEST_KEYS)
    school = _school_on_both(folder / "school.yaml")
    slack, connector = FakeSlack(), FakeBotConnector()
    fakes = [TestServer(slack.application(), host="127.0.0.1"), TestServer(connector.application(), host="127.0.0.1")]
    for fake in fakes:
        await fake.start_server()
    slack_url, connector_url = (str(fake.make_url("")).rstrip("/") for fake in fakes)
    app = App(load_school(school), sessionmaker(engine), channels=(SLACK, TEAMS, CONSOLE))
    web_app = build_server(app, Settings(slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                                         slack_api_url=f"{slack_url}/api/", outbox_seconds=3600, scheduler_seconds=0))
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    # A report for the junk to act on: buttons and notes naming SG-2026-0001 reach a real one, and
    # notes typed by its DSL (junk text and all) go into the log that is verified at the end.
    assert await submit(app) == "SG-2026-0001"
    errors: list[logging.LogRecord] = []
    handler = Errors(errors)
    logging.getLogger().addHandler(handler)
    async with aiohttp.ClientSession() as http:
        yield Served(str(server.make_url("")).rstrip("/"), app, (web_app[SLACK_KEY], web_app[TEAMS_KEY]), http, slack,
                     connector_url, errors)
    logging.getLogger().removeHandler(handler)
    await web_app[SLACK_KEY].idle()
    await web_app[TEAMS_KEY].idle()
    await server.close()
    for fake in fakes:
        await fake.close()
    await engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def _school_on_both(path: Path) -> Path:
    """The example school, everyone with a Slack id and a Teams id."""
    example_school_with_ids(path, "slack", SLACK_IDS)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data["people"]:
        entry["teams"] = TEAMS_IDS[entry["id"]]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# --- what goes inside: values of every kind, with the awkward ones made likely ---------------

AWKWARD_TEXT = ["", " ", "\ud800", "a\udfffb", "\x00", "\u202egpj.exe", "<!channel>", "<@U0SMORGAN1>",
                "<https://evil.example|click>", "*bold*", "SG-2026-0001", "sg_choice_0", "send", "cancel",
                "pupil_disclosure", "[[[[", "%ff", "\U0001f3f4\U000e0067\U000e007f", "null", "{}", "\U0001f600"]
text = st.one_of(st.text(max_size=40), st.sampled_from(AWKWARD_TEXT),
                 st.integers(1000, 50_000).map(lambda n: "x" * n))  # past every limit a field or a dialog has
number = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False))
scalar = st.one_of(number, text)
value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(text, inner, max_size=3)), max_leaves=6)


def weighted(*choices: tuple[st.SearchStrategy[Any], int]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight says.

    Not st.one_of, which flattens nested one_ofs and drops repeated branches, so its odds are
    not the ones written; nor flatmap, which doubles the time spent generating.
    """
    options = [strategy for strategy, weight in choices for _ in range(weight)]
    index = st.integers(0, len(options) - 1)

    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        return draw(options[draw(index)])

    return pick()


def mostly(usual: st.SearchStrategy[Any], *unusual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` about seven times in eight, else one of `unusual`."""
    return weighted((usual, 7 * len(unusual)), *((strategy, 1) for strategy in unusual))


def either(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right thing (so the rest of a request gets further), sometimes any JSON value at all."""
    return mostly(good, value)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# --- Slack -------------------------------------------------------------------------------------

slack_user = either(st.sampled_from([*SLACK_IDS.values(), "U0VISITOR1"]))
slack_event = st.fixed_dictionaries(
    {"type": either(st.sampled_from(["message", "app_home_opened", "reaction_added"]))},
    optional={"user": slack_user, "channel": either(st.sampled_from([dm_channel(u) for u in SLACK_IDS.values()])),
              "channel_type": either(st.sampled_from(["im", "channel"])), "text": either(text),
              "subtype": either(st.sampled_from(["file_share", "message_changed", "bot_message"])),
              "bot_id": text, "tab": either(st.just("home")), "ts": either(st.just("1.0")), "files": value},
)
slack_action = st.fixed_dictionaries(
    {"action_id": either(st.sampled_from([*(f"{ActionId.CHOICE}_{n}" for n in range(3)), *ActionId]))},
    optional={"block_id": either(st.sampled_from(["sg_q:category:0:0", "sg_q:-:0:0", "sg_alert:SG-2026-0001"])),
              "value": either(st.sampled_from(["misuse", "send", "SG-2026-0001", "sg-2026-9999"])),
              "text": either(st.fixed_dictionaries({"text": text})),
              "selected_option": either(st.fixed_dictionaries({"value": text, "text": st.fixed_dictionaries({"text": text})}))},
)
slack_view = st.fixed_dictionaries(
    {"type": either(st.just("modal")), "callback_id": either(st.sampled_from(list(CallbackId)))},
    optional={"id": text, "private_metadata": either(st.sampled_from(
        ['{"ref": "SG-2026-0001", "kind": "note", "channel": null}', '{"ref": 5}', "[]", "nope"])),
        "state": either(st.fixed_dictionaries({"values": either(st.fixed_dictionaries({"sg_note_text": either(
            st.fixed_dictionaries({"text": either(st.fixed_dictionaries({"value": either(text)}))}))}))}))},
)
slack_about = {  # what any interaction may also carry
    "trigger_id": text, "channel": either(st.fixed_dictionaries({"id": text})),
    "message": either(st.fixed_dictionaries({"ts": text}, optional={
        "text": text, "blocks": st.lists(st.fixed_dictionaries({"type": text, "block_id": text}), max_size=2)})),
    "container": either(st.fixed_dictionaries({"type": st.just("message"), "channel_id": text})),
    "team": either(st.fixed_dictionaries({"id": text})), "enterprise": either(st.none()),
    "state": either(st.just({"values": {}})),
}
slack_clicker = either(st.fixed_dictionaries({"id": slack_user}))


def interaction(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": either(st.just(kind)), "user": slack_clicker, **fields}, optional=slack_about)


slack_interaction = weighted(
    (interaction("block_actions", actions=either(st.lists(slack_action, max_size=2))), 3),
    (interaction("view_submission", view=either(slack_view)), 2),
    (interaction("view_closed", view=either(slack_view)), 1),
    (interaction("shortcut", callback_id=either(st.just(SHORTCUT))), 1),
)
slack_envelope = st.fixed_dictionaries(
    {"type": either(st.just("event_callback")), "event": either(slack_event)},
    optional={"event_id": text, "team_id": text, "authorizations": value, "is_ext_shared_channel": st.booleans()},
)
slack_command = st.dictionaries(st.sampled_from(["command", "user_id", "channel_id", "text", "trigger_id", "team_id"]),
                                st.one_of(text, st.just(COMMAND), st.sampled_from(list(SLACK_IDS.values()))))


def as_json(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[bytes, str]]:
    return strategy.map(lambda v: (json.dumps(v).encode(), "application/json"))


def as_payload(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[bytes, str]]:
    return strategy.map(lambda v: (urlencode({"payload": json.dumps(v)}).encode(), "application/x-www-form-urlencoded"))


slack_body = mostly(
    weighted((as_json(slack_envelope), 3), (as_json(slack_interaction), 2), (as_payload(slack_interaction), 2),
             # A lone surrogate, form-encoded, arrives as bytes that are not UTF-8 (%ED%A0%80).
             (slack_command.map(lambda form: (urlencode(form, errors="surrogatepass").encode(),
                                              "application/x-www-form-urlencoded")), 2),
             (as_json(st.fixed_dictionaries({"type": st.just("url_verification")}, optional={"challenge": value})), 1)),
    st.one_of(as_json(value), as_payload(value),
              st.tuples(st.binary(max_size=300), st.sampled_from(["application/json", "application/x-www-form-urlencoded"])),
              st.tuples(st.sampled_from([nested(900), nested(50_000), b"payload=" + nested(5_000), b"x" * 1_000_000]),
                        st.just("application/json"))),
)
CONTENT_TYPES = ["text/plain", "", "multipart/form-data; boundary=x", "application/json; charset=bogus",
                 "application/x-www-form-urlencoded; charset=latin-1"]
# Header values a client can send: printable Latin-1, no line breaks.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xff, exclude_characters="\x7f"), max_size=30)


OTHER_CONTENT_TYPE = mostly(st.none(), st.sampled_from(CONTENT_TYPES))
# How far from now the timestamp is: mostly not at all; else stale or future by a little, or anything.
CLOCK_SKEW = mostly(st.just(0), st.sampled_from([-301, 301]), st.integers(-(2**40), 2**40))
FORGERY = mostly(st.just("none"), st.sampled_from(["signature", "timestamp", "missing"]))
SIGNED_HEADER = st.sampled_from(["X-Slack-Signature", "X-Slack-Request-Timestamp"])
RETRY = mostly(st.none(), header_text)


@st.composite
def slack_requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    body, content_type = draw(slack_body)
    other = draw(OTHER_CONTENT_TYPE)
    content_type = content_type if other is None else other
    # Mostly signed and fresh, so the junk gets past the signature to the parsers and the listeners.
    stamp = str(int(time.time()) + draw(CLOCK_SKEW))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    forgery = draw(FORGERY)
    if forgery == "signature":
        headers["X-Slack-Signature"] = draw(header_text)
    elif forgery == "timestamp":
        headers["X-Slack-Request-Timestamp"] = draw(header_text)
    elif forgery == "missing":
        del headers[draw(SIGNED_HEADER)]
    retry = draw(RETRY)
    if retry is not None:
        headers["X-Slack-Retry-Num"] = retry
    return body, headers


# --- Teams -------------------------------------------------------------------------------------

teams_id = either(st.sampled_from([*TEAMS_IDS.values(), "29:1stranger"]))
conversation = either(st.fixed_dictionaries({"id": either(st.sampled_from(["a:1chat", "a:1chat/../x?y#z", "a" * 300])),
                                             "conversationType": either(st.sampled_from(["personal", "groupChat"]))},
                                            optional={"isGroup": value, "tenantId": text}))
card_value = st.fixed_dictionaries(
    {"safeguard": either(st.sampled_from(["answer", "report", "start", "open_reports"]))},
    optional={"field": either(st.sampled_from(["category", "what_happened"])), "choice": either(text),
              "answer": either(text), "label": either(text), "reference": either(st.just("SG-2026-0001")),
              "action": either(st.sampled_from(["acknowledge", "note", "record_action", "view", "lado"])),
              "note_text": either(text), "action_text": either(text)},
)
invoke_value = st.fixed_dictionaries({"action": either(st.fixed_dictionaries(
    {"verb": either(st.sampled_from(["acknowledge", "refresh", "view", "lado"])),
     "data": either(st.fixed_dictionaries({"reference": either(st.just("SG-2026-0001"))}))}))})
# An address that is not one to send to (never a real host: the bot would try to reach it).
bad_service_url = st.one_of(st.sampled_from(["", "http://[::1", "http://fake host/", "ftp://x/", "http://h:port/",
                                             "javascript:alert(1)"]),
                            st.text(max_size=20).filter(lambda t: not t.strip().lower().startswith("http")))


activity_type = either(st.sampled_from(["message", "invoke", "conversationUpdate", "installationUpdate", "typing"]))
activity_id = either(st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12))
sender = either(st.fixed_dictionaries({"id": teams_id}, optional={"aadObjectId": text, "name": text}))
# Strategies are built once, here: building them inside each draw took most of the run.
ACTIVITY_OPTIONAL = {
    "text": either(text), "value": st.one_of(card_value, invoke_value, value),
    "name": either(st.just("adaptiveCard/action")), "action": either(st.sampled_from(["add", "remove"])),
    "membersAdded": either(st.lists(st.fixed_dictionaries({"id": either(st.just("28:safeguard-test-bot"))}))),
    "attachments": either(st.lists(st.fixed_dictionaries({"contentType": either(text)}), max_size=2)),
    "replyToId": either(text), "timestamp": either(st.just("2026-11-20T09:15:00Z")), "channelData": value,
    "entities": value, "locale": either(text),
}
optional_names = st.sets(st.sampled_from(sorted(ACTIVITY_OPTIONAL)), max_size=4)
removed_names = st.sets(st.sampled_from(["type", "serviceUrl", "from", "conversation", "id"]), max_size=1)


@st.composite
def activities(draw: st.DrawFn, service_url: st.SearchStrategy[Any]) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": draw(activity_type), "id": draw(activity_id), "channelId": "msteams", "serviceUrl": draw(service_url),
        "from": draw(sender), "recipient": {"id": "28:safeguard-test-bot"}, "conversation": draw(conversation),
    }
    for name in draw(optional_names):
        activity[name] = draw(ACTIVITY_OPTIONAL[name])
    for name in draw(removed_names):
        del activity[name]
    return activity


CONTENT_TYPE_JSON = mostly(st.just("application/json"), st.sampled_from(CONTENT_TYPES))
AUTHORIZATION = mostly(st.none(), header_text)


def teams_requests(service_url: str) -> st.SearchStrategy[tuple[bytes, dict[str, str]]]:
    """Requests to /api/messages whose activities answer to `service_url` (the fake Bot Connector) or nowhere."""
    body = mostly(
        activities(mostly(st.just(service_url), bad_service_url, number)).map(lambda a: json.dumps(a).encode()),
        st.one_of(value.map(lambda v: json.dumps(v).encode()), st.binary(max_size=300),
                  st.sampled_from([nested(900), nested(50_000), b"{" + b'"a":{' * 2000])),
    )

    @st.composite
    def request(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
        headers = {"Content-Type": draw(CONTENT_TYPE_JSON)}
        authorization = draw(AUTHORIZATION)
        if authorization is not None:
            # Anonymous mode cannot check a token: any Authorization header is refused with a 401, never validated.
            headers["Authorization"] = authorization
        return draw(body), headers

    return request()


# --- the tests ----------------------------------------------------------------------------------

@settings(max_examples=SLACK_EXAMPLES, **FUZZ)
@given(request=slack_requests())
async def test_malformed_slack_requests_never_get_a_5xx(served: Served, request: tuple[bytes, dict[str, str]]) -> None:
    body, headers = request
    logged = len(served.errors)
    status, said = await served.post("/slack/events", body, headers)
    event(f"{status} {said}".strip())  # with --hypothesis-show-statistics: how many stopped at which check
    assert status < 500, f"{status} for {body[:300]!r} with {headers}"
    served.no_new_errors(logged)


@settings(max_examples=TEAMS_EXAMPLES, **FUZZ)
@given(data=st.data())
async def test_malformed_teams_requests_never_get_a_5xx(served: Served, data: st.DataObject) -> None:
    body, headers = data.draw(teams_requests(served.connector_url + "/"))
    logged = len(served.errors)
    status, said = await served.post("/api/messages", body, headers)
    event(f"{status} {said}".strip())
    assert status < 500, f"{status} for {body[:300]!r} with {headers}"
    served.no_new_errors(logged)


async def test_after_all_that_the_server_answers_and_the_log_verifies(served: Served) -> None:
    async with served.http.get(f"{served.url}/healthz") as response:
        assert response.status == 200
    # A real message from a real teacher still gets its first question.
    teacher = SLACK_IDS["rpatel"]
    body = json.dumps({"type": "event_callback", "event_id": f"Ev{time.time_ns()}", "team_id": "T0OAKFIELD",
                       "event": {"type": "message", "channel_type": "im", "user": teacher, "channel": dm_channel(teacher),
                                 "text": "cancel", "ts": "1.0"}}).encode()
    now = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{now}:".encode() + body, hashlib.sha256).hexdigest()
    before = len(served.slack.to("chat.postMessage", channel=dm_channel(teacher)))
    answer = await served.post("/slack/events", body, {"Content-Type": "application/json",
                                                       "X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature})
    assert answer == (200, "")

    async def answered() -> bool:
        return len(served.slack.to("chat.postMessage", channel=dm_channel(teacher))) > before

    await eventually(answered, "the teacher's reply")
    for channel in served.channels:
        assert await channel.idle()  # every listener the junk started has finished
    async with served.app.sessions() as session:
        result = await verify(session)
    assert result.ok, result.problem
    assert result.checked >= 2  # at least the report's created and routed events
    served.no_new_errors(0)
