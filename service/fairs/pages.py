"""HTML pages of fairs: staff setup and the printable grid, the firm's booking page (htmx),
each participant's agenda with room links, and the agency's request inbox."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.picker import parse_ids
from service.config import Settings
from service.fairs.api import BOOKING, FAIRS, MEETING_REQUESTS, invite_response
from service.fairs.booking import BookingService
from service.fairs.models import Fair, FairMode, Meeting, MeetingOutcome, MeetingRating
from service.fairs.requests import RequestService
from service.fairs.schemas import BreakIn, DayIn, FairIn, FairPatch
from service.fairs.service import BookingRuleBroken, FairService, grid_of
from service.fairs.slots import SEOUL, Slot, seoul
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import DomainError, FieldErrors, NotFound, ValidationFailed
from service.lib.i18n import current_locale, format_slot, format_time_range
from service.lib.i18n import gettext as _
from service.lib.pages import FormReader, field_errors, form_action, form_values, redirect, render
from service.registry.models import Organization


def _label(slot: Slot) -> str:
    return format_slot(slot.starts_at)


def _label_of(iso: str) -> str:
    return format_slot(datetime.fromisoformat(iso))


def _uuid_or_none(raw: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def _form_uuid(raw: str | None, errors: FieldErrors, name: str) -> uuid.UUID | None:
    """An id sent by a form; a missing or malformed one is a field error (422), never a ValueError (500)."""
    if not raw:
        errors.add(name, "is required")
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        errors.add(name, "is not a valid id")
        return None


def _decision(word: str) -> bool:
    """accept → True, decline → False; an unknown word must not count as a decline (404)."""
    accept = {"accept": True, "decline": False}.get(word)
    if accept is None:
        raise NotFound("No such decision.")
    return accept


def _nav(fair: Fair | None, principal: Principal) -> list[dict[str, str]]:
    items = [{"href": "/fairs", "label": _("Fairs")}]
    if fair is None:
        return items
    base = f"/fairs/{fair.id}"
    if principal.is_staff:
        items += [{"href": base, "label": _("Fair setup")}, {"href": f"{base}/grid", "label": _("Meeting grid")}]
    elif principal.is_firm:
        label = _("Book meetings") if fair.mode == FairMode.FIRST_COME else _("Request meetings")
        items.append({"href": f"{base}/book", "label": label})
    if fair.mode == FairMode.REQUESTS and principal.is_agency:
        items.append({"href": f"{base}/requests", "label": _("Request inbox")})
    items.append({"href": f"{base}/agenda", "label": _("All meetings") if principal.is_staff else _("My agenda")})
    return items


def _local(raw: str | None, errors: FieldErrors, name: str) -> datetime | None:
    if not raw:
        errors.add(name, "is required")
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        errors.add(name, "must be a date and time")
        return None
    return value.replace(tzinfo=SEOUL) if value.tzinfo is None else value


def _fair_form(form: Any) -> tuple[dict[str, Any], FieldErrors]:
    """The setup form: same hours (and optional break) on each listed date."""
    errors = FieldErrors()
    reader = FormReader(form, errors)
    dates = [d.strip() for d in (reader.text("dates") or "").replace("\n", ",").split(",") if d.strip()]
    if not dates:
        errors.add("dates", "is required")
    breaks: list[BreakIn] = []
    if reader.text("break_start") and reader.text("break_end"):
        breaks = [BreakIn(start=reader.text("break_start") or "", end=reader.text("break_end") or "")]
    days = [
        DayIn(date=d, start=reader.text("start") or "", end=reader.text("end") or "", breaks=list(breaks))
        for d in dates
    ]
    values = {
        "name": reader.text("name") or "",
        "description": reader.text("description") or "",
        "mode": reader.text("mode") or "first_come",
        "days": days,
        "slot_minutes": reader.integer("slot_minutes") or 0,
        "booking_opens_at": _local(reader.text("booking_opens_at"), errors, "booking_opens_at"),
        "booking_closes_at": _local(reader.text("booking_closes_at"), errors, "booking_closes_at"),
        "max_meetings_per_firm": reader.integer("max_meetings_per_firm"),
        "room_url_template": reader.text("room_url_template"),
    }
    if values["mode"] not in ("first_come", "requests"):
        errors.add("mode", "is not a mode")
    return values, errors


def _form_errors(exc: DomainError) -> dict[str, str]:
    """Errors keyed by the setup form's fields (days[0].end → end, days[1].date → dates...)."""
    out: dict[str, str] = {}
    for raw, message in field_errors(exc).items():
        name = raw
        match = re.fullmatch(r"days\[\d+\]\.(\w+)(.*)", raw)
        if match:
            part, rest = match.groups()
            name = {"date": "dates", "breaks": "break_end" if rest.endswith("end") else "break_start"}.get(part, part)
        out.setdefault(name, message)
    return out


def _fair_form_values(fair: Fair) -> dict[str, Any]:
    first = fair.days[0] if fair.days else {}
    brk = (first.get("breaks") or [{}])[0] if first else {}
    return {
        "name": fair.name,
        "description": fair.description,
        "mode": str(fair.mode),
        "dates": ", ".join(d["date"] for d in fair.days),
        "start": first.get("start", ""),
        "end": first.get("end", ""),
        "break_start": brk.get("start", ""),
        "break_end": brk.get("end", ""),
        "slot_minutes": fair.slot_minutes,
        "booking_opens_at": seoul(fair.booking_opens_at).strftime("%Y-%m-%dT%H:%M"),
        "booking_closes_at": seoul(fair.booking_closes_at).strftime("%Y-%m-%dT%H:%M"),
        "max_meetings_per_firm": fair.max_meetings_per_firm or "",
        "room_url_template": fair.room_url_template or "",
    }


def _form_uuids(raws: list[Any], errors: FieldErrors, name: str) -> list[uuid.UUID]:
    """The ids ticked in a form (blank ticks skipped); a malformed one is a field error."""
    ids: list[uuid.UUID] = []
    for raw in raws:
        if str(raw):
            picked = _form_uuid(str(raw), errors, name)
            ids += [picked] if picked else []
    return ids


def _ticked_starts(form: Any, errors: FieldErrors) -> list[datetime]:
    """The slot starts ticked on the unavailability form, in Seoul time when they carry no zone."""
    starts: list[datetime] = []
    for i, raw in enumerate(FormReader(form, errors).many("start") or []):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            errors.add(f"starts[{i}]", "is not the start of a slot of this fair")
            continue
        starts.append(value.replace(tzinfo=SEOUL) if value.tzinfo is None else value)
    return starts


def _unavailable_refusal(exc: DomainError) -> str:
    """Why the ticked slots were not saved, in words for the unavailability page."""
    if isinstance(exc, BookingRuleBroken) and exc.rule == "meeting":
        when = ", ".join(_label_of(str(s)) for s in exc.extra.get("starts", []))
        return _("There is a meeting at %(when)s; move or cancel it before marking the slot unavailable.") % {
            "when": when
        }
    if any(e.field == "organization_id" for e in exc.errors):
        return _("Pick the participant from the list; the id sent is not valid.")
    return _("Some ticked slots are not slots of this fair; reload the page and try again.")


async def _index_page(
    request: Request[Any, Any, Any],
    viewer: Principal,
    fairs: FairService,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    found, _total = await fairs.list_fairs(None, 0, 200)
    return render(
        request,
        "fairs/index.html",
        status_code=status_code,
        fairs=found,
        values=values or {},
        errors=errors or {},
        nav_items=_nav(None, viewer),
    )


async def _setup_page(
    request: Request[Any, Any, Any],
    staff: Principal,
    fair: Fair,
    fairs: FairService,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Template:
    participants = await fairs.participants(staff, fair)
    joined = {p.organization_id for p, _o in participants}
    q = request.query_params.get("q") or ""
    chosen_ids = [i for i in parse_ids(request.query_params.getall("organization_id", [])) if i not in joined]
    candidates = await fairs.candidates(joined | set(chosen_ids), q, current_locale())
    grid = grid_of(fair)
    return render(
        request,
        "fairs/setup.html",
        status_code=status_code,
        fair=fair,
        values=values or _fair_form_values(fair),
        errors=errors or {},
        error=error,
        participants=participants,
        candidates=candidates,
        chosen=await fairs.chosen_organizations(chosen_ids, current_locale()),
        q=q,
        slot_count=len(grid),
        nav_items=_nav(fair, staff),
    )


async def _booking_page(
    request: Request[Any, Any, Any],
    viewer: Principal,
    fair_id: uuid.UUID,
    fairs: FairService,
    meeting_requests: RequestService,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    fair = await fairs.get(fair_id)
    joined = await fairs.is_participant(fair.id, viewer)
    tables = await _tables(fairs, viewer, fair) if joined else []
    requests = await meeting_requests.inbox(viewer, fair.id) if joined else []
    return render(
        request,
        "fairs/book.html",
        status_code=status_code,
        fair=fair,
        joined=joined,
        tables=tables,
        requests=requests,
        errors=errors or {},
        values=values or {},
        nav_items=_nav(fair, viewer),
    )


async def _tables(fairs: FairService, viewer: Principal, fair: Fair) -> list[dict[str, Any]]:
    rows = await fairs.participants(viewer, fair, "agency")
    return [await _table(fairs, viewer, fair, org) for _p, org in rows]


async def _table(
    fairs: FairService, viewer: Principal, fair: Fair, agency: Organization, message: str | None = None
) -> dict[str, Any]:
    views = await fairs.slots_for_agency(viewer, fair, agency.id)
    return {
        "agency": agency,
        "slots": [(v, _label(v.slot), seoul(v.slot.starts_at).isoformat()) for v in views],
        "message": message,
    }


async def _booking_outcome(
    request: Request[Any, Any, Any],
    viewer: Principal,
    fairs: FairService,
    fair_id: uuid.UUID,
    agency_id: uuid.UUID,
    message: str,
    status: int,
) -> Response[Any]:
    """After a booking try: without htmx back to the page; with htmx the agency's row, refreshed."""
    if request.headers.get("hx-request") != "true":
        return redirect(f"/fairs/{fair_id}/book?msg=" + ("ok" if status == 200 else "conflict"))
    fair = await fairs.get(fair_id)
    agency = await fairs.organization(agency_id)
    if agency is None:
        raise NotFound("No such agency.")
    table = await _table(fairs, viewer, fair, agency, message)
    # htmx swaps 2xx only; a lost race is still a normal answer for the page (its message says so).
    return render(request, "fairs/_table.html", fair=fair, table=table, ok=status == 200)


def _unavailable_days(fair: Fair, checked: set[datetime], meetings: set[datetime]) -> list[tuple[datetime, list[Any]]]:
    """The fair's slots by day, each ticked when marked unavailable and flagged when a meeting holds it."""
    days: list[tuple[datetime, list[dict[str, Any]]]] = []
    for slot in grid_of(fair):
        local = seoul(slot.starts_at)
        if not days or days[-1][0].date() != local.date():
            days.append((local, []))
        days[-1][1].append(
            {
                "value": local.isoformat(),
                "label": format_time_range(slot.starts_at, slot.ends_at),
                "checked": slot.starts_at in checked,
                "meeting": slot.starts_at in meetings,
            }
        )
    return days


async def _unavailable_page(
    request: Request[Any, Any, Any],
    viewer: Principal,
    fair: Fair,
    fairs: FairService,
    organization_id: uuid.UUID | None,
    *,
    status_code: int = 200,
    ticked: set[datetime] | None = None,
    message: str | None = None,
) -> Template:
    participants = await fairs.participants(viewer, fair) if viewer.is_staff else []
    organization: Organization | None = None
    days: list[tuple[datetime, list[Any]]] = []
    if not viewer.is_staff or organization_id is not None:
        participant, marked, meetings = await fairs.unavailability(viewer, fair, organization_id)
        organization = await fairs.organization(participant.organization_id)
        days = _unavailable_days(fair, marked if ticked is None else ticked, meetings)
    return render(
        request,
        "fairs/unavailable.html",
        status_code=status_code,
        fair=fair,
        participants=participants,
        organization=organization,
        days=days,
        message=message,
        nav_items=_nav(fair, viewer),
    )


def _party(meeting: Meeting, viewer: Principal, names: dict[uuid.UUID, str]) -> str:
    """Who the meeting is with, for the viewer: the other side; for staff both sides."""
    agency, firm = names.get(meeting.agency_id, ""), names.get(meeting.firm_id, "")
    if viewer.is_staff:
        return f"{agency} · {firm}"
    return firm if viewer.owns(meeting.agency_id) else agency


def _done_message(done: str | None, meeting: Meeting | None, party: str) -> str | None:
    """What the action just done did, in words naming the meeting (`?done=<what>&meeting=<id>`)."""
    if not done:
        return None
    if done == "joined":
        return _("You joined the fair.")
    if meeting is None:
        return _("Saved.")
    values = {"when": format_slot(meeting.starts_at), "name": party}
    messages = {
        "cancelled": _("Cancelled the meeting of %(when)s with %(name)s."),
        "moved": _("Moved the meeting with %(name)s to %(when)s."),
        "rated": _("Recorded the outcome of the meeting of %(when)s with %(name)s."),
    }
    return messages.get(done, _("Saved.")) % values


async def _agenda_page(
    request: Request[Any, Any, Any],
    viewer: Principal,
    fair: Fair,
    fairs: FairService,
    booking: BookingService,
    *,
    status_code: int = 200,
    failed: tuple[uuid.UUID, dict[str, str]] | None = None,
) -> Template:
    """The agenda: the participant's meetings (staff: all of the fair's) with their actions;
    `failed` is a meeting whose outcome form was refused, with its errors."""
    meetings = await booking.agenda(viewer, fair.id)
    names = await fairs.organization_names({m.firm_id for m in meetings} | {m.agency_id for m in meetings})
    targets = await booking.move_targets(fair, meetings)
    chosen = _uuid_or_none(request.query_params.get("meeting"))
    done_meeting = next((m for m in meetings if m.id == chosen), None)
    done = request.query_params.get("done")
    return render(
        request,
        "fairs/agenda.html",
        status_code=status_code,
        fair=fair,
        meetings=meetings,
        names=names,
        joined=await fairs.takes_part(viewer, fair.id),
        moves={m_id: [(s, _label(s)) for s in slots] for m_id, slots in targets.items()},
        now=now(),  # a contract can be reported from a meeting that has begun; outcomes once it is over
        label=lambda m: format_slot(m.starts_at, m.ends_at),
        party=lambda m: _party(m, viewer, names),
        done_message=_done_message(done, done_meeting, _party(done_meeting, viewer, names) if done_meeting else ""),
        failed=failed,
        outcomes=[o.value for o in MeetingOutcome],
        ratings=[r.value for r in MeetingRating],
        nav_items=_nav(fair, viewer),
    )


def _confirm_page(
    request: Request[Any, Any, Any], *, title: str, question: str, action: str, back: str, button: str, **extra: Any
) -> Template:
    """A confirmation step that works without JavaScript: the question, what it is about, and the
    form that does it (POST), beside a link back."""
    return render(
        request,
        "fairs/confirm.html",
        title=title,
        question=question,
        action=action,
        back=back,
        button=button,
        facts=extra.get("facts", []),
        hidden=extra.get("hidden", {}),
        nav_items=extra.get("nav_items", []),
    )


def _outcome_form(form: Any) -> tuple[str, str | None, FieldErrors]:
    errors = FieldErrors()
    reader = FormReader(form, errors)
    outcome = reader.text("outcome") or ""
    rating = reader.text("rating") or None
    if outcome not in {o.value for o in MeetingOutcome}:
        errors.add("outcome", "is required")
    if rating is not None and rating not in {r.value for r in MeetingRating}:
        errors.add("rating", "is not a rating")
    return outcome, rating, errors


def _back_to_row(meeting: Meeting, done: str) -> Response[Any]:
    """The agenda after an action on a meeting: its row in view, with the message naming it."""
    return redirect(f"/fairs/{meeting.fair_id}/agenda?done={done}&meeting={meeting.id}#meeting-{meeting.id}")


class FairPages(Controller):
    path = "/fairs"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"fairs": FAIRS, "booking": BOOKING, "meeting_requests": MEETING_REQUESTS}

    @get("/")
    async def fairs_index(
        self, request: Request[Any, Any, Any], viewer: NamedDependency[Principal], fairs: NamedDependency[FairService]
    ) -> Template:
        return await _index_page(request, viewer, fairs)

    @post("/")
    async def create_fair(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        values, errors = _fair_form(form)

        async def create() -> Response[Any]:
            errors.raise_if_any()
            fair = await fairs.create(staff, FairIn(**values))
            return redirect(f"/fairs/{fair.id}?done=created")

        return await form_action(
            db_session,
            create,
            lambda exc: _index_page(
                request, staff, fairs, status_code=exc.status, values=form_values(form), errors=_form_errors(exc)
            ),
        )

    @get("/{fair_id:uuid}")
    async def fair_setup(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
    ) -> Response[Any]:
        fair = await fairs.get(fair_id)
        if not viewer.is_staff:
            if viewer.is_firm:
                return redirect(f"/fairs/{fair.id}/book")
            return redirect(f"/fairs/{fair.id}/agenda")
        return await _setup_page(request, viewer, fair, fairs)

    @post("/{fair_id:uuid}")
    async def update_fair(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        staff: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        values, errors = _fair_form(form)
        values.pop("mode")

        async def save() -> Response[Any]:
            errors.raise_if_any()
            await fairs.update(staff, await fairs.get(fair_id), FairPatch(**values))
            return redirect(f"/fairs/{fair_id}?done=saved")

        async def rerender(exc: DomainError) -> Response[Any]:
            fair = await fairs.get(fair_id)
            return await _setup_page(
                request,
                staff,
                fair,
                fairs,
                status_code=exc.status,
                values=form_values(form),
                errors=_form_errors(exc),
                error=exc,
            )

        return await form_action(db_session, save, rerender)

    @post("/{fair_id:uuid}/participants")
    async def add_participants(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Staff tick organizations to add; an organization's own user joins with one button."""
        fair = await fairs.get(fair_id)
        form = await request.form()
        if not viewer.is_staff:
            if viewer.organization_id:
                await fairs.add_participants(viewer, fair, [viewer.organization_id])
            if viewer.is_firm:  # a firm's next step is booking, or in a request-mode fair its requests
                return redirect(f"/fairs/{fair_id}/book?done=joined#request")
            return redirect(f"/fairs/{fair_id}/agenda?done=joined")
        errors = FieldErrors()
        ids = _form_uuids(form.getall("organization_id", []), errors, "organization_id")

        async def add() -> Response[Any]:
            errors.raise_if_any()
            if ids:
                await fairs.add_participants(viewer, fair, ids)
            return redirect(f"/fairs/{fair_id}?done=added")

        async def rerender(exc: DomainError) -> Response[Any]:
            shown = {"organization_id": next(iter(field_errors(exc).values()))}
            return await _setup_page(
                request, viewer, await fairs.get(fair_id), fairs, status_code=exc.status, errors=shown
            )

        return await form_action(db_session, add, rerender, catch=ValidationFailed)

    @post("/{fair_id:uuid}/schedule")
    async def schedule_fair(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        staff: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        meeting_requests: NamedDependency[RequestService],
    ) -> Response[Any]:
        fair = await fairs.get(fair_id)
        if (await request.form()).get("action") == "final":
            await meeting_requests.finalize(staff, fair)
        else:
            await meeting_requests.schedule(fair, staff)
        return redirect(f"/fairs/{fair_id}/grid?done=scheduled")

    @get("/{fair_id:uuid}/grid")
    async def meeting_grid(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        staff: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
    ) -> Template:
        """Staff: agencies × slots, who meets whom; prints one landscape sheet per fair day."""
        fair = await fairs.get(fair_id)
        agencies, meetings = await fairs.grid_view(fair)
        names = await fairs.organization_names({m.firm_id for m in meetings.values()})
        grid = grid_of(fair)
        return render(
            request,
            "fairs/grid.html",
            fair=fair,
            slots=[(s, _label(s)) for s in grid],
            agencies=agencies,
            meetings=meetings,
            names=names,
            nav_items=_nav(fair, staff),
        )

    @get("/{fair_id:uuid}/book")
    async def booking_page(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        meeting_requests: NamedDependency[RequestService],
    ) -> Template:
        """Firm: each agency table's slots; free ones book with one click (htmx, no reload)."""
        return await _booking_page(request, viewer, fair_id, fairs, meeting_requests)

    @post("/{fair_id:uuid}/book")
    async def book_slot(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        booking: NamedDependency[BookingService],
        meeting_requests: NamedDependency[RequestService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Book; with htmx the agency's row comes back refreshed, with the outcome said in words."""
        form = await request.form()
        errors = FieldErrors()
        reader = FormReader(form, errors)
        agency_id = _form_uuid(reader.text("agency_id"), errors, "agency_id")
        start = _local(reader.text("start"), errors, "start") or datetime.now(UTC)
        if agency_id is None:  # no agency row to refresh: the page itself, with the field's error
            return await _booking_page(
                request,
                viewer,
                fair_id,
                fairs,
                meeting_requests,
                status_code=422,
                errors=field_errors(errors),
                values=form_values(form),
            )
        table_id = agency_id

        async def book() -> Response[Any]:
            errors.raise_if_any()
            await booking.book(viewer, fair_id, table_id, start)
            return await _booking_outcome(
                request, viewer, fairs, fair_id, table_id, _("Booked. The meeting is on your agenda."), 200
            )

        return await form_action(
            db_session,
            book,
            lambda exc: _booking_outcome(request, viewer, fairs, fair_id, table_id, _(exc.detail), exc.status),
        )

    @post("/{fair_id:uuid}/requests")
    async def send_request(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        meeting_requests: NamedDependency[RequestService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        errors = FieldErrors()
        reader = FormReader(form, errors)
        fair = await fairs.get(fair_id)
        agency_id = _form_uuid(reader.text("agency_id"), errors, "agency_id")
        priority = reader.integer("priority") or 2

        async def send() -> Response[Any]:
            errors.raise_if_any()
            assert agency_id is not None
            await meeting_requests.create(viewer, fair, agency_id, priority, reader.text("message") or "")
            return redirect(f"/fairs/{fair_id}/book?msg=requested")

        return await form_action(
            db_session,
            send,
            lambda exc: _booking_page(
                request,
                viewer,
                fair_id,
                fairs,
                meeting_requests,
                status_code=exc.status,
                errors=field_errors(exc),
                values=form_values(form),
            ),
        )

    @get("/{fair_id:uuid}/requests")
    async def request_inbox(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        meeting_requests: NamedDependency[RequestService],
    ) -> Template:
        """Agency: requests from firms, best priority first, to accept or decline."""
        fair = await fairs.get(fair_id)
        requests = await meeting_requests.inbox(viewer, fair.id)
        names = await fairs.organization_names({r.firm_id for r in requests} | {r.agency_id for r in requests})
        chosen = _uuid_or_none(request.query_params.get("request"))
        decided = next((r for r in requests if r.id == chosen), None)
        return render(
            request,
            "fairs/inbox.html",
            fair=fair,
            requests=requests,
            names=names,
            decided_name=names.get(decided.firm_id, "") if decided else "",
            nav_items=_nav(fair, viewer),
        )

    @post("/{fair_id:uuid}/requests/{request_id:uuid}/{decision:str}")
    async def decide_request(
        self,
        fair_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        decision: FromPath[str],
        viewer: NamedDependency[Principal],
        meeting_requests: NamedDependency[RequestService],
        request: Request[Any, Any, Any],
    ) -> Response[Any]:
        accept = _decision(decision)
        # The inbox offers the other decision on a decided request as `?change=true` (audited).
        change = request.query_params.get("change") == "true"
        decided = await meeting_requests.decide(viewer, request_id, accept, change=change)
        done = "accepted" if accept else "declined"
        return redirect(f"/fairs/{fair_id}/requests?done={done}&request={decided.id}#request-{decided.id}")

    @get("/{fair_id:uuid}/requests/{request_id:uuid}/{decision:str}")
    async def confirm_decision(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        decision: FromPath[str],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        meeting_requests: NamedDependency[RequestService],
    ) -> Template:
        """The confirmation step of a decision (the inbox's Decline and change links lead here)."""
        accept = _decision(decision)
        asked = await meeting_requests.decidable(viewer, request_id)
        fair = await fairs.get(asked.fair_id)
        firm = (await fairs.organization_names({asked.firm_id})).get(asked.firm_id, "")
        change = "?change=true" if request.query_params.get("change") == "true" else ""
        if accept:
            title, button = _("Accept the request?"), _("Yes, accept the request")
            question = _("Accept the meeting request from %(name)s? The firm is told by mail.")
        else:
            title, button = _("Decline the request?"), _("Yes, decline the request")
            question = _("Decline the meeting request from %(name)s? The firm is told by mail.")
        return _confirm_page(
            request,
            title=title,
            question=question % {"name": firm},
            action=f"/fairs/{fair.id}/requests/{asked.id}/{decision}{change}",
            back=f"/fairs/{fair.id}/requests#request-{asked.id}",
            button=button,
            nav_items=_nav(fair, viewer),
        )

    @get("/{fair_id:uuid}/unavailable")
    async def unavailable_page(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
    ) -> Template:
        """A participant ticks the slots it cannot attend (staff: for the participant they pick)."""
        fair = await fairs.get(fair_id)
        chosen = _uuid_or_none(request.query_params.get("organization_id")) if viewer.is_staff else None
        return await _unavailable_page(request, viewer, fair, fairs, chosen)

    @post("/{fair_id:uuid}/unavailable")
    async def save_unavailable(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Replace the participant's unavailable slots with the ticked ones (the API's rule)."""
        fair = await fairs.get(fair_id)
        form = await request.form()
        chosen = _uuid_or_none(form.get("organization_id")) if viewer.is_staff else None
        errors = FieldErrors()
        if viewer.is_staff and form.get("organization_id") and chosen is None:
            errors.add("organization_id", "is not a valid id")
        starts = _ticked_starts(form, errors)

        async def save() -> Response[Any]:
            errors.raise_if_any()
            await fairs.set_unavailable(viewer, fair, starts, chosen)
            back = f"/fairs/{fair_id}/unavailable?done=saved"
            return redirect(back + (f"&organization_id={chosen}" if viewer.is_staff and chosen else ""))

        async def rerender(exc: DomainError) -> Response[Any]:
            again = await fairs.get(fair_id)
            message = _unavailable_refusal(exc)
            return await _unavailable_page(
                request, viewer, again, fairs, chosen, status_code=exc.status, ticked=set(starts), message=message
            )

        return await form_action(db_session, save, rerender, catch=(BookingRuleBroken, ValidationFailed))

    @get("/{fair_id:uuid}/agenda")
    async def agenda(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        booking: NamedDependency[BookingService],
    ) -> Template:
        """The participant's meetings in time order (staff: every meeting of the fair), with room
        links, invites, cancel and move, and after the slot its outcome and rating."""
        return await _agenda_page(request, viewer, await fairs.get(fair_id), fairs, booking)


def _move_start(raw: str | None) -> datetime:
    """The slot a move goes to (`start`, Seoul time when naive); 422 naming `start` when missing or malformed."""
    errors = FieldErrors()
    start = _local(raw, errors, "start")
    errors.raise_if_any()
    assert start is not None
    return start


class MeetingPages(Controller):
    path = "/meetings"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"booking": BOOKING, "fairs": FAIRS}

    @get("/{meeting_id:uuid}/cancel")
    async def confirm_cancel(
        self,
        request: Request[Any, Any, Any],
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
        fairs: NamedDependency[FairService],
    ) -> Template:
        """The confirmation step of a cancel (the agenda's Cancel leads here, with or without JS)."""
        meeting = await booking.allowed(viewer, meeting_id, "cancel")
        names = await fairs.organization_names({meeting.agency_id, meeting.firm_id})
        return _confirm_page(
            request,
            title=_("Cancel the meeting?"),
            question=_("Cancel the meeting of %(when)s with %(name)s? Both sides are told by mail.")
            % {"when": format_slot(meeting.starts_at, meeting.ends_at), "name": _party(meeting, viewer, names)},
            action=f"/meetings/{meeting.id}/cancel",
            back=f"/fairs/{meeting.fair_id}/agenda#meeting-{meeting.id}",
            button=_("Yes, cancel the meeting"),
        )

    @post("/{meeting_id:uuid}/cancel")
    async def cancel_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> Response[Any]:
        meeting = await booking.cancel(viewer, meeting_id)
        return _back_to_row(meeting, "cancelled")

    @get("/{meeting_id:uuid}/move")
    async def confirm_move(
        self,
        request: Request[Any, Any, Any],
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
        fairs: NamedDependency[FairService],
    ) -> Template:
        """The confirmation step of a move to the slot picked on the agenda (`?start=`)."""
        meeting = await booking.allowed(viewer, meeting_id, "move")
        start = _move_start(request.query_params.get("start"))
        names = await fairs.organization_names({meeting.agency_id, meeting.firm_id})
        values = {
            "when": format_slot(meeting.starts_at),
            "to": format_slot(start),
            "name": _party(meeting, viewer, names),
        }
        return _confirm_page(
            request,
            title=_("Move the meeting?"),
            question=_("Move the meeting with %(name)s from %(when)s to %(to)s? Both sides are told by mail.") % values,
            action=f"/meetings/{meeting.id}/move",
            back=f"/fairs/{meeting.fair_id}/agenda#meeting-{meeting.id}",
            button=_("Yes, move the meeting"),
            hidden={"start": start.isoformat()},
        )

    @post("/{meeting_id:uuid}/move")
    async def move_meeting(
        self,
        request: Request[Any, Any, Any],
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> Response[Any]:
        start = _move_start(FormReader(await request.form(), FieldErrors()).text("start"))
        meeting = await booking.move(viewer, meeting_id, start)
        return _back_to_row(meeting, "moved")

    @post("/{meeting_id:uuid}/outcome")
    async def record_outcome(
        self,
        request: Request[Any, Any, Any],
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
        fairs: NamedDependency[FairService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """The agenda row's form after the slot: held or no-show, and a rating (the API's rule)."""
        outcome, rating, errors = _outcome_form(await request.form())

        async def save() -> Response[Any]:
            errors.raise_if_any()
            meeting = await booking.record_outcome(viewer, meeting_id, outcome, rating)
            return _back_to_row(meeting, "rated")

        async def rerender(exc: DomainError) -> Response[Any]:
            meeting = await booking.visible_meeting(viewer, meeting_id)
            if meeting.fair_id is None:
                raise exc
            fair = await fairs.get(meeting.fair_id)
            failed = (meeting.id, field_errors(exc))
            return await _agenda_page(request, viewer, fair, fairs, booking, status_code=exc.status, failed=failed)

        return await form_action(db_session, save, rerender)

    @get("/{meeting_id:uuid}/invite.ics")
    async def invite(
        self,
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        return await invite_response(booking, viewer, meeting_id, settings)


ROUTES = [FairPages, MeetingPages]
