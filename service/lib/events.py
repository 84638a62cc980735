"""In-transaction domain events. Subscribers (e.g. the notify outbox) run inside the
caller's transaction, so whatever they write commits or rolls back with the change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Handler = Callable[..., Awaitable[None]]
_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if handler not in _subscribers[event]:
            _subscribers[event].append(handler)
        return handler

    return register


async def publish(session: AsyncSession, event: str, **payload: Any) -> None:
    for handler in _subscribers.get(event, []):
        await handler(session, **payload)
