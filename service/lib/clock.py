"""The one clock. Tests freeze or move it; production reads the system time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_frozen: datetime | None = None
_offset = timedelta(0)
SEOUL = ZoneInfo("Asia/Seoul")


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def today(tz: ZoneInfo = SEOUL) -> date:
    return now().astimezone(tz).date()


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (aware) or unfreeze with None."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("frozen time must be timezone-aware")
    _frozen = moment.astimezone(UTC) if moment else None


def advance(delta: timedelta) -> None:
    """Move the clock forward (frozen or not)."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


async def sleep(seconds: float) -> None:
    """Wait `seconds`. On a frozen clock the wait only moves the clock forward, so a test sees how
    long the code waited without spending that time."""
    if seconds <= 0:
        return
    if _frozen is not None:
        advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)
        return
    await asyncio.sleep(seconds)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    previous, previous_offset = _frozen, _offset
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)
        globals()["_offset"] = previous_offset
