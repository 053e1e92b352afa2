"""Reading a pupil roster exported from the school's MIS (CSV): which columns are which, and what is wrong.

A problem names its line and column and never echoes a pupil's name or id: the message may
end up in a terminal's scrollback or a ticket.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from routing.yamlfields import InputError
from storage.pupils import RosterRow

# Headers as MIS exports spell them (SIMS, Arbor, Bromcom, ...), compared without case or punctuation.
ID_HEADERS = ("id", "upn", "admission number", "adno", "adm no", "mis id", "pupil id", "student id")
NAME_HEADERS = ("name", "full name", "pupil name", "student name")
FORENAMES = ("legal forename", "forename", "first name", "preferred forename", "given name")
SURNAMES = ("legal surname", "surname", "last name", "family name", "preferred surname")
YEAR_HEADERS = ("year group", "year", "class", "reg group", "registration group", "form", "tutor group")
MAX_FIELD = 200


def _key(header: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in header.casefold()).split())


def _find(headers: Sequence[str], wanted: Sequence[str]) -> int | None:
    keys = [_key(h) for h in headers]
    return next((keys.index(w) for w in wanted if w in keys), None)


def read_roster(data: bytes, source: str) -> list[RosterRow]:
    """The pupils in a roster file's bytes; an InputError naming the line (and column) of the first problem."""
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte order mark
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(f"{source}: line {line}, column {column}: not UTF-8 text; save the roster as "
                         "'CSV UTF-8' and import it again (nothing was imported)") from None
    if "\x00" in text:
        raise InputError(f"{source}: line {text.count(chr(10), 0, text.index(chr(0))) + 1}: not a CSV file "
                         "(it holds binary data); export the roster as CSV (nothing was imported)")
    first = text.split("\n", 1)[0]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"{source}: line {reader.line_num}: not readable as CSV ({exc}) (nothing was imported)") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputError(f"{source}: line 1: no header row; the first line must name the columns "
                         "(an id, a name and a year group or class) (nothing was imported)")
    header = rows[0]
    columns = _columns(header, source)
    found: list[RosterRow] = []
    first_line: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line (often the last)
        if len(row) != len(header):
            raise InputError(f"{source}: line {number}: {len(row)} column(s) where the header has {len(header)} "
                             "(nothing was imported)")
        values = {}
        for field, index in columns.items():
            value = " ".join(row[index].split()) if index is not None else ""
            if len(value) > MAX_FIELD:
                raise InputError(f"{source}: line {number}, column {header[index or 0]!r}: longer than {MAX_FIELD} "
                                 "characters (nothing was imported)")
            values[field] = value
        name = values["name"] or " ".join(filter(None, (values["forename"], values["surname"])))
        for field, value in (("id", values["id"]), ("name", name)):
            if not value:
                index = columns[field] if field == "id" or columns["name"] is not None else columns["forename"]
                raise InputError(f"{source}: line {number}, column {header[index or 0]!r}: empty; every pupil needs "
                                 f"{'an id' if field == 'id' else 'a name'} (nothing was imported)")
        if values["id"] in first_line:
            raise InputError(f"{source}: line {number}, column {header[columns['id'] or 0]!r}: the same id as line "
                             f"{first_line[values['id']]}; each pupil's id must be unique (nothing was imported)")
        first_line[values["id"]] = number
        found.append(RosterRow(values["id"], name, values["year"]))
    return found


def _columns(header: Sequence[str], source: str) -> dict[str, int | None]:
    """Which column holds what; an InputError naming what is missing."""
    columns = {"id": _find(header, ID_HEADERS), "name": _find(header, NAME_HEADERS),
               "forename": _find(header, FORENAMES), "surname": _find(header, SURNAMES),
               "year": _find(header, YEAR_HEADERS)}
    missing = []
    if columns["id"] is None:
        missing.append("an id (" + " / ".join(ID_HEADERS[:4]) + ")")
    if columns["name"] is None and (columns["forename"] is None or columns["surname"] is None):
        missing.append("a name (name, or forename and surname)")
    if columns["year"] is None:
        missing.append("a year group or class (" + " / ".join(YEAR_HEADERS[:4]) + ")")
    if missing:
        # The "header" is not echoed: a file without one would show a pupil's name and id here.
        raise InputError(f"{source}: line 1: no column for {'; '.join(missing)}; the first line must name the "
                         "columns (nothing was imported)")
    return columns
