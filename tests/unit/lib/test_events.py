"""Domain events: dispatch on the event's own class, with the settings the session carries."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings, load_settings
from service.db.engine import SETTINGS_KEY
from service.lib.events import DomainEvent, publish, subscribe, unsubscribe


@dataclass(frozen=True)
class Happened(DomainEvent):
    what: str


@dataclass(frozen=True)
class HappenedAgain(Happened):
    pass


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"DATA_DIR": str(tmp_path), "BASE_URL": "http://events.example.kr"})


class TestPublish:
    async def test_handlers_of_the_event_class_run_in_order_with_the_session_settings(self, settings):
        seen: list[tuple[str, str, str]] = []

        async def first(session: AsyncSession, event: Happened, settings: Settings) -> None:
            seen.append(("first", event.what, settings.app.base_url))

        async def second(session: AsyncSession, event: Happened, settings: Settings) -> None:
            seen.append(("second", event.what, settings.app.base_url))

        subscribe(Happened)(first)
        subscribe(Happened, HappenedAgain)(second)
        subscribe(Happened)(first)  # registering twice runs it once
        try:
            session = AsyncSession(info={SETTINGS_KEY: settings})
            await publish(session, Happened("booked"))
            await publish(session, HappenedAgain("moved"))  # a subclass is its own event
        finally:
            unsubscribe(Happened, first)
            unsubscribe(Happened, second)
            unsubscribe(HappenedAgain, second)
        base = "http://events.example.kr"
        assert seen == [("first", "booked", base), ("second", "booked", base), ("second", "moved", base)]

    async def test_a_session_without_settings_cannot_publish(self):
        with pytest.raises(LookupError, match="make_sessionmaker"):
            await publish(AsyncSession(), Happened("booked"))

    def test_events_are_frozen(self):
        with pytest.raises(FrozenInstanceError):
            Happened("booked").what = "moved"  # type: ignore[misc]
