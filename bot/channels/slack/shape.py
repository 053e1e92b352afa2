"""What a signed Slack request must look like before bolt and the listeners read it.

bolt indexes into a payload as Slack documents it (`body["event"]["type"]`,
`body["actions"][0]["action_id"]`, `"callback_id" in body["view"]`) and so do our listeners;
a field of another type makes them raise, and bolt answers that with a 500, which Slack then
retries. Only Slack can sign a request, so this is a guard against a broken proxy or a leaked
signing secret rather than the open internet; either way such a request gets a 400.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shape:
    """The types a field may hold; for an object, its known fields; for a list or an object, each item."""

    types: tuple[type, ...]
    nullable: bool = True
    required: bool = False
    nonempty: bool = False
    fields: Mapping[str, Shape] = field(default_factory=dict)
    each: Shape | None = None
    # An id: no control characters (PostgreSQL refuses a NUL in text, and one is stored to answer an event
    # once) and at most ID_CHARS (a user id goes into conversations.open's query string).
    is_id: bool = False


# Slack's ids run to a dozen characters or so; far past that, it is not an id.
ID_CHARS = 255
TEXT = Shape((str,))
ID_TEXT = Shape((str,), is_id=True)
LABEL = Shape((dict,), fields={"text": TEXT})
MESSAGE = Shape((dict,), fields={
    "ts": TEXT, "text": TEXT, "user": TEXT, "subtype": TEXT, "bot_id": TEXT, "thread_ts": TEXT,
    "blocks": Shape((list,), each=Shape((dict,), nullable=False)),
})
EVENT = Shape((dict,), nullable=False, fields={
    "type": TEXT, "user": ID_TEXT, "channel": ID_TEXT, "text": TEXT, "subtype": TEXT, "channel_type": TEXT,
    "tab": TEXT, "bot_id": TEXT, "ts": TEXT, "thread_ts": TEXT, "team": ID_TEXT, "user_team": ID_TEXT,
    "message": MESSAGE, "previous_message": MESSAGE, "item": Shape((dict,), fields={"channel": TEXT}),
    "files": Shape((list,)),
})
ACTION = Shape((dict,), nullable=False, fields={
    "action_id": Shape((str,), nullable=False, required=True), "block_id": TEXT, "value": TEXT, "type": TEXT,
    "text": LABEL, "selected_option": Shape((dict,), fields={"value": TEXT, "text": LABEL}),
})
# view.state.values: {block_id: {action_id: {"type": ..., "value": ...}}}
INPUTS = Shape((dict,), each=Shape((dict,), nullable=False, each=Shape((dict,), nullable=False, fields={"value": TEXT})))
VIEW = Shape((dict,), nullable=False, fields={
    "id": ID_TEXT, "type": TEXT, "callback_id": TEXT, "private_metadata": TEXT, "team_id": ID_TEXT,
    "app_installed_team_id": ID_TEXT, "state": Shape((dict,), fields={"values": INPUTS}),
})
ID = Shape((dict,), fields={"id": ID_TEXT, "team_id": ID_TEXT, "enterprise_id": ID_TEXT})
BODY = Shape((dict,), nullable=False, fields={
    "type": TEXT, "token": TEXT, "team_id": ID_TEXT, "enterprise_id": ID_TEXT, "api_app_id": ID_TEXT,
    "event_id": ID_TEXT, "user_id": ID_TEXT, "channel_id": ID_TEXT, "command": TEXT, "callback_id": TEXT,
    "trigger_id": ID_TEXT,
    "response_url": TEXT,
    "event": EVENT, "actions": Shape((list,), nullable=False, nonempty=True, each=ACTION), "view": VIEW,
    "user": ID, "channel": ID, "message": MESSAGE, "state": Shape((dict,), fields={"values": INPUTS}),
    "team": Shape((dict, str), fields=ID.fields), "enterprise": Shape((dict, str), fields=ID.fields),
    "container": Shape((dict,), fields={"type": TEXT, "channel_id": ID_TEXT, "message_ts": TEXT}),
    "authorizations": Shape((list,), each=Shape((dict,), nullable=False, fields=ID.fields)),
    "response_urls": Shape((list,), each=Shape((dict,), nullable=False, fields={"response_url": TEXT})),
})


def problem(body: object) -> str | None:
    """Which field of a parsed request is not as Slack sends it (`body.actions[0].action_id`), or None."""
    stack: list[tuple[str, object, Shape]] = [("body", body, BODY)]
    while stack:
        path, value, shape = stack.pop()
        if value is None:
            if not shape.nullable:
                return f"{path} is null"
            continue
        if not isinstance(value, shape.types):
            return f"{path} is {type(value).__name__}, not {' or '.join(t.__name__ for t in shape.types)}"
        if shape.is_id and isinstance(value, str) and not (value.isprintable() and len(value) <= ID_CHARS):
            return f"{path} is not an id (a control character, or over {ID_CHARS} characters)"
        items: list[tuple[str, object]] = []
        if isinstance(value, list):
            if shape.nonempty and not value:
                return f"{path} is empty"
            items = [(f"{path}[{n}]", item) for n, item in enumerate(value)]
        elif isinstance(value, dict):
            missing = [name for name, inner in shape.fields.items() if inner.required and name not in value]
            if missing:
                return f"{path}.{missing[0]} is missing"
            stack += [(f"{path}.{name}", value[name], inner) for name, inner in shape.fields.items() if name in value]
            # A key is the sender's text: escaped, since it is logged and answered (it may be a lone surrogate).
            items = [(f"{path}.{json.dumps(key)[1:-1]}", item) for key, item in value.items()]
        if shape.each is not None:
            stack += [(where, item, shape.each) for where, item in items]
    return None
