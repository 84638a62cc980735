"""JSON API of fairs, slots, meetings and meeting requests (see API.md)."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.fairs.booking import BookingService
from service.fairs.requests import RequestService
from service.fairs.schemas import (
    BookIn,
    FairIn,
    FairOut,
    FairPatch,
    MeetingEventOut,
    MeetingOut,
    MoveIn,
    ObjectionIn,
    OutcomeIn,
    ParticipantIn,
    ParticipantOut,
    RequestIn,
    RequestOut,
    ScheduleOut,
    SlotOut,
    UnavailableIn,
    fair_out,
    meeting_event_out,
    meeting_out,
    request_out,
)
from service.fairs.service import FairService
from service.fairs.slots import seoul
from service.identity.principal import Principal, require_principal, require_staff
from service.lib.errors import ValidationFailed
from service.lib.pagination import Page, check_page


class FairController(Controller):
    path = "/api/v1/fairs"
    tags = ["fairs"]

    @post("/")
    async def create_fair(
        self,
        data: JSONBody[FairIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> FairOut:
        """Staff: create a fair (days, hours, breaks, slot length, booking window, mode)."""
        fair = await FairService(db_session).create(require_staff(principal), data)
        return fair_out(fair)

    @get("/")
    async def list_fairs(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[FairOut]:
        require_principal(principal)
        offset, limit = check_page(page, page_size)
        fairs, total = await FairService(db_session).list_fairs(year, offset, limit)
        return Page(items=[fair_out(f) for f in fairs], total=total, page=page, page_size=page_size)

    @get("/{fair_id:uuid}")
    async def get_fair(
        self,
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> FairOut:
        require_principal(principal)
        return fair_out(await FairService(db_session).get(fair_id))

    @patch("/{fair_id:uuid}")
    async def update_fair(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[FairPatch],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> FairOut:
        """Staff: edit a fair; 409 listing the meetings a grid change would orphan or move."""
        staff = require_staff(principal)
        service = FairService(db_session)
        fair = await service.get(fair_id)
        return fair_out(await service.update(staff, fair, data))

    @post("/{fair_id:uuid}/participants")
    async def add_participants(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[ParticipantIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> list[ParticipantOut]:
        """Staff add one organization or a list; a verified organization may join an open fair itself."""
        actor = require_principal(principal)
        ids = list(data.organization_ids or []) + ([data.organization_id] if data.organization_id else [])
        if not ids:
            raise ValidationFailed.single("organization_id", "is required")
        service = FairService(db_session)
        fair = await service.get(fair_id)
        added = await service.add_participants(actor, fair, ids)
        names = await service.organization_names({p.organization_id for p in added})
        return [
            ParticipantOut(organization_id=p.organization_id, kind=p.kind, name=names.get(p.organization_id, ""))
            for p in added
        ]

    @get("/{fair_id:uuid}/participants")
    async def list_participants(
        self,
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        kind: FromQuery[str | None] = None,
    ) -> list[ParticipantOut]:
        viewer = require_principal(principal)
        service = FairService(db_session)
        rows = await service.participants(viewer, await service.get(fair_id), kind)
        return [
            ParticipantOut(
                organization_id=p.organization_id,
                kind=p.kind,
                name=o.name,
                room_url=p.room_url if viewer.is_staff or viewer.owns(p.organization_id) else None,
            )
            for p, o in rows
        ]

    @put("/{fair_id:uuid}/unavailable")
    async def set_unavailable(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[UnavailableIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> dict[str, list[str]]:
        """A participant replaces the list of slots (by start) it cannot attend."""
        actor = require_principal(principal)
        service = FairService(db_session)
        starts = await service.set_unavailable(actor, await service.get(fair_id), data.starts, data.organization_id)
        return {"starts": [seoul(s).isoformat() for s in starts]}

    @get("/{fair_id:uuid}/slots")
    async def list_slots(
        self,
        fair_id: FromPath[uuid.UUID],
        agency_id: FromQuery[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> list[SlotOut]:
        """The agency table's slots: free, booked or unavailable."""
        viewer = require_principal(principal)
        service = FairService(db_session)
        views = await service.slots_for_agency(viewer, await service.get(fair_id), agency_id)
        return [
            SlotOut(start=seoul(v.slot.starts_at), end=seoul(v.slot.ends_at), status=v.status, mine=v.mine)
            for v in views
        ]

    @post("/{fair_id:uuid}/meetings")
    async def book_meeting(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[BookIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> MeetingOut:
        """First-come: book a free slot at an agency's table (staff: on behalf of `firm_id`)."""
        actor = require_principal(principal)
        meeting = await BookingService(db_session).book(actor, fair_id, data.agency_id, data.start, data.firm_id)
        return meeting_out(meeting)

    @post("/{fair_id:uuid}/requests")
    async def create_request(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[RequestIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> RequestOut:
        actor = require_principal(principal)
        fair = await FairService(db_session).get(fair_id)
        request = await RequestService(db_session).create(
            actor, fair, data.agency_id, data.priority, data.message, data.firm_id
        )
        return request_out(request)

    @get("/{fair_id:uuid}/requests")
    async def list_requests(
        self,
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> list[RequestOut]:
        """Agency: its inbox; firm: its sent requests; staff: all."""
        viewer = require_principal(principal)
        return [request_out(r) for r in await RequestService(db_session).inbox(viewer, fair_id)]

    @post("/{fair_id:uuid}/schedule", status_code=200)
    async def schedule_fair(
        self,
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> ScheduleOut:
        """Staff: run the auto-scheduler now (provisional agenda)."""
        staff = require_staff(principal)
        fair = await FairService(db_session).get(fair_id)
        result = await RequestService(db_session).schedule(fair, staff)
        return ScheduleOut(
            scheduled=result.scheduled,
            unscheduled=result.unscheduled,
            optimal_bound=result.bound,
            objective=result.objective,
            optimal=result.optimal,
            method=result.method,
        )

    @post("/{fair_id:uuid}/agenda/final", status_code=200)
    async def finalize_agenda(
        self,
        fair_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> dict[str, int]:
        """Staff: make the provisional agenda final."""
        staff = require_staff(principal)
        fair = await FairService(db_session).get(fair_id)
        return {"finalized": await RequestService(db_session).finalize(staff, fair)}


class MeetingController(Controller):
    path = "/api/v1/meetings"
    tags = ["fairs"]

    @get("/{meeting_id:uuid}")
    async def get_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> MeetingOut:
        """The current state of a meeting (links in mails lead here, also after moves)."""
        viewer = require_principal(principal)
        return meeting_out(await BookingService(db_session).visible_meeting(viewer, meeting_id))

    @delete("/{meeting_id:uuid}")
    async def cancel_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> None:
        """Either party or staff cancels; the slot is free again at once."""
        await BookingService(db_session).cancel(require_principal(principal), meeting_id)

    @patch("/{meeting_id:uuid}")
    async def move_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[MoveIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> MeetingOut:
        """Move to another slot of the same table (same checks as booking); SEQUENCE grows."""
        meeting = await BookingService(db_session).move(require_principal(principal), meeting_id, data.start)
        return meeting_out(meeting)

    @post("/{meeting_id:uuid}/outcome", status_code=200)
    async def record_outcome(
        self,
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[OutcomeIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> MeetingOut:
        """After the slot: held or no-show, with the caller's rating."""
        meeting = await BookingService(db_session).record_outcome(
            require_principal(principal), meeting_id, data.outcome, data.rating
        )
        return meeting_out(meeting)

    @post("/{meeting_id:uuid}/objection", status_code=200)
    async def object_to_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[ObjectionIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> dict[str, bool]:
        """A participant objects to a provisional meeting before the agenda is final."""
        await BookingService(db_session).object(require_principal(principal), meeting_id, data.message)
        return {"recorded": True}

    @get("/{meeting_id:uuid}/history")
    async def meeting_history(
        self,
        meeting_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> list[MeetingEventOut]:
        events = await BookingService(db_session).history(require_principal(principal), meeting_id)
        return [meeting_event_out(e) for e in events]

    @get("/{meeting_id:uuid}/invite.ics")
    async def meeting_invite(
        self,
        meeting_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """The meeting as an iCalendar invite (METHOD:CANCEL once cancelled)."""
        body = await BookingService(db_session).invite(require_principal(principal), meeting_id, settings)
        return Response(
            content=body,
            media_type="text/calendar",
            headers={"Content-Disposition": f'attachment; filename="meeting-{meeting_id.hex[:8]}.ics"'},
        )


class RequestDecisionController(Controller):
    path = "/api/v1/requests"
    tags = ["fairs"]

    @post("/{request_id:uuid}/accept", status_code=200)
    async def accept_request(
        self,
        request_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        change: FromQuery[bool] = False,
    ) -> RequestOut:
        """A pending request only (409 `decided` otherwise); `change=true` reverses a decision, audited."""
        decision = await RequestService(db_session).decide(
            require_principal(principal), request_id, True, change=change
        )
        return request_out(decision)

    @post("/{request_id:uuid}/decline", status_code=200)
    async def decline_request(
        self,
        request_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        change: FromQuery[bool] = False,
    ) -> RequestOut:
        """A pending request only (409 `decided` otherwise); `change=true` reverses a decision, audited."""
        decision = await RequestService(db_session).decide(
            require_principal(principal), request_id, False, change=change
        )
        return request_out(decision)


class MyMeetingsController(Controller):
    path = "/api/v1/me/meetings"
    tags = ["fairs"]

    @get("/")
    async def my_meetings(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        fair_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[MeetingOut]:
        """The caller's organization's agenda, in time order."""
        viewer = require_principal(principal)
        return [meeting_out(m) for m in await BookingService(db_session).my_meetings(viewer, fair_id)]


ROUTES = [FairController, MeetingController, RequestDecisionController, MyMeetingsController]
