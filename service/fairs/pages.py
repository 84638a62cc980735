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

from service.config import Settings
from service.fairs.booking import BookingService
from service.fairs.models import Fair, FairMode, Meeting
from service.fairs.requests import RequestService
from service.fairs.schemas import BreakIn, DayIn, FairIn, FairPatch
from service.fairs.service import BookingRuleBroken, FairService, grid_of
from service.fairs.slots import SEOUL, Slot, seoul
from service.identity.principal import Principal, require_principal, require_staff
from service.lib.clock import now
from service.lib.errors import DomainError, FieldErrors, NotFound, ValidationFailed
from service.lib.i18n import format_slot, format_time_range
from service.lib.i18n import gettext as _
from service.lib.pages import FormReader, field_errors, form_values, redirect, render
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
    items.append({"href": f"{base}/agenda", "label": _("My agenda")})
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


class FairPages(Controller):
    path = "/fairs"
    tags = ["pages"]
    include_in_schema = False

    @get("/")
    async def fairs_index(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        viewer = require_principal(principal)
        fairs, _total = await FairService(db_session).list_fairs(None, 0, 200)
        return render(request, "fairs/index.html", fairs=fairs, values={}, nav_items=_nav(None, viewer))

    @post("/")
    async def create_fair(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        staff = require_staff(principal)
        form = await request.form()
        values, errors = _fair_form(form)
        try:
            errors.raise_if_any()
            fair = await FairService(db_session).create(staff, FairIn(**values))
        except DomainError as exc:
            await db_session.rollback()
            fairs, _total = await FairService(db_session).list_fairs(None, 0, 200)
            return render(
                request,
                "fairs/index.html",
                status_code=exc.status,
                fairs=fairs,
                values=form_values(form),
                errors=_form_errors(exc),
                nav_items=_nav(None, staff),
            )
        return redirect(f"/fairs/{fair.id}?done=created")

    @get("/{fair_id:uuid}")
    async def fair_setup(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        viewer = require_principal(principal)
        service = FairService(db_session)
        fair = await service.get(fair_id)
        if not viewer.is_staff:
            if viewer.is_firm:
                return redirect(f"/fairs/{fair.id}/book")
            return redirect(f"/fairs/{fair.id}/agenda")
        return await self._setup_page(request, viewer, fair, service)

    async def _setup_page(
        self,
        request: Request[Any, Any, Any],
        staff: Principal,
        fair: Fair,
        service: FairService,
        *,
        status_code: int = 200,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        error: DomainError | None = None,
    ) -> Template:
        participants = await service.participants(staff, fair)
        joined = {p.organization_id for p, _o in participants}
        candidates = await service.candidates(joined)
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
            slot_count=len(grid),
            nav_items=_nav(fair, staff),
        )

    @post("/{fair_id:uuid}")
    async def update_fair(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        staff = require_staff(principal)
        service = FairService(db_session)
        form = await request.form()
        values, errors = _fair_form(form)
        values.pop("mode")
        try:
            errors.raise_if_any()
            await service.update(staff, await service.get(fair_id), FairPatch(**values))
        except DomainError as exc:
            await db_session.rollback()
            fair = await service.get(fair_id)
            return await self._setup_page(
                request,
                staff,
                fair,
                service,
                status_code=exc.status,
                values=form_values(form),
                errors=_form_errors(exc),
                error=exc,
            )
        return redirect(f"/fairs/{fair_id}?done=saved")

    @post("/{fair_id:uuid}/participants")
    async def add_participants(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Staff tick organizations to add; an organization's own user joins with one button."""
        actor = require_principal(principal)
        service = FairService(db_session)
        fair = await service.get(fair_id)
        form = await request.form()
        ids: list[uuid.UUID] = []
        if actor.is_staff:
            errors = FieldErrors()
            for raw in form.getall("organization_id", []):
                if str(raw):
                    picked = _form_uuid(str(raw), errors, "organization_id")
                    ids += [picked] if picked else []
            try:
                errors.raise_if_any()
                if ids:
                    await service.add_participants(actor, fair, ids)
            except ValidationFailed as exc:
                await db_session.rollback()
                fair = await service.get(fair_id)
                shown = {"organization_id": next(iter(field_errors(exc).values()))}
                return await self._setup_page(request, actor, fair, service, status_code=exc.status, errors=shown)
        elif actor.organization_id:
            await service.add_participants(actor, fair, [actor.organization_id])
        return redirect(f"/fairs/{fair_id}?done=added" if actor.is_staff else f"/fairs/{fair_id}/agenda?done=joined")

    @post("/{fair_id:uuid}/schedule")
    async def schedule_fair(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        staff = require_staff(principal)
        fair = await FairService(db_session).get(fair_id)
        action = (await request.form()).get("action")
        if action == "final":
            await RequestService(db_session).finalize(staff, fair)
        else:
            await RequestService(db_session).schedule(fair, staff)
        return redirect(f"/fairs/{fair_id}/grid?done=scheduled")

    @get("/{fair_id:uuid}/grid")
    async def meeting_grid(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        """Staff: agencies × slots, who meets whom; prints one landscape sheet per fair day."""
        staff = require_staff(principal)
        service = FairService(db_session)
        fair = await service.get(fair_id)
        agencies, meetings = await service.grid_view(fair)
        names = await service.organization_names({m.firm_id for m in meetings.values()})
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
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        """Firm: each agency table's slots; free ones book with one click (htmx, no reload)."""
        viewer = require_principal(principal)
        return await self._booking_page(request, viewer, fair_id, FairService(db_session))

    async def _booking_page(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        fair_id: uuid.UUID,
        service: FairService,
        *,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Template:
        fair = await service.get(fair_id)
        joined = await service.is_participant(fair.id, viewer)
        tables = await self._tables(service, viewer, fair) if joined else []
        requests = await RequestService(service.session).inbox(viewer, fair.id) if joined else []
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

    async def _tables(self, service: FairService, viewer: Principal, fair: Fair) -> list[dict[str, Any]]:
        rows = await service.participants(viewer, fair, "agency")
        return [await self._table(service, viewer, fair, org) for _p, org in rows]

    async def _table(
        self, service: FairService, viewer: Principal, fair: Fair, agency: Organization, message: str | None = None
    ) -> dict[str, Any]:
        views = await service.slots_for_agency(viewer, fair, agency.id)
        return {
            "agency": agency,
            "slots": [(v, _label(v.slot), seoul(v.slot.starts_at).isoformat()) for v in views],
            "message": message,
        }

    @post("/{fair_id:uuid}/book")
    async def book_slot(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Book; with htmx the agency's row comes back refreshed, with the outcome said in words."""
        viewer = require_principal(principal)
        form = await request.form()
        errors = FieldErrors()
        reader = FormReader(form, errors)
        agency_id = _form_uuid(reader.text("agency_id"), errors, "agency_id")
        start = _local(reader.text("start"), errors, "start") or datetime.now(UTC)
        if agency_id is None:  # no agency row to refresh: the page itself, with the field's error
            return await self._booking_page(
                request,
                viewer,
                fair_id,
                FairService(db_session),
                status_code=422,
                errors=field_errors(errors),
                values=form_values(form),
            )
        message: str
        status = 200
        try:
            errors.raise_if_any()
            await BookingService(db_session).book(viewer, fair_id, agency_id, start)
            message = _("Booked. The meeting is on your agenda.")
        except DomainError as exc:
            await db_session.rollback()
            message = _(exc.detail)
            status = exc.status
        is_htmx = request.headers.get("hx-request") == "true"
        if not is_htmx:
            return redirect(f"/fairs/{fair_id}/book?msg=" + ("ok" if status == 200 else "conflict"))
        service = FairService(db_session)
        fair = await service.get(fair_id)
        agency = await db_session.get(Organization, agency_id)
        if agency is None:
            raise NotFound("No such agency.")
        table = await self._table(service, viewer, fair, agency, message)
        # htmx swaps 2xx only; a lost race is still a normal answer for the page (its message says so).
        return render(request, "fairs/_table.html", fair=fair, table=table, ok=status == 200)

    @post("/{fair_id:uuid}/requests")
    async def send_request(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        viewer = require_principal(principal)
        form = await request.form()
        errors = FieldErrors()
        reader = FormReader(form, errors)
        fair = await FairService(db_session).get(fair_id)
        agency_id = _form_uuid(reader.text("agency_id"), errors, "agency_id")
        priority = reader.integer("priority") or 2
        try:
            errors.raise_if_any()
            assert agency_id is not None
            await RequestService(db_session).create(viewer, fair, agency_id, priority, reader.text("message") or "")
        except DomainError as exc:
            await db_session.rollback()
            return await self._booking_page(
                request,
                viewer,
                fair_id,
                FairService(db_session),
                status_code=exc.status,
                errors=field_errors(exc),
                values=form_values(form),
            )
        return redirect(f"/fairs/{fair_id}/book?msg=requested")

    @get("/{fair_id:uuid}/requests")
    async def request_inbox(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        """Agency: requests from firms, best priority first, to accept or decline."""
        viewer = require_principal(principal)
        service = FairService(db_session)
        fair = await service.get(fair_id)
        requests = await RequestService(db_session).inbox(viewer, fair.id)
        names = await service.organization_names({r.firm_id for r in requests} | {r.agency_id for r in requests})
        return render(
            request, "fairs/inbox.html", fair=fair, requests=requests, names=names, nav_items=_nav(fair, viewer)
        )

    @post("/{fair_id:uuid}/requests/{request_id:uuid}/{decision:str}")
    async def decide_request(
        self,
        fair_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        decision: FromPath[str],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        request: Request[Any, Any, Any],
    ) -> Response[Any]:
        viewer = require_principal(principal)
        accept = {"accept": True, "decline": False}.get(decision)
        if accept is None:  # an unknown word must not count as a decline
            raise NotFound("No such decision.")
        # The inbox offers the other decision on a decided request as `?change=true` (audited).
        change = request.query_params.get("change") == "true"
        await RequestService(db_session).decide(viewer, request_id, accept, change=change)
        return redirect(f"/fairs/{fair_id}/requests?done={'accepted' if accept else 'declined'}")

    @get("/{fair_id:uuid}/unavailable")
    async def unavailable_page(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        """A participant ticks the slots it cannot attend (staff: for the participant they pick)."""
        viewer = require_principal(principal)
        fair = await FairService(db_session).get(fair_id)
        chosen = _uuid_or_none(request.query_params.get("organization_id")) if viewer.is_staff else None
        return await self._unavailable(request, viewer, fair, FairService(db_session), chosen)

    async def _unavailable(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        fair: Fair,
        service: FairService,
        organization_id: uuid.UUID | None,
        *,
        status_code: int = 200,
        ticked: set[datetime] | None = None,
        message: str | None = None,
    ) -> Template:
        participants = await service.participants(viewer, fair) if viewer.is_staff else []
        organization: Organization | None = None
        days: list[tuple[datetime, list[dict[str, Any]]]] = []
        if not viewer.is_staff or organization_id is not None:
            participant, marked, meetings = await service.unavailability(viewer, fair, organization_id)
            organization = await service.session.get(Organization, participant.organization_id)
            checked = marked if ticked is None else ticked
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

    @post("/{fair_id:uuid}/unavailable")
    async def save_unavailable(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Replace the participant's unavailable slots with the ticked ones (the API's rule)."""
        viewer = require_principal(principal)
        service = FairService(db_session)
        fair = await service.get(fair_id)
        form = await request.form()
        chosen = _uuid_or_none(form.get("organization_id")) if viewer.is_staff else None
        starts: list[datetime] = []
        errors = FieldErrors()
        if viewer.is_staff and form.get("organization_id") and chosen is None:
            errors.add("organization_id", "is not a valid id")
        for i, raw in enumerate(FormReader(form, errors).many("start") or []):
            try:
                value = datetime.fromisoformat(raw)
            except ValueError:
                errors.add(f"starts[{i}]", "is not the start of a slot of this fair")
                continue
            starts.append(value.replace(tzinfo=SEOUL) if value.tzinfo is None else value)
        try:
            errors.raise_if_any()
            await service.set_unavailable(viewer, fair, starts, chosen)
        except (BookingRuleBroken, ValidationFailed) as exc:
            await db_session.rollback()
            if isinstance(exc, BookingRuleBroken) and exc.rule == "meeting":
                when = ", ".join(_label_of(str(s)) for s in exc.extra.get("starts", []))
                message = _(
                    "There is a meeting at %(when)s; move or cancel it before marking the slot unavailable."
                ) % {"when": when}
            elif any(e.field == "organization_id" for e in exc.errors):
                message = _("Pick the participant from the list; the id sent is not valid.")
            else:
                message = _("Some ticked slots are not slots of this fair; reload the page and try again.")
            fair = await service.get(fair_id)
            return await self._unavailable(
                request, viewer, fair, service, chosen, status_code=exc.status, ticked=set(starts), message=message
            )
        back = f"/fairs/{fair_id}/unavailable?done=saved"
        return redirect(back + (f"&organization_id={chosen}" if viewer.is_staff and chosen else ""))

    @get("/{fair_id:uuid}/agenda")
    async def agenda(
        self,
        request: Request[Any, Any, Any],
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        """The participant's meetings in time order, with room links, invites, cancel and move."""
        viewer = require_principal(principal)
        service = FairService(db_session)
        fair = await service.get(fair_id)
        meetings = await BookingService(db_session).my_meetings(viewer, fair.id)
        names = await service.organization_names({m.firm_id for m in meetings} | {m.agency_id for m in meetings})
        joined = viewer.is_staff or await service.is_participant(fair.id, viewer)
        targets = await BookingService(db_session).move_targets(fair, meetings)
        return render(
            request,
            "fairs/agenda.html",
            fair=fair,
            meetings=meetings,
            names=names,
            joined=joined,
            moves={m_id: [(s, _label(s)) for s in slots] for m_id, slots in targets.items()},
            now=now(),  # a contract can be reported from a meeting that has begun
            label=lambda m: format_slot(m.starts_at, m.ends_at),
            nav_items=_nav(fair, viewer),
        )


class MeetingPages(Controller):
    path = "/meetings"
    tags = ["pages"]
    include_in_schema = False

    @post("/{meeting_id:uuid}/cancel")
    async def cancel_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        meeting = await BookingService(db_session).cancel(require_principal(principal), meeting_id)
        return redirect(f"/fairs/{meeting.fair_id}/agenda?done=cancelled")

    @post("/{meeting_id:uuid}/move")
    async def move_meeting(
        self,
        request: Request[Any, Any, Any],
        meeting_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        errors = FieldErrors()
        start = _local(FormReader(await request.form(), errors).text("start"), errors, "start")
        errors.raise_if_any()
        assert start is not None
        meeting: Meeting = await BookingService(db_session).move(require_principal(principal), meeting_id, start)
        return redirect(f"/fairs/{meeting.fair_id}/agenda?done=moved")

    @get("/{meeting_id:uuid}/invite.ics")
    async def invite(
        self,
        meeting_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        body = await BookingService(db_session).invite(require_principal(principal), meeting_id, settings)
        return Response(
            content=body,
            media_type="text/calendar",
            headers={"Content-Disposition": f'attachment; filename="meeting-{meeting_id.hex[:8]}.ics"'},
        )


ROUTES = [FairPages, MeetingPages]
