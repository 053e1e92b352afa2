"""A gathered report as CSV (one row per chronology entry) or JSON (its skeleton and the ordered entries), UTF-8.

Times are ISO 8601 in the school's own zone, with their offset, and the zone is named (the
CSV's time column, the JSON's `timezone`). Screenshots appear as their count and sha256
digests only, never the pictures.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from zoneinfo import ZoneInfo

from bot.cases.report_chronology import Moment
from bot.cases.report_file import MARKING, ReportFile


def as_csv(record: ReportFile) -> bytes:
    """One row per chronology entry: seq, time (in the school's zone), what, who, details, the event's log hash."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("seq", f"time ({record.zone})", "what", "who", "details", "hash"))
    for moment in record.entries:
        writer.writerow((moment.seq, _iso(moment, record.zone), moment.what, moment.who, moment.details, moment.hash))
    return buffer.getvalue().encode("utf-8")


def as_json(record: ReportFile) -> bytes:
    """The report's skeleton and its ordered chronology, as one JSON object."""
    document: dict[str, object] = {
        "marking": MARKING,
        "reference": record.reference,
        "school": record.school,
        "timezone": record.zone,
        "status": record.status,
        "category": record.category,
        "about": list(record.about),
        "allegation": record.allegation,
        "flags": list(record.flags),
        "reported_by": record.reported_by,
        "reported_at": record.reported_at,
        "answers": [{"label": label, "answer": answer} for label, answer in record.answers],
        "pupils": list(record.pupils),
        "routing": asdict(record.routing) if record.routing is not None else None,
        "screenshots": {"count": len(record.screenshots), "sha256": list(record.screenshots)},
        "decision": record.decision,
        "reason": record.reason,
        "log": {"chain": record.seal.chain, "seq": record.seal.seq, "hash": record.seal.hash,
                "through": record.seal.through, "export_event": record.export_seq},
        "generated_at": record.generated_at,
        "authority": record.authority,
        "entries": [{"seq": m.seq, "at": _iso(m, record.zone), "what": m.what, "who": m.who, "details": m.details,
                     "hash": m.hash} for m in record.entries],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _iso(moment: Moment, zone: str) -> str:
    return moment.at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
