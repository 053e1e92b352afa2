"""Export in Teams: a closed report's PDF as a file in the 1:1 chat of the person who pressed it, if they may export it."""

from __future__ import annotations

import base64
import io

from pypdf import PdfReader

from bot.app import TEAMS
from bot.cases import lifecycle
from dialogs import ReportDraft
from routing.vocabulary import Category, Subject
from storage.log import events_for, verify
from tests.builders import submitted
from tests.teams.rig import Rig

WORDS = "She said a made-up older boy keeps messaging her."
NOTE = "Made-up note: spoke to her mother."
REASON = "Made-up reason: handled with the family and the class teacher."
ELSEWHERE = "A made-up post by Quentin Marlowe-Tarrant about the school gates."


async def test_export_sends_the_pdf_only_into_the_dsls_own_chat(rig: Rig) -> None:
    dsl, head = rig.user("smorgan"), rig.user("jellis")
    for user in (dsl, head):
        await user.installs()
    reference = await submitted(rig.app, ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL,
                                                     details={"The child's words": WORDS}), reporter="cfinch",
                                channel=TEAMS)  # the DSL's alone
    await submitted(rig.app, ReportDraft(Category.MISUSE, Subject.PARENT, details={"What happened": ELSEWHERE}),
                    reporter="cfinch", channel=TEAMS)  # the headteacher's
    await rig.teams.outbox.deliver()
    await rig.fake.wait_in(dsl.conversation["id"], reference)
    assert (await lifecycle.acknowledge(rig.app, "smorgan", reference)).changed
    assert (await lifecycle.add_note(rig.app, "smorgan", reference, NOTE)).changed
    assert (await lifecycle.close(rig.app, "smorgan", reference, "handled_in_school", REASON)).changed
    await rig.teams.after_acknowledge(reference)  # as Close does: every alert of it updated in place
    updated = await rig.fake.wait_for(lambda s: s.kind == "update" and s.conversation_id == dsl.conversation["id"]
                                      and "Closed by" in s.text())
    export = updated.action("Export")

    shown = await dsl.answers(export)
    assert f"{reference} exported as {reference}.pdf, for you only" in "\n".join(s.text() for s in shown)
    files = [a for sent in shown for a in sent.activity.get("attachments") or [] if a["contentType"] == "application/pdf"]
    assert [f["name"] for f in files] == [f"{reference}.pdf"]
    assert {sent.conversation_id for sent in shown} == {dsl.conversation["id"]}
    # What the chat list shows of it: the reference and "export", nothing more.
    assert [s.activity.get("summary") for s in shown if any(a["contentType"] == "application/pdf"
                                                              for a in s.activity.get("attachments") or [])] == [
        f"Safeguard: the export you asked for ({reference})"]
    data = base64.b64decode(files[0]["contentUrl"].split(",", 1)[1])
    words = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
    for expected in (reference, "OFFICIAL-SENSITIVE", WORDS, NOTE, "Handled in school", REASON):
        assert expected in words, expected
    assert "Marlowe-Tarrant" not in words

    # The headteacher, not sent it, pressing the same button: refused in one line, no file.
    refused = await head.answers(export)
    assert "You can't export " + reference + ": it was not sent to you" in "\n".join(s.text() for s in refused)
    assert not [a for s in refused for a in s.activity.get("attachments") or [] if a["contentType"] == "application/pdf"]
    async with rig.app.sessions() as session:
        events = await events_for(session, reference)
        assert (await verify(session)).ok
    assert [(e.kind, e.actor) for e in events if e.kind in ("exported", "refused")] == [
        ("exported", "smorgan"), ("refused", "jellis")]
