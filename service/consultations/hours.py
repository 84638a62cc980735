"""Staff's consultation hours: a weekly pattern per staff member plus exceptions (a closed day or extra
hours), as Seoul wall-clock times. `windows` answers when a staff member receives consultations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import Role, User
from service.consultations.models import ConsultationException, ConsultationHours, ConsultationMode
from service.consultations.schemas import ExceptionIn, HoursBlock
from service.lib.clock import SEOUL
from service.lib.errors import FieldErrors, NotFound

MAX_WINDOW_DAYS = 62


@dataclass(frozen=True)
class Window:
    staff_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    mode: ConsultationMode
    place: str

    def holds(self, start: datetime, end: datetime) -> bool:
        return self.starts_at <= start and end <= self.ends_at


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=SEOUL)


def _mode(value: str | None, field: str, errors: FieldErrors) -> ConsultationMode | None:
    try:
        return ConsultationMode(value) if value else None
    except ValueError:
        errors.add(field, "must be online or in_person")
        return None


def check_blocks(blocks: list[HoursBlock]) -> None:
    errors = FieldErrors()
    for i, block in enumerate(blocks):
        if not 0 <= block.weekday <= 6:
            errors.add(f"blocks[{i}].weekday", "must be 0 (Monday) to 6 (Sunday)")
        if block.start >= block.end:
            errors.add(f"blocks[{i}].end", "must be after the start")
        if not block.mode:
            errors.add(f"blocks[{i}].mode", "required")
        else:
            _mode(block.mode, f"blocks[{i}].mode", errors)
        if len(block.place) > 300:
            errors.add(f"blocks[{i}].place", "must be at most 300 characters")
    errors.raise_if_any()


class HoursService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def staff_members(self) -> list[User]:
        rows = await self.session.scalars(
            select(User).where(User.role == Role.STAFF, User.is_active.is_(True)).order_by(User.name, User.email)
        )
        return list(rows.all())

    async def require_staff_member(self, staff_id: uuid.UUID, field: str = "staff_id") -> User:
        user = await self.session.get(User, staff_id)
        if user is None or user.role != Role.STAFF or not user.is_active:
            errors = FieldErrors()
            errors.add(field, "must be an active staff member")
            errors.raise_if_any()
        assert user is not None
        return user

    async def weekly(self, staff_id: uuid.UUID) -> list[ConsultationHours]:
        rows = await self.session.scalars(
            select(ConsultationHours)
            .where(ConsultationHours.staff_id == staff_id)
            .order_by(ConsultationHours.weekday, ConsultationHours.start_time)
        )
        return list(rows.all())

    async def set_weekly(self, staff_id: uuid.UUID, blocks: list[HoursBlock]) -> list[ConsultationHours]:
        """Replace the staff member's weekly pattern with `blocks`."""
        check_blocks(blocks)
        await self.session.execute(delete(ConsultationHours).where(ConsultationHours.staff_id == staff_id))
        rows = [
            ConsultationHours(
                staff_id=staff_id,
                weekday=b.weekday,
                start_time=b.start,
                end_time=b.end,
                mode=ConsultationMode(b.mode),
                place=b.place.strip(),
            )
            for b in blocks
        ]
        self.session.add_all(rows)
        await self.session.flush()
        return await self.weekly(staff_id)

    async def exceptions(self, staff_id: uuid.UUID, since: date) -> list[ConsultationException]:
        rows = await self.session.scalars(
            select(ConsultationException)
            .where(ConsultationException.staff_id == staff_id, ConsultationException.day >= since)
            .order_by(ConsultationException.day, ConsultationException.start_time)
        )
        return list(rows.all())

    async def add_exception(self, staff_id: uuid.UUID, data: ExceptionIn) -> ConsultationException:
        errors = FieldErrors()
        if (data.start is None) != (data.end is None):
            errors.add("end" if data.end is None else "start", "give both times, or neither for a closed day")
        elif data.start is not None and data.end is not None and data.start >= data.end:
            errors.add("end", "must be after the start")
        mode = _mode(data.mode, "mode", errors)
        if data.start is not None and mode is None and not errors:
            errors.add("mode", "required for extra hours")
        if len(data.note) > 200:
            errors.add("note", "must be at most 200 characters")
        errors.raise_if_any()
        row = ConsultationException(
            staff_id=staff_id,
            day=data.day,
            start_time=data.start,
            end_time=data.end,
            mode=mode,
            place=data.place.strip()[:300],
            note=data.note.strip(),
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def remove_exception(self, staff_id: uuid.UUID, exception_id: uuid.UUID) -> None:
        row = await self.session.get(ConsultationException, exception_id)
        if row is None or row.staff_id != staff_id:
            raise NotFound("No such exception.")
        await self.session.delete(row)
        await self.session.flush()

    async def windows(self, staff_ids: list[uuid.UUID], first: date, days: int) -> list[Window]:
        """Every staff member's consultation windows from `first` for `days` days: the weekly pattern,
        except on days with exceptions, whose extra hours replace it (a closed day has none)."""
        days = max(1, min(days, MAX_WINDOW_DAYS))
        last = first + timedelta(days=days - 1)
        weekly = await self.session.scalars(select(ConsultationHours).where(ConsultationHours.staff_id.in_(staff_ids)))
        exceptions = await self.session.scalars(
            select(ConsultationException).where(
                ConsultationException.staff_id.in_(staff_ids),
                ConsultationException.day.between(first, last),
            )
        )
        special: dict[tuple[uuid.UUID, date], list[ConsultationException]] = {}
        for e in exceptions:
            special.setdefault((e.staff_id, e.day), []).append(e)
        by_weekday: dict[tuple[uuid.UUID, int], list[ConsultationHours]] = {}
        for h in weekly:
            by_weekday.setdefault((h.staff_id, h.weekday), []).append(h)
        out: list[Window] = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            for staff_id in staff_ids:
                weekly_blocks = by_weekday.get((staff_id, day.weekday()))
                out += _day_windows(staff_id, day, special.get((staff_id, day)), weekly_blocks)
        out.sort(key=lambda w: (w.starts_at, str(w.staff_id)))
        return out

    async def within_hours(self, staff_id: uuid.UUID, start: datetime, end: datetime) -> Window | None:
        """The window holding [start, end), or None. A staff member without any published hours holds
        consultations whenever staff confirm them (None is then not a refusal: see `has_hours`)."""
        day = start.astimezone(SEOUL).date()
        for window in await self.windows([staff_id], day, 1):
            if window.holds(start, end):
                return window
        return None

    async def has_hours(self, staff_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(ConsultationHours.id).where(ConsultationHours.staff_id == staff_id).limit(1)
        )
        return found is not None


def _day_windows(
    staff_id: uuid.UUID,
    day: date,
    special: list[ConsultationException] | None,
    weekly: list[ConsultationHours] | None,
) -> list[Window]:
    if special is not None:
        return [
            Window(staff_id, _at(day, e.start_time), _at(day, e.end_time), e.mode or ConsultationMode.ONLINE, e.place)
            for e in special
            if e.start_time is not None and e.end_time is not None
        ]
    return [Window(staff_id, _at(day, h.start_time), _at(day, h.end_time), h.mode, h.place) for h in weekly or []]
