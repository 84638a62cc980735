"""JSON API of fairs, slots, meetings and meeting requests (the routes under /api/v1/fairs, /meetings, /requests)."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

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
from service.identity.deps import WRITE_CHECKS_CALLER
from service.identity.principal import Principal
from service.lib.deps import provide_service, provide_service_after_caller
from service.lib.pagination import Page, check_page

FAIRS = provide_service(FairService)
BOOKING = provide_service(BookingService)
BOOKING_AFTER_CALLER = provide_service_after_caller(BookingService)  # the booking's hot path: no task group
MEETING_REQUESTS = provide_service(RequestService)


async def invite_response(
    booking: BookingService, viewer: Principal, meeting_id: uuid.UUID, settings: Settings
) -> Response[bytes]:
    """The meeting as a downloadable iCalendar invite (the API's and the agenda page's link)."""
    body = await booking.invite(viewer, meeting_id, settings)
    return Response(
        content=body,
        media_type="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="meeting-{meeting_id.hex[:8]}.ics"'},
    )


class FairController(Controller):
    path = "/api/v1/fairs"
    tags = ["fairs"]
    dependencies = {"fairs": FAIRS, "booking": BOOKING_AFTER_CALLER, "meeting_requests": MEETING_REQUESTS}

    @post("/")
    async def create_fair(
        self, data: JSONBody[FairIn], staff: NamedDependency[Principal], fairs: NamedDependency[FairService]
    ) -> FairOut:
        """Staff: create a fair (days, hours, breaks, slot length, booking window, mode)."""
        return fair_out(await fairs.create(staff, data))

    @get("/")
    async def list_fairs(
        self,
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        year: FromQuery[int | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 50,
    ) -> Page[FairOut]:
        offset, limit = check_page(page, page_size)
        found, total = await fairs.list_fairs(year, offset, limit)
        return Page(items=[fair_out(f) for f in found], total=total, page=page, page_size=page_size)

    @get("/{fair_id:uuid}")
    async def get_fair(
        self, fair_id: FromPath[uuid.UUID], viewer: NamedDependency[Principal], fairs: NamedDependency[FairService]
    ) -> FairOut:
        return fair_out(await fairs.get(fair_id))

    @patch("/{fair_id:uuid}")
    async def update_fair(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[FairPatch],
        staff: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
    ) -> FairOut:
        """Staff: edit a fair; 409 listing the meetings a grid change would orphan or move."""
        return fair_out(await fairs.update(staff, await fairs.get(fair_id), data))

    @post("/{fair_id:uuid}/participants")
    async def add_participants(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[ParticipantIn],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
    ) -> list[ParticipantOut]:
        """Staff add one organization or a list; a verified organization may join an open fair itself."""
        ids = data.ids()
        added = await fairs.add_participants(viewer, await fairs.get(fair_id), ids)
        names = await fairs.organization_names({p.organization_id for p in added})
        return [
            ParticipantOut(organization_id=p.organization_id, kind=p.kind, name=names.get(p.organization_id, ""))
            for p in added
        ]

    @get("/{fair_id:uuid}/participants")
    async def list_participants(
        self,
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        kind: FromQuery[str | None] = None,
    ) -> list[ParticipantOut]:
        rows = await fairs.participants(viewer, await fairs.get(fair_id), kind)
        return [
            ParticipantOut(
                organization_id=p.organization_id, kind=p.kind, name=o.name, room_url=p.room_url_seen_by(viewer)
            )
            for p, o in rows
        ]

    @put("/{fair_id:uuid}/unavailable")
    async def set_unavailable(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[UnavailableIn],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
    ) -> dict[str, list[str]]:
        """A participant replaces the list of slots (by start) it cannot attend."""
        starts = await fairs.set_unavailable(viewer, await fairs.get(fair_id), data.starts, data.organization_id)
        return {"starts": [seoul(s).isoformat() for s in starts]}

    @get("/{fair_id:uuid}/slots")
    async def list_slots(
        self,
        fair_id: FromPath[uuid.UUID],
        agency_id: FromQuery[uuid.UUID],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
    ) -> list[SlotOut]:
        """The agency table's slots: free, booked or unavailable."""
        views = await fairs.slots_for_agency(viewer, await fairs.get(fair_id), agency_id)
        return [
            SlotOut(start=seoul(v.slot.starts_at), end=seoul(v.slot.ends_at), status=v.status, mine=v.mine)
            for v in views
        ]

    @post("/{fair_id:uuid}/meetings", opt=WRITE_CHECKS_CALLER)
    async def book_meeting(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[BookIn],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> MeetingOut:
        """First-come: book a free slot at an agency's table (staff: on behalf of `firm_id`)."""
        return meeting_out(await booking.book(viewer, fair_id, data.agency_id, data.start, data.firm_id))

    @post("/{fair_id:uuid}/requests")
    async def create_request(
        self,
        fair_id: FromPath[uuid.UUID],
        data: JSONBody[RequestIn],
        viewer: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        meeting_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        fair = await fairs.get(fair_id)
        created = await meeting_requests.create(viewer, fair, data.agency_id, data.priority, data.message, data.firm_id)
        return request_out(created)

    @get("/{fair_id:uuid}/requests")
    async def list_requests(
        self,
        fair_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        meeting_requests: NamedDependency[RequestService],
    ) -> list[RequestOut]:
        """Agency: its inbox; firm: its sent requests; staff: all."""
        return [request_out(r) for r in await meeting_requests.inbox(viewer, fair_id)]

    @post("/{fair_id:uuid}/schedule", status_code=200)
    async def schedule_fair(
        self,
        fair_id: FromPath[uuid.UUID],
        staff: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        meeting_requests: NamedDependency[RequestService],
    ) -> ScheduleOut:
        """Staff: run the auto-scheduler now (provisional agenda)."""
        result = await meeting_requests.schedule(await fairs.get(fair_id), staff)
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
        staff: NamedDependency[Principal],
        fairs: NamedDependency[FairService],
        meeting_requests: NamedDependency[RequestService],
    ) -> dict[str, int]:
        """Staff: make the provisional agenda final."""
        return {"finalized": await meeting_requests.finalize(staff, await fairs.get(fair_id))}


class MeetingController(Controller):
    path = "/api/v1/meetings"
    tags = ["fairs"]
    dependencies = {"booking": BOOKING}

    @get("/{meeting_id:uuid}")
    async def get_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> MeetingOut:
        """The current state of a meeting (links in mails lead here, also after moves)."""
        return meeting_out(await booking.visible_meeting(viewer, meeting_id))

    @delete("/{meeting_id:uuid}")
    async def cancel_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> None:
        """Either party or staff cancels; the slot is free again at once."""
        await booking.cancel(viewer, meeting_id)

    @patch("/{meeting_id:uuid}")
    async def move_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[MoveIn],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> MeetingOut:
        """Move to another slot of the same table (same checks as booking); SEQUENCE grows."""
        return meeting_out(await booking.move(viewer, meeting_id, data.start))

    @post("/{meeting_id:uuid}/outcome", status_code=200)
    async def record_outcome(
        self,
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[OutcomeIn],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> MeetingOut:
        """After the slot: held or no-show, with the caller's rating."""
        return meeting_out(await booking.record_outcome(viewer, meeting_id, data.outcome, data.rating))

    @post("/{meeting_id:uuid}/objection", status_code=200)
    async def object_to_meeting(
        self,
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[ObjectionIn],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> dict[str, bool]:
        """A participant objects to a provisional meeting before the agenda is final."""
        await booking.object(viewer, meeting_id, data.message)
        return {"recorded": True}

    @get("/{meeting_id:uuid}/history")
    async def meeting_history(
        self,
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
    ) -> list[MeetingEventOut]:
        return [meeting_event_out(e) for e in await booking.history(viewer, meeting_id)]

    @get("/{meeting_id:uuid}/invite.ics")
    async def meeting_invite(
        self,
        meeting_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """The meeting as an iCalendar invite (METHOD:CANCEL once cancelled)."""
        return await invite_response(booking, viewer, meeting_id, settings)


class RequestDecisionController(Controller):
    path = "/api/v1/requests"
    tags = ["fairs"]
    dependencies = {"meeting_requests": MEETING_REQUESTS}

    @post("/{request_id:uuid}/accept", status_code=200)
    async def accept_request(
        self,
        request_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        meeting_requests: NamedDependency[RequestService],
        change: FromQuery[bool] = False,
    ) -> RequestOut:
        """A pending request only (409 `decided` otherwise); `change=true` reverses a decision, audited."""
        return request_out(await meeting_requests.decide(viewer, request_id, True, change=change))

    @post("/{request_id:uuid}/decline", status_code=200)
    async def decline_request(
        self,
        request_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        meeting_requests: NamedDependency[RequestService],
        change: FromQuery[bool] = False,
    ) -> RequestOut:
        """A pending request only (409 `decided` otherwise); `change=true` reverses a decision, audited."""
        return request_out(await meeting_requests.decide(viewer, request_id, False, change=change))


class MyMeetingsController(Controller):
    path = "/api/v1/me/meetings"
    tags = ["fairs"]
    dependencies = {"booking": BOOKING}

    @get("/")
    async def my_meetings(
        self,
        viewer: NamedDependency[Principal],
        booking: NamedDependency[BookingService],
        fair_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[MeetingOut]:
        """The caller's organization's agenda, in time order."""
        return [meeting_out(m) for m in await booking.my_meetings(viewer, fair_id)]


ROUTES = [FairController, MeetingController, RequestDecisionController, MyMeetingsController]
