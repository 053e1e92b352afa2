"""Every name Slack and Safeguard share: events, the command, the shortcut, action and view ids.

manifest/slack/manifest.yaml declares the same names; tests/e2e/test_manifest.py holds the two together.
"""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/report"
ADD_COMMAND = "/add"  # /add SG-2026-0042: the reporter adds something to their report (bot.cases.follow_up)
SHORTCUT = "report_concern"
EVENTS_PATH = "/slack/events"


class ActionId(StrEnum):
    """The action_id of every button and menu Safeguard puts in a message or view."""

    START = "sg_start"  # App Home: "Report a concern"
    CHOICE = "sg_choice"  # a dialog choice button; sent as sg_choice_<n> (unique within its block)
    PERSON = "sg_person"  # the colleague menu
    ACKNOWLEDGE = "sg_report_acknowledge"
    NOTE = "sg_report_note"
    RECORD_ACTION = "sg_report_record_action"
    VIEW = "sg_report_view"
    LADO = "sg_report_lado"  # LADO consulted (KCSIE Part four)
    REASSIGN = "sg_report_reassign"  # opens the reassign modal
    REOPEN = "sg_report_reopen"  # opens the reopen modal
    CASES_STATE = "sg_cases_state"  # App Home: the case list's state menu
    CASES_CATEGORY = "sg_cases_category"  # App Home: the case list's category menu
    CASES_DATE = "sg_cases_date"  # App Home: the case list's date menu
    CASES_CHILD = "sg_cases_child"  # App Home: the case list's child box (sent on enter)
    HISTORY = "sg_report_history"  # Child's history (the DSL and deputies)
    SCREENSHOTS = "sg_report_screenshots"  # the report's screenshots, uploaded to the presser's own DM
    ASK = "sg_report_ask"  # Ask the reporter: a modal for the question
    ANSWER = "sg_report_answer"  # the reporter's Answer (value: REF#question): a modal for the answer
    ADD = "sg_report_add"  # the reporter's "I have something to add": a modal for it
    EXPORT = "sg_report_export"  # a closed report's PDF, uploaded to the presser's own DM
    # An approval request's notice (bot.cases.requests); value: the request's reference.
    REQUEST_PASS = "sg_request_pass"
    REQUEST_APPROVE = "sg_request_approve"  # opens the reasons modal
    REQUEST_REFUSE = "sg_request_refuse"  # opens the reasons modal
    REQUEST_DONE = "sg_request_done"


# An alert's ReportButton.action -> the button's action_id.
REPORT_ACTIONS: dict[str, ActionId] = {
    "acknowledge": ActionId.ACKNOWLEDGE,
    "note": ActionId.NOTE,
    "record_action": ActionId.RECORD_ACTION,
    "view": ActionId.VIEW,
    "lado": ActionId.LADO,
    "reassign": ActionId.REASSIGN,
    "reopen": ActionId.REOPEN,
    "history": ActionId.HISTORY,
    "screenshots": ActionId.SCREENSHOTS,
    "ask": ActionId.ASK,
    "answer": ActionId.ANSWER,
    "add": ActionId.ADD,
    "export": ActionId.EXPORT,
    "request_pass": ActionId.REQUEST_PASS,
    "request_approve": ActionId.REQUEST_APPROVE,
    "request_refuse": ActionId.REQUEST_REFUSE,
    "request_done": ActionId.REQUEST_DONE,
}
CHOICE_PATTERN = rf"^{ActionId.CHOICE}_\d+$"


class CallbackId(StrEnum):
    """The callback_id of each modal Safeguard opens."""

    NOTE = "sg_note"  # Add note / Record action
    REPORT = "sg_report"  # View log (no submit)
    REASSIGN = "sg_reassign"  # Reassign: who, and why
    REOPEN = "sg_reopen"  # Reopen: why
    FOLLOW_UP = "sg_follow_up"  # a question to the reporter, their answer, or what they add
    REQUEST_REASONS = "sg_request_reasons"  # Approve or Refuse a request: the reasons


# The input block and element of the note modal.
NOTE_BLOCK = "sg_note_text"
NOTE_INPUT = "text"

# The input block and element of the follow-up modal.
FOLLOW_UP_BLOCK = "sg_follow_up_text"
FOLLOW_UP_INPUT = "text"

# The input block and element of the request reasons modal.
REQUEST_REASONS_BLOCK = "sg_request_reasons_text"
REQUEST_REASONS_INPUT = "text"

# The blocks and elements of the reassign and reopen modals, and the App Home's case filter.
PERSON_BLOCK = "sg_reassign_person"
PERSON_INPUT = "person"
REASON_BLOCK = "sg_reason"
REASON_INPUT = "reason"
CASES_FILTER_BLOCK = "sg_cases_filter"
CASES_CHILD_BLOCK = "sg_cases_child"
