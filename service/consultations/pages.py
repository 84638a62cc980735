"""HTML pages of everyday consultations: a firm or agency asks and follows its requests; staff work
the queue (open requests oldest first, with their waiting time), confirm or propose times, record
the outcome; staff keep their weekly consultation hours and exceptions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.consultations.hours import HoursService
from service.consultations.models import OPEN_STATUSES, Consultation, ConsultationStatus, ConsultationTopic
from service.consultations.schemas import ConsultationIn, ConsultationPatch, ExceptionIn, HoursBlock, TimeRange
from service.consultations.service import ConsultationService
from service.identity.principal import Principal
from service.lib.clock import SEOUL, today
from service.lib.deps import provide_service
from service.lib.errors import DomainError, FieldErrors, NotFound
from service.lib.i18n import gettext
from service.lib.pager import Pager, page_number
from service.lib.pages import FormReader, field_errors, form_action, form_values, redirect, render

PREFERRED_FIELDS = 3
ACTIONS = ("confirm", "propose", "record", "accept", "cancel", "rate")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def waiting_text(waiting: timedelta) -> str:
    """An open request's waiting time: "2일 3시간", "3시간 20분", "15분"."""
    minutes = int(waiting.total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return gettext("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return gettext("%(h)s h %(m)s min") % {"h": hours, "m": mins}
    return gettext("%(m)s min") % {"m": mins}


def hm(moment: datetime) -> str:
    """A moment's Seoul wall-clock time, e.g. the end of "2026. 12. 3.(목) 10:00 – 11:00"."""
    return moment.astimezone(SEOUL).strftime("%H:%M")


def seoul_input(moment: datetime | None) -> str:
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M") if moment else ""


def read_moment(reader: FormReader, name: str) -> datetime | None:
    raw = reader.text(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        reader.errors.add(name, "must be a date and time")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=SEOUL)


def read_times(reader: FormReader, prefix: str) -> list[TimeRange]:
    """`<prefix>_1` … `<prefix>_3` (datetime-local, Seoul) lasting `<prefix>_minutes` each."""
    minutes = reader.integer(f"{prefix}_minutes") or 60
    starts = [read_moment(reader, f"{prefix}_{i}") for i in range(1, PREFERRED_FIELDS + 1)]
    return [TimeRange(start=s, end=s + timedelta(minutes=minutes)) for s in starts if s is not None]


def form_errors(error: DomainError, prefix: str) -> dict[str, str]:
    """Field errors keyed as the form names its fields (`preferred[0]` → `preferred_1`)."""
    out: dict[str, str] = {}
    for field, message in field_errors(error).items():
        name = field
        if field.startswith(f"{prefix}["):
            name = f"{prefix}_{int(field[len(prefix) + 1 : -1]) + 1}"
        elif field == prefix:
            name = f"{prefix}_1"
        out.setdefault(name, message)
    return out


def patch_from_form(action: str, reader: FormReader) -> ConsultationPatch:
    if action == "confirm":
        start = read_moment(reader, "start")
        minutes = reader.integer("minutes") or 60
        staff_id = reader.text("staff_id")
        return ConsultationPatch(
            status="confirmed",
            start=start,
            end=start + timedelta(minutes=minutes) if start else None,
            staff_id=uuid.UUID(staff_id) if staff_id else None,
            mode=reader.text("mode"),
            place=reader.text("place"),
        )
    if action == "propose":
        return ConsultationPatch(
            status="proposed",
            proposed=read_times(reader, "proposed"),
            mode=reader.text("mode"),
            place=reader.text("place"),
        )
    if action == "record":
        return ConsultationPatch(
            status=reader.text("status"),
            notes=reader.text("notes") or "",
            outcome=reader.text("outcome") or "",
            follow_up_on=reader.day("follow_up_on"),
        )
    if action == "accept":
        return ConsultationPatch(status="confirmed", start=read_moment(reader, "start"))
    if action == "rate":
        return ConsultationPatch(rating=reader.integer("rating") or 0, rating_comment=reader.text("rating_comment"))
    return ConsultationPatch(status="cancelled")


class ConsultationPages(Controller):
    path = "/consultations"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"consultations": provide_service(ConsultationService), "hours": provide_service(HoursService)}

    @get("/")
    async def consultations_page(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        consultations: NamedDependency[ConsultationService],
    ) -> Template:
        status = request.query_params.get("status") or ""
        if status not in {s.value for s in ConsultationStatus}:
            status = ""
        pager = Pager(page_number(request.query_params.get("page")), 0, {"status": status})
        rows, total = await consultations.listing(verified_org, status or None, pager.offset, pager.per_page)
        return render(
            request,
            "consultations/list.html",
            hm=hm,
            rows=rows,
            status=status,
            statuses=[s.value for s in ConsultationStatus],
            open_statuses=OPEN_STATUSES,
            waiting_text=waiting_text,
            today=today(),
            pager=pager.with_total(total),
        )

    @get("/new")
    async def new_consultation_page(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        hours: NamedDependency[HoursService],
    ) -> Template:
        return await self._new_form(request, verified_org, hours, {"preferred_minutes": "60"}, {})

    async def _new_form(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        hours: HoursService,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        if viewer.is_staff:
            raise NotFound("Staff log consultations from the queue.")
        staff = await hours.staff_members()
        windows = await hours.windows([u.id for u in staff], today() + timedelta(days=1), 14)
        return render(
            request,
            "consultations/new.html",
            hm=hm,
            status_code=status_code,
            values=values,
            errors=errors,
            topics=[t.value for t in ConsultationTopic],
            windows=windows,
        )

    @post("/new")
    async def ask_consultation_page(
        self,
        request: Request[Any, Any, Any],
        verified_org: NamedDependency[Principal],
        consultations: NamedDependency[ConsultationService],
        hours: NamedDependency[HoursService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        errors = FieldErrors()
        reader = FormReader(form, errors)
        data = ConsultationIn(
            topic=reader.text("topic"), message=reader.text("message"), preferred=read_times(reader, "preferred")
        )

        async def ask() -> Response[Any]:
            errors.raise_if_any()
            created = await consultations.request(verified_org, data)
            return redirect(f"/consultations/{created.id}")

        async def rerender(error: DomainError) -> Response[Any]:
            return await self._new_form(
                request, verified_org, hours, form_values(form), form_errors(error, "preferred"), error.status
            )

        return await form_action(db_session, ask, rerender)

    @get("/{consultation_id:uuid}")
    async def consultation_page(
        self,
        request: Request[Any, Any, Any],
        consultation_id: FromPath[uuid.UUID],
        verified_org: NamedDependency[Principal],
        consultations: NamedDependency[ConsultationService],
        hours: NamedDependency[HoursService],
    ) -> Template:
        found = await consultations.get_for(verified_org, consultation_id)
        return await detail(request, verified_org, found, consultations, hours)

    @post("/{consultation_id:uuid}/{action:str}")
    async def act_on_consultation_page(
        self,
        request: Request[Any, Any, Any],
        consultation_id: FromPath[uuid.UUID],
        action: FromPath[str],
        verified_org: NamedDependency[Principal],
        consultations: NamedDependency[ConsultationService],
        hours: NamedDependency[HoursService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        if action not in ACTIONS:
            raise NotFound("No such action.")
        form = await request.form()
        errors = FieldErrors()
        patch = patch_from_form(action, FormReader(form, errors))

        async def act() -> Response[Any]:
            errors.raise_if_any()
            await consultations.apply(verified_org, consultation_id, patch)
            return redirect(f"/consultations/{consultation_id}")

        async def rerender(error: DomainError) -> Response[Any]:
            found = await consultations.get_for(verified_org, consultation_id)
            return await detail(
                request,
                verified_org,
                found,
                consultations,
                hours,
                status_code=error.status,
                failed=action,
                values=form_values(form),
                errors=form_errors(error, "proposed"),
            )

        return await form_action(db_session, act, rerender)


async def detail(
    request: Request[Any, Any, Any],
    viewer: Principal,
    consultation: Consultation,
    consultations: ConsultationService,
    hours: HoursService,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    staff = await hours.staff_members() if viewer.is_staff else []
    names = {u.id: u.name for u in (staff or await hours.staff_members())}
    values = extra.pop("values", None) or {
        "start": seoul_input(consultation.starts_at) or _first_preferred(consultation),
        "minutes": "60",
        "proposed_minutes": "60",
        "staff_id": str(consultation.staff_id or viewer.user_id),
        "notes": consultation.notes,
        "outcome": consultation.outcome,
        "follow_up_on": consultation.follow_up_on.isoformat() if consultation.follow_up_on else "",
        "place": consultation.place,
    }
    return render(
        request,
        "consultations/detail.html",
        hm=hm,
        status_code=status_code,
        c=consultation,
        organization=await consultations.organization_of(consultation),
        staff_members=staff,
        staff_name=names.get(consultation.staff_id) if consultation.staff_id else None,
        preferred=[_moment_pair(p) for p in consultation.preferred],
        proposed=[_moment_pair(p) for p in consultation.proposed],
        owns=viewer.owns(consultation.organization_id),
        values=values,
        failed=extra.pop("failed", ""),
        errors=extra.pop("errors", {}),
        **extra,
    )


def _moment_pair(item: dict[str, str]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"])


def _first_preferred(c: Consultation) -> str:
    return seoul_input(datetime.fromisoformat(c.preferred[0]["start"])) if c.preferred else ""


def blocks_from_form(form: FormMultiDict, errors: FieldErrors) -> list[HoursBlock]:
    """One row per weekday (`start_<d>`, `end_<d>`, `mode_<d>`, `place_<d>`); an empty row is no hours."""
    reader = FormReader(form, errors)
    blocks: list[HoursBlock] = []
    for day in range(7):
        start, end = reader.text(f"start_{day}"), reader.text(f"end_{day}")
        if not start and not end:
            continue
        times = [_clock(value, f"{name}_{day}", errors) for name, value in (("start", start), ("end", end))]
        if times[0] is not None and times[1] is not None:
            blocks.append(
                HoursBlock(
                    weekday=day,
                    start=times[0],
                    end=times[1],
                    mode=reader.text(f"mode_{day}") or "",
                    place=reader.text(f"place_{day}") or "",
                )
            )
    return blocks


def _clock(raw: str | None, field: str, errors: FieldErrors) -> Any:
    try:
        return datetime.strptime(raw or "", "%H:%M").time()
    except ValueError:
        errors.add(field, "must be a time (HH:MM)")
        return None


class ConsultationHoursPages(Controller):
    path = "/consultations/hours"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"hours": provide_service(HoursService)}

    @get("/")
    async def consultation_hours_page(
        self, request: Request[Any, Any, Any], staff: NamedDependency[Principal], hours: NamedDependency[HoursService]
    ) -> Template:
        return await hours_page(request, staff, hours)

    @post("/")
    async def save_consultation_hours_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        hours: NamedDependency[HoursService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        errors = FieldErrors()
        blocks = blocks_from_form(form, errors)

        async def save() -> Response[Any]:
            errors.raise_if_any()
            await hours.set_weekly(staff.user_id, blocks)
            return redirect("/consultations/hours")

        async def rerender(error: DomainError) -> Response[Any]:
            names = {f"blocks[{i}]": b.weekday for i, b in enumerate(blocks)}
            messages = {_row_field(k, names): v for k, v in field_errors(error).items()}
            return await hours_page(request, staff, hours, error.status, values=form_values(form), errors=messages)

        return await form_action(db_session, save, rerender)

    @post("/exceptions")
    async def add_consultation_exception_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        hours: NamedDependency[HoursService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        errors = FieldErrors()
        reader = FormReader(form, errors)
        day = reader.day("day")
        start, end = reader.text("start"), reader.text("end")
        data = ExceptionIn(
            day=day or today(),
            start=_clock(start, "start", errors) if start else None,
            end=_clock(end, "end", errors) if end else None,
            mode=reader.text("mode") if start else None,
            place=reader.text("place") or "",
            note=reader.text("note") or "",
        )
        if day is None and "day" not in [e.field for e in errors.items]:
            errors.add("day", "required")

        async def add() -> Response[Any]:
            errors.raise_if_any()
            await hours.add_exception(staff.user_id, data)
            return redirect("/consultations/hours")

        async def rerender(error: DomainError) -> Response[Any]:
            return await hours_page(
                request, staff, hours, error.status, ex_values=form_values(form), ex_errors=field_errors(error)
            )

        return await form_action(db_session, add, rerender)

    @post("/exceptions/{exception_id:uuid}/delete")
    async def remove_consultation_exception_page(
        self, exception_id: FromPath[uuid.UUID], staff: NamedDependency[Principal], hours: NamedDependency[HoursService]
    ) -> Response[Any]:
        await hours.remove_exception(staff.user_id, exception_id)
        return redirect("/consultations/hours")


def _row_field(name: str, rows: dict[str, int]) -> str:
    """`blocks[2].end` → `end_<weekday of block 2>`."""
    head, _, tail = name.partition(".")
    return f"{tail}_{rows[head]}" if head in rows and tail else name


async def hours_page(
    request: Request[Any, Any, Any], staff: Principal, hours: HoursService, status_code: int = 200, **extra: Any
) -> Template:
    weekly = await hours.weekly(staff.user_id)
    values: dict[str, Any] = {}
    for block in weekly:
        values.setdefault(f"start_{block.weekday}", block.start_time.strftime("%H:%M"))
        values.setdefault(f"end_{block.weekday}", block.end_time.strftime("%H:%M"))
        values.setdefault(f"mode_{block.weekday}", block.mode.value)
        values.setdefault(f"place_{block.weekday}", block.place)
    return render(
        request,
        "consultations/hours.html",
        hm=hm,
        status_code=status_code,
        values=extra.pop("values", values),
        errors=extra.pop("errors", {}),
        ex_values=extra.pop("ex_values", {}),
        ex_errors=extra.pop("ex_errors", {}),
        weekdays=WEEKDAYS,
        exceptions=await hours.exceptions(staff.user_id, today()),
        windows=await hours.windows([staff.user_id], today(), 14),
    )


ROUTES = [ConsultationHoursPages, ConsultationPages]
