"""A fair's booking terms (mode, window, slot grid) as a booking checks them, kept per process.

A first-come booking checks the fair's rules here, in Python, on terms read once and kept; the
database function that books (`repository.BOOK_MEETING`) compares the fair's row version with
the one the terms were read at and answers `stale` when the fair changed since, so kept terms
are never trusted blindly: the booking reads them again and checks again. A refusal is only
given on terms read afresh, so a fair whose window staff just opened is not refused from memory.
"""

from __future__ import annotations

import json
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from service.fairs.models import FairMode
from service.fairs.service import BookingRuleBroken, fair_grid
from service.fairs.slots import Slot
from service.lib.errors import DomainError, ValidationFailed

KEPT_PER_ENGINE = 1024  # fairs whose terms one process keeps per database; more, and it starts over


@dataclass(frozen=True, slots=True)
class FairTerms:
    mode: FairMode
    slots: dict[datetime, Slot]
    opens_at: datetime
    closes_at: datetime
    version: str  # the fair row's xmin when read

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> FairTerms:
        mode, days, slot_minutes, opens_at, closes_at, version = row
        days = json.loads(days) if isinstance(days, str) else days
        return cls(FairMode(mode), fair_grid(days, slot_minutes)[1], opens_at, closes_at, version)

    def slot_for(self, start: datetime, moment: datetime, *, on_behalf: bool) -> Slot | DomainError:
        """The slot starting at `start` if these terms let it be booked at `moment`, else the refusal.
        Staff booking on a firm's behalf are bound by the grid only."""
        if self.mode != FairMode.FIRST_COME and not on_behalf:
            return BookingRuleBroken("mode", "This fair schedules meetings from requests; send a request instead.")
        if not on_behalf and not (self.opens_at <= moment < self.closes_at):
            return BookingRuleBroken("window", "Booking is only possible while the fair's booking window is open.")
        slot = self.slots.get(start)
        if slot is None:
            return ValidationFailed.single("start", "is not the start of a slot of this fair")
        return slot


class KeptTerms:
    """The terms this process read, per database engine (tests run many databases in one process)."""

    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary[AsyncEngine, dict[uuid.UUID, FairTerms]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, engine: AsyncEngine, fair_id: uuid.UUID) -> FairTerms | None:
        kept = self._by_engine.get(engine)
        return kept.get(fair_id) if kept is not None else None

    def keep(self, engine: AsyncEngine, fair_id: uuid.UUID, terms: FairTerms) -> None:
        kept = self._by_engine.setdefault(engine, {})
        if len(kept) >= KEPT_PER_ENGINE:
            kept.clear()
        kept[fair_id] = terms

    def forget(self, engine: AsyncEngine, fair_id: uuid.UUID) -> None:
        kept = self._by_engine.get(engine)
        if kept is not None:
            kept.pop(fair_id, None)


KEPT = KeptTerms()
