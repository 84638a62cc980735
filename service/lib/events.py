"""In-transaction domain events.

Each publishing domain declares its events in `service/<domain>/events.py` as frozen dataclasses
deriving from `DomainEvent`. `publish(session, event)` runs the handlers subscribed to the event's
own class (a handler of a base class is not called for its subclasses), in the order they were
subscribed, inside the caller's transaction: whatever they write commits or rolls back with the change.
Each handler receives the settings the session was made with (see `session_settings`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.db.engine import session_settings
from service.domains import domain_modules


@dataclass(frozen=True)
class DomainEvent:
    """Base of every domain event (a frozen dataclass naming what happened)."""


EventT = TypeVar("EventT", bound=DomainEvent)
Handler: TypeAlias = Callable[[AsyncSession, EventT, Settings], Awaitable[None]]

_subscribers: dict[type[DomainEvent], list[Handler[Any]]] = defaultdict(list)


def subscribe(*event_types: type[EventT]) -> Callable[[Handler[EventT]], Handler[EventT]]:
    """Register the decorated handler for each of `event_types`; it must accept all of them
    (type its event as their common base)."""

    def register(handler: Handler[EventT]) -> Handler[EventT]:
        for event_type in event_types:
            if handler not in _subscribers[event_type]:
                _subscribers[event_type].append(handler)
        return handler

    return register


def unsubscribe(event_type: type[EventT], handler: Handler[EventT]) -> None:
    """Remove a handler (tests that listen for a moment)."""
    if handler in _subscribers.get(event_type, []):
        _subscribers[event_type].remove(handler)


_loaded = False


def load_subscribers() -> None:
    """Import every domain's `subscribers` module once, in dependency order, registering its handlers."""
    global _loaded
    if not _loaded:
        _loaded = True
        domain_modules("subscribers")


async def publish(session: AsyncSession, event: DomainEvent) -> None:
    """Run the handlers of `event`'s class inside `session`'s transaction, passing them the
    session's settings; raises LookupError for a session made without settings."""
    load_subscribers()
    settings = session_settings(session)
    for handler in list(_subscribers.get(type(event), [])):
        await handler(session, event, settings)
