"""JSON API of everyday consultations (일상상담) and staff's consultation hours."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from service.consultations.hours import HoursService
from service.consultations.models import ConsultationException
from service.consultations.schemas import (
    ConsultationIn,
    ConsultationOut,
    ConsultationPatch,
    ExceptionIn,
    ExceptionOut,
    HoursBlockOut,
    HoursIn,
    WindowOut,
    consultation_out,
)
from service.consultations.service import ConsultationService, QueueRow
from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.deps import provide_service
from service.lib.pagination import Page, check_page


def row_out(row: QueueRow, *, staff: bool) -> ConsultationOut:
    out = consultation_out(row.consultation, staff=staff)
    out.organization_name = row.organization.name
    out.waiting_minutes = int(row.waiting / timedelta(minutes=1)) if row.waiting else None
    return out


def exception_out(e: ConsultationException) -> ExceptionOut:
    return ExceptionOut(
        id=e.id,
        day=e.day,
        start=e.start_time,
        end=e.end_time,
        mode=e.mode.value if e.mode else None,
        place=e.place,
        note=e.note,
    )


class ConsultationController(Controller):
    path = "/api/v1/consultations"
    tags = ["consultations"]
    dependencies = {"consultations": provide_service(ConsultationService)}

    @post("/")
    async def request_consultation(
        self,
        data: JSONBody[ConsultationIn],
        verified_org: NamedDependency[Principal],
        consultations: NamedDependency[ConsultationService],
    ) -> ConsultationOut:
        """A verified firm or agency asks for a consultation: `topic` (procedure, certification, bidding,
        product_price, other), `message` (≤ 2,000 characters) and 1–5 future `preferred` times. Staff log
        one already held by phone or at the desk: `organization_id`, `topic`, `message`, past `start` and
        `end`, optional `mode`, `place`, `notes`, `outcome`, `follow_up_on` (201, status held)."""
        return consultation_out(await consultations.request(verified_org, data), staff=verified_org.is_staff)

    @get("/")
    async def list_consultations(
        self,
        viewer: NamedDependency[Principal],
        consultations: NamedDependency[ConsultationService],
        status: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[ConsultationOut]:
        """Staff: every consultation, open requests first and oldest first (the queue, with
        `waiting_minutes`); a firm or agency: its own, newest first."""
        offset, limit = check_page(page, page_size)
        rows, total = await consultations.listing(viewer, status, offset, limit)
        items = [row_out(row, staff=viewer.is_staff) for row in rows]
        return Page(items=items, total=total, page=page, page_size=page_size)

    @get("/{consultation_id:uuid}")
    async def get_consultation(
        self,
        consultation_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        consultations: NamedDependency[ConsultationService],
    ) -> ConsultationOut:
        """One consultation (staff's notes and outcome for staff only)."""
        found = await consultations.get_for(viewer, consultation_id)
        return consultation_out(found, staff=viewer.is_staff)

    @patch("/{consultation_id:uuid}")
    async def change_consultation(
        self,
        consultation_id: FromPath[uuid.UUID],
        data: JSONBody[ConsultationPatch],
        viewer: NamedDependency[Principal],
        consultations: NamedDependency[ConsultationService],
    ) -> ConsultationOut:
        """Staff confirm a time (`status: confirmed`, `start`, `end`, `staff_id?`, `mode?`, `place?`; 409
        `staff_busy` when the staff member is in another consultation then), propose times (`status:
        proposed`, `proposed`), record `held`/`no_show`, `notes`, `outcome`, `follow_up_on`. The requester
        accepts a proposed time (`status: confirmed`, `start`), cancels (`status: cancelled`) or rates a
        held one (`rating` 1–5, `rating_comment`)."""
        changed = await consultations.apply(viewer, consultation_id, data)
        return consultation_out(changed, staff=viewer.is_staff)


class ConsultationHoursController(Controller):
    path = "/api/v1/consultation-hours"
    tags = ["consultations"]
    dependencies = {"hours": provide_service(HoursService)}

    @get("/")
    async def list_consultation_windows(
        self,
        viewer: NamedDependency[Principal],
        hours: NamedDependency[HoursService],
        start: FromQuery[date | None] = None,
        days: FromQuery[int] = 14,
    ) -> list[WindowOut]:
        """When staff receive consultations, from `start` (today) for `days` (≤ 62) days."""
        staff_ids = [u.id for u in await hours.staff_members()]
        windows = await hours.windows(staff_ids, start or today(), days)
        return [
            WindowOut(staff_id=w.staff_id, start=w.starts_at, end=w.ends_at, mode=w.mode.value, place=w.place)
            for w in windows
        ]

    @get("/me")
    async def my_consultation_hours(
        self, staff: NamedDependency[Principal], hours: NamedDependency[HoursService]
    ) -> list[HoursBlockOut]:
        """The calling staff member's weekly pattern."""
        return [
            HoursBlockOut(weekday=h.weekday, start=h.start_time, end=h.end_time, mode=h.mode.value, place=h.place)
            for h in await hours.weekly(staff.user_id)
        ]

    @put("/me")
    async def set_my_consultation_hours(
        self, data: JSONBody[HoursIn], staff: NamedDependency[Principal], hours: NamedDependency[HoursService]
    ) -> list[HoursBlockOut]:
        """Replace the calling staff member's weekly pattern (`blocks`: weekday 0 = Monday, start, end,
        mode online/in_person, place)."""
        rows = await hours.set_weekly(staff.user_id, data.blocks)
        return [
            HoursBlockOut(weekday=h.weekday, start=h.start_time, end=h.end_time, mode=h.mode.value, place=h.place)
            for h in rows
        ]

    @get("/me/exceptions")
    async def my_consultation_exceptions(
        self, staff: NamedDependency[Principal], hours: NamedDependency[HoursService]
    ) -> list[ExceptionOut]:
        """The calling staff member's exceptions from today on."""
        return [exception_out(e) for e in await hours.exceptions(staff.user_id, today())]

    @post("/me/exceptions")
    async def add_my_consultation_exception(
        self, data: JSONBody[ExceptionIn], staff: NamedDependency[Principal], hours: NamedDependency[HoursService]
    ) -> ExceptionOut:
        """A day off the weekly pattern: closed (no times) or extra hours (start, end, mode)."""
        return exception_out(await hours.add_exception(staff.user_id, data))

    @delete("/me/exceptions/{exception_id:uuid}", status_code=204)
    async def remove_my_consultation_exception(
        self, exception_id: FromPath[uuid.UUID], staff: NamedDependency[Principal], hours: NamedDependency[HoursService]
    ) -> None:
        await hours.remove_exception(staff.user_id, exception_id)


ROUTES = [ConsultationController, ConsultationHoursController]
