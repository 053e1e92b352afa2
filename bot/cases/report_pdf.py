"""A gathered report as a PDF for paper and for the case file: marked OFFICIAL-SENSITIVE on every page.

fpdf2 lays it out; the font is DejaVu Sans from matplotlib's own files (a dependency already),
so any name staff type (Siân, Łukasiewicz) prints. matplotlib is only looked up, never imported:
importing it costs memory in a server that exports rarely.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.cases.report_file import MARKING, ReportFile

FONT = "DejaVu"
BODY = 10
SMALL = 8
LINE = 5


def font_dir() -> Path:
    """matplotlib's folder of TrueType fonts, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    places = list(spec.submodule_search_locations or []) if spec is not None else []
    if not places:
        raise RuntimeError("matplotlib is not installed, so the PDF has no font: reinstall Safeguard")
    return Path(places[0]) / "mpl-data" / "fonts" / "ttf"


class _Document(FPDF):
    """A4, with the marking, the school and the reference at the head and foot of every page."""

    def __init__(self, record: ReportFile) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.record = record
        fonts = font_dir()
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=20)
        self.set_margins(18, 18, 18)
        self.set_title(f"{record.reference}: safeguarding report ({MARKING})")
        self.set_author(record.school)
        self.set_creator("Safeguard")

    def header(self) -> None:
        self.set_y(8)
        self.set_font(FONT, "B", SMALL)
        self.cell(0, 4, MARKING, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", SMALL)
        self.cell(0, 4, f"{self.record.school} · {self.record.reference}", align="C",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(18)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "B", SMALL)
        self.cell(0, 4, MARKING, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", SMALL)
        self.cell(0, 4, f"{self.record.reference} · Page {self.page_no()} of {{nb}}", align="C")

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 45:
            self.add_page()  # a heading is never left alone at the foot of a page
        self.ln(3)
        self.set_font(FONT, "B", 12)
        self.multi_cell(0, 7, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", BODY)

    def para(self, text: str, *, bold: bool = False, size: int = BODY, indent: float = 0) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, LINE, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", BODY)

    def field(self, label: str, value: str) -> None:
        """`label: value`, the label in bold, the value wrapping under itself."""
        self.set_font(FONT, "B", BODY)
        self.multi_cell(0, LINE, f"{label}:", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.para(value or "(none)", indent=6)


def as_pdf(record: ReportFile) -> bytes:
    """The document, as PDF bytes."""
    pdf = _Document(record)
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 9, f"Safeguarding report {record.reference}", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.para(record.school, bold=True, size=12)
    pdf.para(f"Generated at {record.generated_at} on the authority of {record.authority}. Every time in this "
             f"document is in the school's own timezone, {record.zone}.")
    pdf.para(f"Status: {record.status}.")
    _report(pdf, record)
    _routing(pdf, record)
    pdf.heading("Screenshots")
    count = len(record.screenshots)
    pdf.para(f"{count} screenshot{'s' if count != 1 else ''} sent with the report"
             + (" (the pictures are not in this document; their sha256 digests are):" if count else "."))
    for number, digest in enumerate(record.screenshots, start=1):
        pdf.para(f"{number}. {digest}", size=SMALL, indent=6)
    pdf.heading("Decision")
    if record.decision is None:
        pdf.para("Not closed: no decision recorded yet.")
    else:
        pdf.field("Decision", record.decision)
        pdf.field("Reason", record.reason or "(no words kept)")
    pdf.heading("Chronology")
    for moment in record.entries:
        pdf.para(f"{moment.when} · {moment.what} · {moment.who}", bold=True)
        if moment.details:
            pdf.para(moment.details, indent=6)
        pdf.ln(1)
    _seal(pdf, record)
    return bytes(pdf.output())


def _report(pdf: _Document, record: ReportFile) -> None:
    pdf.heading("The report")
    pdf.field("Category", record.category)
    for line in record.about:
        label, _, value = line.partition(": ")
        pdf.field(label, value)
    if record.allegation:
        pdf.field("Handled as", "a possible allegation (KCSIE Part four)")
    pdf.field("Flagged", "; ".join(record.flags) or "nothing")
    pdf.field("Reported by", f"{record.reported_by}, at {record.reported_at}")
    pdf.heading("The answers")
    if not record.answers:
        pdf.para("(no words kept)")
    for label, answer in record.answers:
        pdf.field(label, answer)
    if record.pupils:
        pdf.heading("Pupils named")
        for pupil in record.pupils:
            pdf.para(pupil)


def _routing(pdf: _Document, record: ReportFile) -> None:
    pdf.heading("Where it was routed, and why")
    routing = record.routing
    if routing is None:
        pdf.para("Not routed.")
        return
    pdf.field("Owner (must acknowledge)", routing.owner)
    pdf.field("Informed", "; ".join(routing.informed) or "nobody")
    pdf.field("Escalation ladder", "; ".join(routing.ladder) or "none")
    pdf.field("Acknowledge by", routing.deadline)
    pdf.field("Policy", "\n".join(routing.citations) or "(none cited)")


def _seal(pdf: _Document, record: ReportFile) -> None:
    seal = record.seal
    pdf.heading("Checking this document against the log")
    chain = f"{seal.chain_words}, chain \"{seal.chain}\"" if seal.chain else "the school's own chain"
    pdf.para(f"Every event above is in Safeguard's tamper-evident log ({chain}), where each event's hash covers "
             f"the one before it. This report's last event in this document is event {seal.seq}, whose hash is:")
    pdf.para(seal.hash, bold=True, size=SMALL, indent=6)
    school = f" --school {seal.chain}" if seal.chain else ""
    pdf.para(f"To check it: run `safeguard log verify{school}`, which must say ok (the chain is intact); then "
             f"`safeguard log export{school} --report {record.reference} --format jsonl --as YOUR_ID` (with the "
             f"same --config and --database-url as Safeguard's own) and find "
             f"event {seal.seq}: its hash must be the one above. This export was itself recorded in the log "
             f"as event {record.export_seq} (it covers the log through event {seal.through}).")
