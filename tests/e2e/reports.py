"""Reports made straight through the lifecycle, for tests about what happens after Send."""

from __future__ import annotations

from bot.app import SLACK, App
from dialogs import ReportDraft
from routing.vocabulary import Category, Flag, Subject
from tests.builders import submitted

CHILD_WORDS = "She said an older boy online keeps asking her for photos and she is scared to go home."


async def submit(app: App, *, category: Category = Category.PUPIL_DISCLOSURE, reporter: str = "cfinch",
                 details: dict[str, str] | None = None, flags: frozenset[Flag] = frozenset()) -> str:
    """Submit a report as `reporter` on Slack; its reference."""
    subject = Subject.PUPIL if category in (Category.PUPIL_DISCLOSURE, Category.INAPPROPRIATE_CONTENT) else Subject.PARENT
    draft = ReportDraft(category, subject, None, flags, False,
                        details if details is not None else {"The child's words": CHILD_WORDS})
    return await submitted(app, draft, reporter=reporter, channel=SLACK)
