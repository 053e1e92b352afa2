"""FakeSlack: Slack's Web API as far as Safeguard uses it, on 127.0.0.1, recording every call."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.e2e.fake_socket_mode import FakeSocketMode

TOKEN = "xoxb-test-0000-safeguard"
BOT_USER = "U0SAFEBOT1"
TEAM = "T0OAKFIELD"
APP_ID = "A0SAFEGUARD"
CLIENT_ID = "1790000000.2041000000"
CLIENT_SECRET = "c0ffee5ecret0000safeguard00000000"
# What the app asks for when installed (manifest/slack/manifest.yaml's bot scopes).
BOT_SCOPES = ("chat:write", "commands", "files:read", "files:write", "im:history", "im:write", "users:read",
              "users:read.email")
# Parameters slack_sdk may send form-encoded as JSON text.
JSON_ARGS = ("blocks", "view", "attachments", "files", "metadata")


@dataclass
class Call:
    """One Web API call: its method name, its arguments (query string and body merged), and the answer."""

    method: str
    args: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived (bench/alert.py times alerts by it)
    token: str | None = None  # the bot token it came with (whose workspace it was made in)

    def text(self) -> str:
        """Everything this call asked Slack to show, as one string (for checks on what was sent)."""
        return json.dumps({k: self.args.get(k) for k in ("text", "blocks", "view")}, ensure_ascii=False)

    def words(self) -> str:
        """The words of the message or view this call asked Slack to show (its blocks, not its notification text)."""
        return words_of(self.args)


@dataclass
class Upload:
    """A file uploaded the way files_upload_v2 does it: a URL asked for, the bytes posted, then shared."""

    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    data: bytes | None = None  # once the bytes were posted to the upload URL
    title: str | None = None  # once completed
    channel_id: str | None = None  # where files.completeUploadExternal shared it


@dataclass
class HostedFile:
    """A file someone shared in Slack, served at its url_private_download only with the bot's token."""

    file_id: str
    name: str
    mimetype: str
    data: bytes
    repeat: int = 1  # the body is `data` this many times over (a large file without holding it)
    chunked: bool = False  # sent in pieces without a Content-Length: its size shows only by reading it
    sent: int = 0  # bytes written before the reader stopped reading
    hits: list[str | None] = field(default_factory=list)  # the Authorization header of each request for it


@dataclass
class Fault:
    """How the fake answers one call of a method instead of answering it well."""

    error: str | None = None  # answer {"ok": false, "error": error}
    status: int = 200  # the HTTP status of that answer (429 for a rate limit, 5xx for an outage)
    retry_after: int | None = None  # a Retry-After header, with a 429
    delay: float = 0.0  # wait this long before answering (longer than the client's timeout: a time-out)
    # Do the call (store the message), then hold the answer until this is set: a sender killed
    # while it waits has sent a message it never heard back about.
    hold: asyncio.Event | None = None
    channel: str | None = None  # only a call into this channel (else the method's next call)
    # Do the call (store the message), then close the connection without answering: the message
    # arrived, its answer never did.
    drop: bool = False


@dataclass
class FakeSlack:
    """Answers like Slack: auth.test, conversations.open, chat.*, views.*, users.lookupByEmail, file uploads."""

    users_by_email: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # Slack's stored messages, by (channel, ts): what a block_actions payload carries back.
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[Fault]] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    upload_failures: list[int] = field(default_factory=list)
    # Where this fake is served (learnt from the requests it gets): upload URLs point back at it.
    origin: str = ""
    # Methods whose every nth call is done and then its connection dropped (see lose_every).
    lossy: dict[str, int] = field(default_factory=dict)
    dropped: list[Call] = field(default_factory=list)  # the calls done whose answers were lost
    files: dict[str, HostedFile] = field(default_factory=dict)  # files shared in DMs, served at /files/...
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Each bot token Slack has issued, and its workspace: the one of the single-workspace tests,
    # then one per workspace that installs the app through oauth.v2.access.
    tokens: dict[str, str] = field(default_factory=lambda: {TOKEN: TEAM})
    # The app's credentials, as oauth.v2.access checks them (HTTP Basic auth).
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    # Codes Slack handed an installer's browser, each for one workspace (used once, as Slack's are).
    grants: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The scopes Slack says the token was granted (its x-oauth-scopes header); None sends no header.
    scopes: str | None = ",".join(BOT_SCOPES)
    # The workspace's members as users.info answers for each id (`deleted`, `is_bot` as Slack has them);
    # an id not here is user_not_found.
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The calls by (method, channel) and by (method, None) for all of a method's: what `to` looks up.
    _indexed: dict[tuple[str, str | None], list[Call]] = field(default_factory=dict)
    # Socket Mode: the app-level tokens apps.connections.open takes, and the sockets it hands out.
    socket_mode: FakeSocketMode = field(default_factory=FakeSocketMode)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.api)
        app.router.add_post("/upload/{file_id}", self.upload)
        app.router.add_get("/files/{file_id}/{name}", self.serve_file)
        app.router.add_post("/response/{user}/{channel}/{number}", self.respond)
        app.router.add_get("/socket/{number}", self.socket_mode.connect)
        return app

    def grant(self, team_id: str, team_name: str) -> str:
        """An admin of `team_id` approves the install on Slack's consent page: the code Slack sends back."""
        code = f"{next(self._numbers)}.{team_id}.{int(time.time())}"
        self.grants[code] = (team_id, team_name)
        return code

    def token_of(self, team_id: str) -> str | None:
        """The bot token Slack issued in `team_id`, if the app was installed there."""
        return next((token for token, team in self.tokens.items() if team == team_id and token != TOKEN), None)

    def share_file(self, data: bytes, name: str = "IMG_2041.png", mimetype: str = "image/png", *,
                   size: int | None = None, repeat: int = 1, chunked: bool = False,
                   url: str | None = None) -> dict[str, Any]:
        """A file shared in a DM, as the `files` of a file_share event name it (`size` as Slack says, if not its own)."""
        file_id = f"F{next(self._numbers):08d}"
        hosted = HostedFile(file_id, name, mimetype, data, repeat, chunked)
        self.files[file_id] = hosted
        address = url or f"{self.origin}/files/{file_id}/{name}"
        return {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "filetype": name.rsplit(".", 1)[-1],
                "size": len(data) * repeat if size is None else size, "mode": "hosted", "is_external": False,
                "url_private": address, "url_private_download": address + "?download=1"}

    def file_hits(self) -> int:
        """How many times any shared file was asked for (with a token or without)."""
        return sum(len(f.hits) for f in self.files.values())

    async def serve_file(self, request: web.Request) -> web.StreamResponse:
        """GET a shared file: only with the bot's token, as Slack serves url_private_download."""
        hosted = self.files.get(request.match_info["file_id"])
        if hosted is None:
            return web.Response(status=404, text="file not found", content_type="text/plain")
        hosted.hits.append(request.headers.get("Authorization"))
        if (request.headers.get("Authorization") or "").removeprefix("Bearer ") not in self.tokens:
            # Slack answers a request without the token with its sign-in page, not the file.
            return web.Response(status=302, headers={"Location": "https://slack.com/signin"})
        response = web.StreamResponse(headers={"Content-Type": hosted.mimetype})
        if not hosted.chunked:
            response.content_length = len(hosted.data) * hosted.repeat
        await response.prepare(request)
        try:
            for _ in range(hosted.repeat):
                await response.write(hosted.data)
                hosted.sent += len(hosted.data)
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            pass  # the reader stopped reading
        return response

    def fail_next_upload(self, status: int = 500) -> None:
        """Answer the next POST of a file's bytes to its upload URL with HTTP `status`."""
        self.upload_failures.append(status)

    def files_in(self, channel: str) -> list[Upload]:
        """The files shared into `channel` (uploaded and completed), oldest first."""
        return [u for u in self.uploads.values() if u.channel_id == channel]

    def fail_next(self, method: str, error: str = "ratelimited", *, status: int = 200, channel: str | None = None) -> None:
        """Answer the next call of `method` (into `channel`, if given) with `{"ok": false, "error": error}`."""
        self.failures.setdefault(method, []).append(Fault(error, status, channel=channel))

    def rate_limit_next(self, method: str, retry_after: int, *, channel: str | None = None) -> None:
        """Answer the next call of `method` (into `channel`, if given) as Slack does a rate limit: 429 with Retry-After."""
        self.failures.setdefault(method, []).append(Fault("ratelimited", 429, retry_after, channel=channel))

    def stall_next(self, method: str, seconds: float, *, channel: str | None = None) -> None:
        """Do the next call of `method` (into `channel`, if given), but answer only after `seconds`.

        Longer than the client waits, it is a time-out after which the message had still arrived.
        """
        self.failures.setdefault(method, []).append(Fault(delay=seconds, channel=channel))

    def hold_next(self, method: str, *, channel: str | None = None) -> asyncio.Event:
        """Do the next call of `method` (into `channel`, if given) but hold its answer until the event is set."""
        release = asyncio.Event()
        self.failures.setdefault(method, []).append(Fault(hold=release, channel=channel))
        return release

    def drop_next(self, method: str, *, channel: str | None = None) -> None:
        """Do the next call of `method` (into `channel`, if given), then drop the connection without answering."""
        self.failures.setdefault(method, []).append(Fault(drop=True, channel=channel))

    def lose_every(self, method: str, n: int) -> None:
        """From now on, do every `n`th call of `method`, then drop its connection without answering."""
        self.lossy[method] = n

    def to(self, method: str, **where: Any) -> list[Call]:
        """The calls of `method` whose arguments include `where`."""
        # Looked up by method and channel, not by a walk of every call: many phones polling a
        # long run (bench/alert.py) would otherwise keep this process busier than the server.
        if "channel" in where:
            calls = self._indexed.get((method, str(where["channel"])), [])
        else:
            calls = self._indexed.get((method, None), [])
        return [c for c in calls if all(c.args.get(k) == v for k, v in where.items())]

    async def wait_for(self, method: str, count: int = 1, *, timeout: float = 10.0, **where: Any) -> list[Call]:
        """Poll (bounded) until at least `count` matching calls arrived: bolt answers Slack before it works."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found := self.to(method, **where)) < count:
            if asyncio.get_running_loop().time() > deadline:
                seen = [(c.method, {k: c.args.get(k) for k in ("channel", "user", "users", "user_id")}) for c in self.calls]
                raise AssertionError(f"waited {timeout}s for {count} {method} {where}; Slack got: {seen}")
            await asyncio.sleep(0.01)
        return found

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(await request.post())
        for key in JSON_ARGS:
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        self.origin = f"{request.scheme}://{request.host}"
        if method == "oauth.v2.access":
            return web.json_response(self._exchange(request.headers.get("Authorization", ""), args))
        authorization = request.headers.get("Authorization", "")
        if not authorization:
            return web.json_response({"ok": False, "error": "not_authed"})
        token = authorization.removeprefix("Bearer ")
        if method == "apps.connections.open":  # the one method of an app-level token (xapp-...)
            return web.json_response(self._connections_open(token))
        if token not in self.tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        call = Call(method, args, token=token)
        self.calls.append(call)
        self._indexed.setdefault((method, None), []).append(call)
        if "channel" in args:
            self._indexed.setdefault((method, str(args["channel"])), []).append(call)
        answer = ANSWERS.get(method)
        fault = self._fault(method, args)
        if fault.error is not None:
            call.result = {"ok": False, "error": fault.error}
        elif answer is None:
            call.result = {"ok": False, "error": "unknown_method"}
        else:
            call.result = {"ok": True, **answer(self, {**args, "token": token} if method == "auth.test" else args)}
        # The call is done (a message posted) before a late answer or a held one: the sender
        # that gives up waiting, or dies waiting, has sent a message it never heard back about.
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.hold is not None:
            await fault.hold.wait()
        if fault.drop or self._loses(method):
            self.dropped.append(call)
            assert request.transport is not None
            request.transport.close()  # the call was done; its answer is lost with the connection
            return web.Response()
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if self.scopes is not None:
            headers["x-oauth-scopes"] = self.scopes  # Slack sends it with every answer to a token it knows
        return web.json_response(call.result, status=fault.status, headers=headers)

    def _exchange(self, authorization: str, args: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: the app's credentials (Basic auth) and a code for a bot token, as Slack answers it."""
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != expected:
            return {"ok": False, "error": "invalid_client_id" if self.client_id not in _basic(authorization)
                    else "bad_client_secret"}
        granted = self.grants.pop(str(args.get("code", "")), None)
        if granted is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, team_name = granted
        token = f"xoxb-{team_id.lower()}-{next(self._numbers):04d}-installed"
        self.tokens[token] = team_id
        self.calls.append(Call("oauth.v2.access", {"code": args.get("code")}, {"ok": True}))
        return {"ok": True, "app_id": APP_ID, "authed_user": {"id": "U0ITADMIN1"}, "scope": ",".join(BOT_SCOPES),
                "token_type": "bot", "access_token": token, "bot_user_id": BOT_USER,
                "team": {"id": team_id, "name": team_name}, "enterprise": None, "is_enterprise_install": False}

    def _connections_open(self, token: str) -> dict[str, Any]:
        """apps.connections.open: a socket URL for an app-level token, recorded as a call; refused for any other."""
        if token.startswith("xoxb-") and token in self.tokens:
            return {"ok": False, "error": "not_allowed_token_type"}
        if token not in self.socket_mode.app_tokens:
            return {"ok": False, "error": "invalid_auth"}
        call = Call("apps.connections.open", {}, {"ok": True, **self.socket_mode.open(self.origin)}, token=token)
        self.calls.append(call)
        self._indexed.setdefault((call.method, None), []).append(call)
        return call.result

    def _loses(self, method: str) -> bool:
        """Whether this call of a method set by lose_every is one whose answer is lost."""
        n = self.lossy.get(method)
        return n is not None and len(self._indexed.get((method, None), [])) % n == 0

    def _fault(self, method: str, args: dict[str, Any]) -> Fault:
        """The first fault waiting for this call, taken; else answer it well."""
        waiting = self.failures.get(method) or []
        for index, fault in enumerate(waiting):
            if fault.channel is None or fault.channel == args.get("channel"):
                return waiting.pop(index)
        return Fault()

    def shown_in(self, channel: str) -> list[dict[str, Any]]:
        """The messages in `channel` as its member sees them, oldest first (each once, however often it was sent)."""
        return [m for (c, _), m in sorted(self.messages.items(), key=lambda item: item[0][1]) if c == channel]

    async def respond(self, request: web.Request) -> web.Response:
        """POST to a payload's response_url (no token: the URL is the secret), recorded as `response_url`.

        Slack's URL names neither; this fake's does, so a test can ask whom an answer reached and where.
        """
        body = await request.json()
        args = {**body, "user": request.match_info["user"], "channel": request.match_info["channel"]}
        call = Call("response_url", args, {"ok": True})
        self.calls.append(call)
        self._indexed.setdefault(("response_url", None), []).append(call)
        self._indexed.setdefault(("response_url", args["channel"]), []).append(call)
        return web.Response(text="ok", content_type="text/plain")

    async def upload(self, request: web.Request) -> web.Response:
        """POST /upload/{file_id}: the file's bytes, as Slack's pre-signed upload URL takes them (no token)."""
        found = self.uploads.get(request.match_info["file_id"])
        if found is None:
            return web.Response(status=404, text="upload url not found", content_type="text/plain")
        data = await request.read()
        if self.upload_failures:
            return web.Response(status=self.upload_failures.pop(0), text="upload failed", content_type="text/plain")
        if len(data) != found.length:
            return web.Response(status=400, text=f"expected {found.length} bytes", content_type="text/plain")
        found.data = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    def _ts(self) -> str:
        return f"1790000000.{next(self._numbers):06d}"


def _auth_test(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """auth.test: who the token is, in the workspace that issued it."""
    team = fake.tokens.get(str(args.get("token") or ""), TEAM)
    return {"url": f"https://{team.lower()}.example.slack.com/", "team": team, "user": "safeguard",
            "team_id": team, "user_id": BOT_USER, "bot_id": "B0SAFEBOT1", "is_enterprise_install": False}


def _basic(authorization: str) -> str:
    """The credentials of a Basic Authorization header, decoded ('' if it is not one)."""
    try:
        return base64.b64decode(authorization.removeprefix("Basic ")).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def _open(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"channel": {"id": dm_channel(str(args["users"]))}}


def _post(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ts = fake._ts()
    message = {"type": "message", "user": BOT_USER, "bot_id": "B0SAFEBOT1", "ts": ts,
               "text": args.get("text", ""), "blocks": args.get("blocks", [])}
    if isinstance(args.get("metadata"), dict):
        message["metadata"] = args["metadata"]
    fake.messages[(str(args["channel"]), ts)] = message
    return {"channel": args["channel"], "ts": ts, "message": message}


def _history(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """conversations.history: newest first; metadata only when asked for, as Slack does."""
    channel = str(args.get("channel", ""))
    with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
    shown = [
        {k: v for k, v in m.items() if k != "metadata" or with_metadata}
        for m in reversed(fake.shown_in(channel))
    ]
    return {"messages": shown[: int(args.get("limit") or 100)], "has_more": False}


def _update(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    key = (str(args["channel"]), str(args["ts"]))
    if key not in fake.messages:
        return {"ok": False, "error": "message_not_found"}
    fake.messages[key].update(text=args.get("text", ""), blocks=args.get("blocks", []))
    return {"channel": args["channel"], "ts": args["ts"]}


def _ephemeral(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel, user = str(args.get("channel", "")), str(args.get("user", ""))
    if channel.startswith("D") and channel != dm_channel(user):
        return {"ok": False, "error": "user_not_in_channel"}  # someone else's DM with the bot
    return {"message_ts": fake._ts()}


def _view(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    view = dict(args.get("view") or {})
    return {"view": {**view, "id": str(args.get("view_id") or f"V{next(fake._numbers):08d}")}}


def _lookup(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    user = fake.users_by_email.get(str(args.get("email", "")).lower())
    if user is None:
        return {"ok": False, "error": "users_not_found"}
    return {"user": {"id": user, "profile": {"email": args["email"]}}}


def _user_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """users.info: the member with that id, or user_not_found."""
    user_id = str(args.get("user", ""))
    if user_id not in fake.users:
        return {"ok": False, "error": "user_not_found"}
    return {"user": {"id": user_id, "team_id": TEAM, "deleted": False, "is_bot": False, "is_app_user": False,
                     **fake.users[user_id]}}


def _upload_url(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    if not args.get("filename") or not str(args.get("length", "")).isdigit():
        return {"ok": False, "error": "invalid_arguments"}
    file_id = f"F{next(fake._numbers):08d}"
    fake.uploads[file_id] = Upload(file_id, str(args["filename"]), int(args["length"]), args.get("alt_txt"))
    return {"upload_url": f"{fake.origin}/upload/{file_id}", "file_id": file_id}


def _complete_upload(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    files = args.get("files")
    if not isinstance(files, list) or not files:
        return {"ok": False, "error": "invalid_arguments"}
    uploads = [fake.uploads.get(str(f.get("id"))) for f in files]
    if any(u is None or u.data is None for u in uploads):
        return {"ok": False, "error": "file_not_found"}
    shared = []
    for upload, entry in zip(uploads, files):
        assert upload is not None
        upload.title, upload.channel_id = str(entry.get("title") or upload.filename), args.get("channel_id")
        shared.append({"id": upload.file_id, "name": upload.filename, "title": upload.title,
                       "size": upload.length, "mimetype": "image/png" if upload.filename.endswith(".png") else ""})
    return {"files": shared}


ANSWERS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "conversations.open": _open,
    "conversations.history": _history,
    "chat.postMessage": _post,
    "chat.update": _update,
    "chat.postEphemeral": _ephemeral,
    "views.open": _view,
    "views.update": _view,
    "views.publish": _view,
    "users.lookupByEmail": _lookup,
    "users.info": _user_info,
    "files.getUploadURLExternal": _upload_url,
    "files.completeUploadExternal": _complete_upload,
}


def words_of(message: dict[str, Any]) -> str:
    """Every text object in a message's blocks (or a view's), one a line, as Slack holds them."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([message.get("blocks"), message.get("view")])
    return "\n".join(found)


def dm_channel(user: str) -> str:
    """The bot's DM channel with a user, as the fake names it: U0CFINCH01 -> D0CFINCH01."""
    return "D" + user[1:]
