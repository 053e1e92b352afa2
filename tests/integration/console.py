"""A person at the console, for tests: what they type, and each message printed back to them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, App
from bot.channels.console import Console
from bot.examples import EXAMPLE_SCHOOL
from dialogs import Draft
from dialogs.state import StepId
from routing.school import School, load_school
from storage.drafts import load_draft
from tests.builders import START, Clock

SCHOOL = load_school(EXAMPLE_SCHOOL)


def console_app(sessions: async_sessionmaker[AsyncSession], clock: Clock, *, school: School = SCHOOL) -> App:
    """The application as `safeguard chat` builds it, on the example school (or `school`)."""
    return App(school, sessions, channels=(CONSOLE,), clock=clock)


class Terminal:
    """One person of the example school at the console."""

    def __init__(self, app: App, person_id: str) -> None:
        person = app.person(person_id)
        assert person is not None, person_id
        self.app = app
        self.person_id = person_id
        self.printed: list[str] = []
        self.console = Console(app, person, self.printed.append)

    async def open(self) -> list[str]:
        """Start the console; the messages it printed."""
        start = len(self.printed)
        await self.console.open()
        return self.printed[start:]

    async def type(self, text: str) -> list[str]:
        """Type one line; the messages printed in answer."""
        start = len(self.printed)
        assert await self.console.line(text)
        return self.printed[start:]

    async def step(self) -> StepId | None:
        """The question this person's unfinished report is at, read from the database."""
        async with self.app.sessions() as session:
            state = await load_draft(session, channel=CONSOLE, user_id=self.person_id)
        return None if state is None else Draft.from_dict(state).step


def text(printed: list[str]) -> str:
    """Everything printed, as one string."""
    return "\n".join(printed)
