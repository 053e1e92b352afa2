"""The guided report conversation as a platform-free state machine (issue 3)."""

from dialogs.flow import Cancelled, Outcome, Submitted, Turn, handle, resume, start
from dialogs.idle import expired, is_expired, mark_reminded, needs_reminder, reminder
from dialogs.prompts import Choice, InputKind, Reply, Tone, sent
from dialogs.report import Colleague, NamedPupil, Pupil, PupilRole, ReportDraft
from dialogs.state import Draft, DraftError

__all__ = [
    "Cancelled", "Choice", "Colleague", "Draft", "DraftError", "InputKind", "NamedPupil", "Outcome", "Pupil",
    "PupilRole", "Reply", "ReportDraft",
    "Submitted", "Tone", "Turn", "expired", "handle", "is_expired", "mark_reminded", "needs_reminder",
    "reminder", "resume", "sent", "start",
]
