"""Request mode: firms ask agencies for meetings, agencies accept or decline, the auto-scheduler
places the accepted requests into a provisional agenda, and staff make it final. Services flush,
never commit. The database holds one open request per (fair, firm, agency) with a unique index.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.fairs import repository
from service.fairs.booking import slot_taken_from
from service.fairs.events import (
    FairFinalized,
    FairScheduled,
    MeetingRequestAccepted,
    MeetingRequestCreated,
    MeetingRequestDeclined,
)
from service.fairs.models import AgendaStatus, Fair, FairMode, MeetingRequest, RequestStatus
from service.fairs.service import BookingRuleBroken, FairService, grid_of, span_of
from service.fairs.slots import Slot
from service.identity.audit import record_audit
from service.identity.principal import Principal, require_principal, require_staff
from service.lib.clock import now
from service.lib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.lib.events import publish

AGENDA_FINAL = "agenda_final"  # unscheduled_reason of the requests a final agenda closed


def _scheduler_module() -> Any:
    """The pure auto-scheduler."""
    from service.fairs import autoschedule

    return autoschedule


def _require_open_requests(fair: Fair) -> None:
    """A final agenda closes its fair's requests: no new ones, no decisions (mails would promise
    meetings that the published agenda does not hold)."""
    if fair.agenda_status == AgendaStatus.FINAL:
        raise BookingRuleBroken(
            AGENDA_FINAL, "The fair's agenda is final: meeting requests are closed. Contact the support center."
        )


def _requesting_firm(actor: Principal, fair: Fair, firm_id: uuid.UUID | None) -> uuid.UUID:
    """The firm a request is from: staff name it; a firm's user asks for its own verified firm,
    while the booking window is open."""
    require_principal(actor)
    if actor.is_staff:
        if firm_id is None:
            raise ValidationFailed.single("firm_id", "staff must say which firm the request is for")
        return firm_id
    actor.require_verified()
    if not actor.is_firm or actor.organization_id is None:
        raise Forbidden("Only firms send meeting requests.")
    if not fair.window_open(now()):
        raise BookingRuleBroken("window", "Requests are only possible while the booking window is open.")
    return actor.organization_id


@dataclass(frozen=True)
class ScheduleResult:
    scheduled: int
    unscheduled: list[uuid.UUID]
    bound: float
    objective: float
    optimal: bool
    method: str


class RequestService:
    """Request mode: firms ask, agencies accept or decline, the auto-scheduler places."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        actor: Principal,
        fair: Fair,
        agency_id: uuid.UUID,
        priority: int,
        message: str,
        firm_id: uuid.UUID | None = None,
    ) -> MeetingRequest:
        firm_id = _requesting_firm(actor, fair, firm_id)
        if fair.mode != FairMode.REQUESTS:
            raise BookingRuleBroken("mode", "This fair is first-come; book a free slot instead.")
        _require_open_requests(fair)
        if not 1 <= priority <= 3:
            raise ValidationFailed.single("priority", "must be 1, 2 or 3")
        agency = await repository.participant(self.session, fair.id, agency_id)
        if agency is None or agency.kind != "agency":
            raise NotFound("No such agency in this fair.")
        firm = await repository.participant(self.session, fair.id, firm_id)
        if firm is None or firm.kind != "firm":
            raise BookingRuleBroken("not_participant", "The firm does not take part in this fair; join it first.")
        request = MeetingRequest(
            fair_id=fair.id, firm_id=firm_id, agency_id=agency_id, priority=priority, message=message.strip()[:2000]
        )
        self.session.add(request)
        await self._flush_unique("You already sent this agency a request in this fair.")
        await publish(self.session, MeetingRequestCreated(request))
        return request

    async def _flush_unique(self, detail: str) -> None:
        """Flush in a savepoint; the open-request unique index refusing it is a 409 saying `detail`."""
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if repository.sqlstate(exc)[0] == repository.UNIQUE_VIOLATION:
                raise Conflict(detail) from None
            raise

    async def visible(self, viewer: Principal, request_id: uuid.UUID) -> MeetingRequest:
        request = await repository.find_request(self.session, request_id)
        if request is None or not (viewer.is_staff or viewer.owns(request.agency_id) or viewer.owns(request.firm_id)):
            raise NotFound("No such request.")
        return request

    async def decidable(self, actor: Principal, request_id: uuid.UUID) -> MeetingRequest:
        """The request if the actor is the one who decides on it (its agency, or staff): the
        confirmation page of a decision shows only to them."""
        request = await self.visible(actor, request_id)
        if not (actor.is_staff or actor.owns(request.agency_id)):
            raise Forbidden("Only the agency decides on a request.")
        return request

    async def decide(
        self, actor: Principal, request_id: uuid.UUID, accept: bool, *, change: bool = False
    ) -> MeetingRequest:
        """The agency (or staff) accepts or declines a pending request. The row is locked, so of
        concurrent decisions one wins and the others are 409 (rule `decided`). Turning an
        accepted request down, or a declined one into an acceptance, takes `change` and is
        audited (`request.decision_changed`, old → new)."""
        request = await self.decidable(actor, request_id)
        _require_open_requests(await FairService(self.session).get(request.fair_id))
        if request.status not in (RequestStatus.PENDING, RequestStatus.ACCEPTED, RequestStatus.DECLINED):
            raise BookingRuleBroken("status", "The request has already been scheduled.")
        previous = request.status
        wanted = RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED
        if previous != RequestStatus.PENDING and (not change or previous == wanted):
            raise BookingRuleBroken(
                "decided",
                f"The request was already {previous.value}; to change the decision, send it again with change=true.",
                status=previous.value,
            )
        request.status = wanted
        request.decided_at = now()
        await self._flush_unique("The firm has another open request to this agency.")
        if previous != RequestStatus.PENDING:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="request.decision_changed",
                target_type="meeting_request",
                target_id=request.id,
                changes={"status": {"old": previous.value, "new": wanted.value}},
            )
        await publish(self.session, (MeetingRequestAccepted if accept else MeetingRequestDeclined)(request))
        return request

    async def inbox(self, viewer: Principal, fair_id: uuid.UUID | None = None) -> list[MeetingRequest]:
        if viewer.is_staff:
            return await repository.requests_for(self.session, None, fair_id)
        if viewer.organization_id is None:
            return []
        return await repository.requests_for(self.session, viewer.organization_id, fair_id)

    # --- the agenda --------------------------------------------------------------------------

    async def schedule(self, fair: Fair, actor: Principal | None, time_limit: float = 10.0) -> ScheduleResult:
        """Place the accepted requests into slots (provisional agenda). Idempotent: requests already
        scheduled are not touched, and existing meetings count as busy. The fair's row is locked
        here (SELECT ... FOR UPDATE), so concurrent runs for one fair are serialized."""
        fair = await FairService(self.session).lock(fair.id)
        if fair.mode != FairMode.REQUESTS:
            raise BookingRuleBroken("mode", "Only request-mode fairs are auto-scheduled.")
        if fair.agenda_status == AgendaStatus.FINAL:
            raise BookingRuleBroken("final", "The agenda is already final.")
        grid = grid_of(fair)
        requests = await repository.accepted_requests(self.session, fair.id)
        # As bookings do: participants marking slots meanwhile wait for this run, or it for them.
        await repository.share_fair_participants(self.session, fair.id)
        problem = await self._problem(fair, grid, requests)
        solution = _scheduler_module().solve(problem, time_limit=time_limit)
        placed, unscheduled = await self._place(fair, grid, requests, solution, actor)
        fair.scheduled_at = now()
        fair.agenda_status = AgendaStatus.PROVISIONAL
        await self.session.flush()
        if actor is not None:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="fair.schedule",
                target_type="fair",
                target_id=fair.id,
                changes={"scheduled": placed, "unscheduled": len(unscheduled), "method": solution.method},
            )
        await publish(self.session, FairScheduled(fair, placed, tuple(unscheduled)))
        return ScheduleResult(
            scheduled=placed,
            unscheduled=unscheduled,
            bound=float(solution.bound),
            objective=float(solution.objective),
            optimal=bool(solution.optimal),
            method=str(solution.method),
        )

    async def _problem(self, fair: Fair, grid: Sequence[Slot], requests: Sequence[MeetingRequest]) -> Any:
        """The auto-scheduler's input: the requests, each party's unavailable slots, the slots its
        live meetings (in any fair) cover, and each firm's meetings already in this fair."""
        module = _scheduler_module()
        by_start = {s.starts_at: s.index for s in grid}
        unavailable: dict[str, set[int]] = {}
        for org_id, starts_at in await repository.fair_unavailability(self.session, fair.id):
            if starts_at in by_start:
                unavailable.setdefault(str(org_id), set()).add(by_start[starts_at])
        orgs = {r.firm_id for r in requests} | {r.agency_id for r in requests}
        busy: dict[str, set[int]] = {}
        existing: dict[str, int] = {}
        if grid and orgs:
            for agency_id, firm_id, starts_at, ends_at, meeting_fair in await repository.live_meeting_times(
                self.session, orgs, span_of(grid)
            ):
                hit = {s.index for s in grid if s.starts_at < ends_at and starts_at < s.ends_at}
                busy.setdefault(str(agency_id), set()).update(hit)
                busy.setdefault(str(firm_id), set()).update(hit)
                if meeting_fair == fair.id:
                    existing[str(firm_id)] = existing.get(str(firm_id), 0) + 1
        return module.Problem(
            n_slots=len(grid),
            pairs=tuple(
                module.Pair(request_id=str(r.id), firm=str(r.firm_id), agency=str(r.agency_id), priority=r.priority)
                for r in requests
            ),
            unavailable={k: frozenset(v) for k, v in unavailable.items()},
            busy={k: frozenset(v) for k, v in busy.items()},
            firm_limit=fair.max_meetings_per_firm,
            existing_count=existing,
        )

    async def _place(
        self,
        fair: Fair,
        grid: Sequence[Slot],
        requests: Sequence[MeetingRequest],
        solution: Any,
        actor: Principal | None,
    ) -> tuple[int, list[uuid.UUID]]:
        """Insert a provisional meeting for each request the solution placed; mark the others
        unscheduled with the reason. How many were placed, and the ids of those that were not."""
        rooms = await repository.agency_rooms(self.session, fair.id)
        placed = 0
        unscheduled: list[uuid.UUID] = []
        for request in requests:
            index = solution.assignments.get(str(request.id))
            reason = solution.unplaced.get(str(request.id), "no_common_free_slot")
            if index is not None and await self._insert(fair, request, grid[index], rooms, actor):
                request.status = RequestStatus.SCHEDULED
                request.unscheduled_reason = None
                placed += 1
                continue
            # Unplaced by the solver, or a first-come booking in another fair took the time since we read it.
            request.status = RequestStatus.UNSCHEDULED
            request.unscheduled_reason = reason if index is None else "no_common_free_slot"
            unscheduled.append(request.id)
        return placed, unscheduled

    async def _insert(
        self,
        fair: Fair,
        request: MeetingRequest,
        slot: Slot,
        rooms: dict[uuid.UUID, str | None],
        actor: Principal | None,
    ) -> bool:
        """The request's provisional meeting in the slot, in a savepoint; False when the slot was taken."""
        try:
            async with self.session.begin_nested():
                await repository.insert_meeting(
                    self.session,
                    fair_id=fair.id,
                    agency_id=request.agency_id,
                    firm_id=request.firm_id,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    room_url=rooms.get(request.agency_id),
                    provisional=True,
                    request_id=request.id,
                    booked_by=actor.user_id if actor else None,
                    by_staff=bool(actor and actor.is_staff),
                )
        except IntegrityError as exc:
            if slot_taken_from(exc) is None:
                raise
            return False
        return True

    async def finalize(self, staff: Principal, fair: Fair) -> int:
        """Publish the final agenda: provisional meetings become final. The fair's row is locked here."""
        require_staff(staff)
        fair = await FairService(self.session).lock(fair.id)
        if fair.agenda_status != AgendaStatus.PROVISIONAL:
            raise BookingRuleBroken("agenda", "Only a provisional agenda can be made final.")
        finalized = await repository.finalize_meetings(self.session, fair.id)
        count = len(finalized)
        # Requests still pending (or accepted since the last run) will never be placed: close them,
        # so nobody is reminded to answer them and the firm sees why.
        await repository.close_open_requests(self.session, fair.id, AGENDA_FINAL)
        fair.agenda_status = AgendaStatus.FINAL
        await self.session.flush()
        await record_audit(
            self.session, actor_id=staff.user_id, action="fair.finalize", target_type="fair", target_id=fair.id
        )
        # Notifications send the final agenda's invites and queue its reminders.
        await publish(self.session, FairFinalized(fair, tuple(finalized)))
        return count
