"""In-transaction domain events. Subscribers (e.g. the notify outbox) run inside the
caller's transaction, so whatever they write commits or rolls back with the change."""

from __future__ import annotations

import importlib
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


def unsubscribe(event: str, handler: Handler) -> None:
    """Remove a handler (tests that listen for a moment)."""
    if handler in _subscribers.get(event, []):
        _subscribers[event].remove(handler)


_loaded = False
DOMAINS_WITH_SUBSCRIBERS = ("notify", "matching", "fairs", "contracts", "reports", "registry", "needs")


def load_subscribers() -> None:
    """Import every `service.<domain>.subscribers` module once, registering its handlers."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for domain in DOMAINS_WITH_SUBSCRIBERS:
        try:
            importlib.import_module(f"service.{domain}.subscribers")
        except ModuleNotFoundError as exc:
            if exc.name != f"service.{domain}.subscribers":
                raise


async def publish(session: AsyncSession, event: str, **payload: Any) -> None:
    load_subscribers()
    for handler in _subscribers.get(event, []):
        await handler(session, **payload)
