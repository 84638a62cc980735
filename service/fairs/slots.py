"""The slot grid of a fair, derived from its days, hours, breaks and slot length.

Pure: no I/O. Times are given as Asia/Seoul wall-clock ("HH:MM" on a date) and returned as
aware UTC datetimes, in time order; a slot's index is its position in that order (the
auto-scheduler's slot numbers). Within each stretch between breaks, slots are laid from the
stretch's start; a remainder shorter than a slot is left unused rather than cut short.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
# Fair days (and booking windows) lie in these years: outside them, date arithmetic near
# year 1 or 9999 overflows (a reminder 24 h before, a follow-up months after).
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True, order=True)
class Slot:
    index: int
    starts_at: datetime
    ends_at: datetime


class GridError(ValueError):
    """A fair's days cannot make a grid; `field` names the offending input (e.g. days[1].breaks[0].end)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_clock(value: object, field: str) -> time:
    if not isinstance(value, str):
        raise GridError(field, "must be a time HH:MM")
    try:
        hours, minutes = value.split(":")
        if len(hours) not in (1, 2) or len(minutes) != 2:
            raise ValueError(value)
        return time(int(hours), int(minutes))
    except ValueError:
        raise GridError(field, "must be a time HH:MM") from None


def normalize_days(days: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate and canonicalise fair days: sorted by date, "HH:MM" times, breaks sorted and inside hours.

    Raises GridError for the first problem found.
    """
    if not days:
        raise GridError("days", "at least one day is required")
    out: list[dict[str, Any]] = []
    seen: set[date] = set()
    for i, day in enumerate(days):
        where = f"days[{i}]"
        if not isinstance(day, Mapping):
            raise GridError(where, "must be an object with date, start and end")
        raw_date = day.get("date")
        try:
            the_date = raw_date if isinstance(raw_date, date) else date.fromisoformat(str(raw_date))
        except ValueError:
            raise GridError(f"{where}.date", "must be a date YYYY-MM-DD") from None
        if not FIRST_YEAR <= the_date.year <= LAST_YEAR:
            raise GridError(f"{where}.date", "must be a date between 2000 and 2100")
        if the_date in seen:
            raise GridError(f"{where}.date", "appears twice")
        seen.add(the_date)
        start = parse_clock(day.get("start"), f"{where}.start")
        end = parse_clock(day.get("end"), f"{where}.end")
        if start >= end:
            raise GridError(f"{where}.end", "must be after the start")
        breaks: list[tuple[time, time]] = []
        for j, brk in enumerate(day.get("breaks") or []):
            bwhere = f"{where}.breaks[{j}]"
            if not isinstance(brk, Mapping):
                raise GridError(bwhere, "must be an object with start and end")
            bstart = parse_clock(brk.get("start"), f"{bwhere}.start")
            bend = parse_clock(brk.get("end"), f"{bwhere}.end")
            if bstart >= bend:
                raise GridError(f"{bwhere}.end", "must be after the start")
            if bstart < start or bend > end:
                raise GridError(bwhere, "must lie within the day's hours")
            breaks.append((bstart, bend))
        breaks.sort()
        for (_, prev_end), (next_start, _) in itertools.pairwise(breaks):
            if next_start < prev_end:
                raise GridError(f"{where}.breaks", "must not overlap")
        out.append(
            {
                "date": the_date.isoformat(),
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
                "breaks": [{"start": b.strftime("%H:%M"), "end": e.strftime("%H:%M")} for b, e in breaks],
            }
        )
    out.sort(key=lambda d: str(d["date"]))
    return out


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=SEOUL).astimezone(UTC)


def build_grid(days: Sequence[Mapping[str, Any]], slot_minutes: int) -> list[Slot]:
    """Every slot of the fair in time order, UTC. Raises GridError for invalid days."""
    if slot_minutes <= 0:
        raise GridError("slot_minutes", "must be positive")
    length = timedelta(minutes=slot_minutes)
    slots: list[Slot] = []
    for day in normalize_days(days):
        the_date = date.fromisoformat(day["date"])
        cursor = _at(the_date, parse_clock(day["start"], "start"))
        day_end = _at(the_date, parse_clock(day["end"], "end"))
        stretches: list[tuple[datetime, datetime]] = []
        for brk in day["breaks"]:
            brk_start = _at(the_date, parse_clock(brk["start"], "start"))
            stretches.append((cursor, brk_start))
            cursor = _at(the_date, parse_clock(brk["end"], "end"))
        stretches.append((cursor, day_end))
        for begin, finish in stretches:
            t = begin
            while t + length <= finish:
                slots.append(Slot(len(slots), t, t + length))
                t += length
    return slots


def slot_index(grid: Iterable[Slot]) -> dict[datetime, Slot]:
    """Slots by their (UTC) start, for looking up a requested start."""
    return {slot.starts_at: slot for slot in grid}


def seoul(moment: datetime) -> datetime:
    return moment.astimezone(SEOUL)
