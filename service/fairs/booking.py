"""First-come booking, moves, cancels, outcomes and ratings of meetings. Services flush, never commit.

The database guards the invariants (exclusion constraints over tstzrange for agency and firm);
the per-firm limit holds under concurrency because a booking locks the firm's participant row
before counting. A booking that breaks two constraints reports whichever PostgreSQL checked
first, 23505 (unique) or 23P01 (exclusion); both become one domain error, `SlotTaken`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from service.config import Settings
from service.db.engine import idle
from service.fairs import repository
from service.fairs.calendar import meeting_ics, meeting_parties
from service.fairs.events import MeetingCancelled, MeetingMoved, MeetingRated
from service.fairs.models import (
    Fair,
    Meeting,
    MeetingEvent,
    MeetingOutcome,
    MeetingRating,
    MeetingStatus,
)
from service.fairs.service import BookingRuleBroken, FairService, fair_grid, grid_of
from service.fairs.slots import Slot
from service.fairs.terms import KEPT, FairTerms
from service.identity.audit import record_audit
from service.identity.principal import Principal, awaiting_verification, require_principal
from service.lib.clock import now
from service.lib.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized, ValidationFailed
from service.lib.events import publish

RETRYABLE = ("40P01", "40001")  # deadlock detected, serialization failure
RETRIES = 5


class SlotTaken(Conflict):
    """The database refused the meeting: the agency's table or the firm is busy at that time."""

    code = "slot-taken"
    title = "Slot taken"


def _retryable(exc: DBAPIError) -> bool:
    orig: Any = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return state in RETRYABLE


def slot_taken(constraint: str | None) -> SlotTaken:
    """The refusal when the constraint named `constraint` kept the meeting out of its slot."""
    if constraint == "ex_meetings_firm_overlap":
        return SlotTaken(
            "The firm already has a meeting at that time.", extra={"rule": "firm_overlap", "constraint": constraint}
        )
    return SlotTaken(
        "Someone else booked this slot a moment ago; pick another one.",
        extra={"rule": "slot_taken", "constraint": constraint},
    )


def slot_taken_from(exc: IntegrityError) -> SlotTaken | None:
    """Map an exclusion (23P01) or unique (23505) violation to SlotTaken; None for anything else."""
    state, constraint = repository.sqlstate(exc)
    if state not in (repository.EXCLUSION_VIOLATION, repository.UNIQUE_VIOLATION):
        return None
    return slot_taken(constraint)


# What the caller is told when a Meeting.why_not_* rule refuses an action, by (action, rule).
REFUSALS = {
    ("cancel", "status"): "Only a booked meeting can be cancelled.",
    ("cancel", "started"): "The meeting has already started.",
    ("move", "status"): "Only a booked meeting can be moved.",
    ("move", "no_fair"): "Only fair meetings can be moved here.",
    ("move", "window"): "Meetings can be moved only while the booking window is open.",
    ("move", "started"): "The meeting has already started.",
    ("rate", "status"): "The meeting was cancelled.",
    ("rate", "not_over"): "Outcomes can be recorded once the meeting's slot is over.",
}


def refusal(action: str, rule: str | None) -> DomainError | None:
    """The error for a rule that refuses `action` (404 to a viewer who is not a party); None when allowed."""
    if rule is None:
        return None
    if rule == "not_party":
        return NotFound("No such meeting.")
    return BookingRuleBroken(rule, REFUSALS[(action, rule)])


def _booking_firm(actor: Principal, firm_id: uuid.UUID | None) -> uuid.UUID:
    """The firm a booking is for: staff name it, a firm's user books for its own verified firm."""
    require_principal(actor)
    if actor.is_staff:
        if firm_id is None:
            raise ValidationFailed.single("firm_id", "staff must say which firm the meeting is for")
        return firm_id
    actor.require_verified()
    if not actor.is_firm or actor.organization_id is None:
        raise Forbidden("Only firms book meetings.")
    return actor.organization_id


@dataclass(frozen=True, slots=True)
class Booking:
    """What a booking asks for: a new meeting's id, and where and when."""

    id: uuid.UUID
    fair_id: uuid.UUID
    agency_id: uuid.UUID
    firm_id: uuid.UUID
    slot: Slot


def _booking_args(actor: Principal, booking: Booking, version: str, moment: datetime) -> tuple[Any, ...]:
    """`book_meeting`'s seventeen arguments, in its order: the caller as this request knows them (with
    their token when they are to be checked: an unsettled caller), then the booking."""
    slot = booking.slot
    history = json.dumps({"start": slot.starts_at.isoformat()})
    return (
        None if actor.settled else actor.token_id,
        actor.role,
        actor.organization_id,
        actor.organization_kind,
        actor.organization_status,
        booking.fair_id,
        version,
        booking.agency_id,
        booking.firm_id,
        slot.starts_at,
        slot.ends_at,
        booking.id,
        uuid.uuid4(),
        actor.user_id,
        actor.is_staff,
        history,
        moment,
    )


def _booked_meeting(booking: Booking, actor: Principal, room: str | None, booked_at: datetime) -> Meeting:
    """The meeting `book_meeting` inserted, as it wrote it (the room and the timestamps its answer)."""
    slot = booking.slot
    return Meeting(
        id=booking.id,
        fair_id=booking.fair_id,
        agency_id=booking.agency_id,
        firm_id=booking.firm_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        during=Range(slot.starts_at, slot.ends_at, bounds="[)"),
        status=MeetingStatus.BOOKED,
        room_url=room,
        sequence=0,
        provisional=False,
        request_id=None,
        booked_by=actor.user_id,
        by_staff=actor.is_staff,
        agency_rating=None,
        firm_rating=None,
        agency_outcome=None,
        firm_outcome=None,
        staff_outcome=None,
        created_at=booked_at,
        updated_at=booked_at,
    )


class BookingService:
    """First-come booking, moves, cancels and outcomes. The hot path uses SQLAlchemy Core."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- reading ---------------------------------------------------------------------------

    async def visible_meeting(self, viewer: Principal, meeting_id: uuid.UUID, *, lock: bool = False) -> Meeting:
        """The meeting if the viewer may see it (`Meeting.is_visible_to`), else 404."""
        meeting = await repository.find_meeting(self.session, meeting_id, lock=lock)
        if meeting is None or not meeting.is_visible_to(viewer):
            raise NotFound("No such meeting.")
        return meeting

    async def my_meetings(self, viewer: Principal, fair_id: uuid.UUID | None = None) -> list[Meeting]:
        org_id = viewer.organization_id
        if org_id is None:
            return []
        return await repository.meetings_of(self.session, org_id, fair_id)

    async def agenda(self, viewer: Principal, fair_id: uuid.UUID) -> list[Meeting]:
        """The meetings a fair's agenda page lists: staff see every meeting of the fair, a
        participant its own."""
        if viewer.is_staff:
            return await repository.fair_meetings(self.session, fair_id)
        return await self.my_meetings(viewer, fair_id)

    async def allowed(self, viewer: Principal, meeting_id: uuid.UUID, action: str) -> Meeting:
        """The meeting when the viewer may `action` it ("cancel", "move", "rate") now, for a page
        that asks for confirmation first; otherwise the refusal the action itself would give."""
        meeting = await self.visible_meeting(viewer, meeting_id)
        moment = now()
        if action == "move":
            fair = await FairService(self.session).get(meeting.fair_id) if meeting.fair_id is not None else None
            rule = meeting.why_not_move(viewer, moment, fair)
        elif action == "cancel":
            rule = meeting.why_not_cancel(viewer, moment)
        else:
            rule = meeting.why_not_rate(viewer, moment)
        refused = refusal(action, rule)
        if refused is not None:
            raise refused
        return meeting

    async def move_targets(self, fair: Fair, meetings: Sequence[Meeting]) -> dict[uuid.UUID, list[Slot]]:
        """For each booked meeting of `fair`, the slots it could move to: neither its agency nor its
        firm marked the slot unavailable, and neither has another live meeting overlapping it (in
        any fair). The meeting's own slot is among them. One query for all the meetings.

        A hint for the page only: `move` checks again, so a slot taken meanwhile still gives a 409.
        """
        movable = [m for m in meetings if m.movable_within(fair)]
        grid = grid_of(fair)
        if not movable or not grid:
            return {m.id: [] for m in movable}
        orgs = {m.agency_id for m in movable} | {m.firm_id for m in movable}
        span = (grid[0].starts_at, grid[-1].ends_at)
        unavailable, busy = await repository.marks_and_meetings(self.session, fair.id, orgs, span)
        out: dict[uuid.UUID, list[Slot]] = {}
        for meeting in movable:
            parties = (meeting.agency_id, meeting.firm_id)
            marked_starts = set().union(*(unavailable.get(o, set()) for o in parties))
            others = [(start, end) for o in parties for start, end, other in busy.get(o, ()) if other != meeting.id]
            out[meeting.id] = [
                slot
                for slot in grid
                if slot.starts_at not in marked_starts
                and not any(start < slot.ends_at and slot.starts_at < end for start, end in others)
            ]
        return out

    async def history(self, viewer: Principal, meeting_id: uuid.UUID) -> list[MeetingEvent]:
        await self.visible_meeting(viewer, meeting_id)
        return await repository.meeting_events(self.session, meeting_id)

    # --- booking ---------------------------------------------------------------------------

    async def book(
        self,
        actor: Principal,
        fair_id: uuid.UUID,
        agency_id: uuid.UUID,
        start: datetime,
        firm_id: uuid.UUID | None = None,
    ) -> Meeting:
        """Book `start` at the agency's table for the actor's firm (or, for staff, `firm_id`).

        The fair's rules (mode, window, slot grid) are checked here on its kept terms
        (`service.fairs.terms`); the rest is one statement, the database function `book_meeting`
        (`repository.BOOK_MEETING`): the caller, when unsettled (`Principal.settled`); a slot
        already taken, refused on a read; the slot's and the firm's locks; the fair's row version
        (`stale`: the fair changed since its terms were read; they are read again and checked
        again); unavailability and the firm's limit on a fresh snapshot; the INSERT that the
        exclusion constraints decide, the history row and the mail notice.

        When the booking is all its session does (a firm's API call without Idempotency-Key), the
        statement is its own transaction, straight on the driver: one round trip. Otherwise (a form,
        a keyed request, staff with their audit row) it joins the session's transaction.
        """
        firm_id = _booking_firm(actor, firm_id)
        on_behalf = actor.is_staff
        if start.tzinfo is None:
            raise ValidationFailed.single("start", "must include a UTC offset")
        alone = not on_behalf and idle(self.session)
        meeting_id = uuid.uuid4()
        for fresh in (False, True, True):
            terms, slot = await self._bookable_slot(fair_id, start, on_behalf, alone=alone, fresh=fresh)
            booking = Booking(meeting_id, fair_id, agency_id, firm_id, slot)
            args = _booking_args(actor, booking, terms.version, now())
            outcome, detail, room, booked_at = await repository.book_meeting(self.session, args, alone=alone)
            if outcome != "stale":
                break
        else:
            raise Conflict("The fair changed while booking; try again.")
        await self._refuse(outcome, detail, fair_id, agency_id)
        meeting = _booked_meeting(booking, actor, room, booked_at)
        if not alone:  # the session's later work (a page, the audit row) sees it as the row it is
            make_transient_to_detached(meeting)
            self.session.add(meeting)
        if on_behalf:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="meeting.book_on_behalf",
                target_type="meeting",
                target_id=meeting.id,
                changes={"firm_id": firm_id, "start": meeting.starts_at},
            )
        return meeting

    async def _bookable_slot(
        self, fair_id: uuid.UUID, start: datetime, on_behalf: bool, *, alone: bool, fresh: bool
    ) -> tuple[FairTerms, Slot]:
        """The fair's terms and the slot they let the caller book; a refusal only on terms read afresh."""
        engine = self.session.bind
        assert isinstance(engine, AsyncEngine)
        terms = None if fresh else KEPT.get(engine, fair_id)
        if terms is None:
            row = await repository.fair_terms(self.session, fair_id, alone=alone)
            if row is None:
                KEPT.forget(engine, fair_id)
                raise NotFound("No such fair.")
            terms = FairTerms.from_row(row)
            KEPT.keep(engine, fair_id, terms)
            fresh = True
        slot = terms.slot_for(start, now(), on_behalf=on_behalf)
        if isinstance(slot, DomainError):
            if not fresh:
                return await self._bookable_slot(fair_id, start, on_behalf, alone=alone, fresh=True)
            raise slot
        return terms, slot

    async def _refuse(self, outcome: str, detail: str | None, fair_id: uuid.UUID, agency_id: uuid.UUID) -> None:
        """Raise what `book_meeting`'s outcome means, unless the meeting was booked."""
        if outcome == "booked":
            return
        if outcome == "caller_changed":  # signed out, removed, given another role... a moment ago, on any instance
            raise Unauthorized("Your sign-in changed a moment ago; sign in again.")
        if outcome == "caller_unverified":  # the organization was suspended a moment ago: as any request after it
            raise awaiting_verification()
        if outcome == "not_participant":
            await self._explain_missing(fair_id, agency_id)
            raise BookingRuleBroken("not_participant", "The firm does not take part in this fair; join it first.")
        if outcome == "unavailable":
            raise BookingRuleBroken("unavailable", "The agency or the firm marked this slot as unavailable.")
        if outcome == "limit":
            raise BookingRuleBroken("limit", "The firm has reached the fair's meeting limit.")
        raise slot_taken(detail)

    async def _explain_missing(self, fair_id: uuid.UUID, agency_id: uuid.UUID) -> None:
        """The rare path: say whether the fair or the agency is what is missing."""
        if await repository.get_fair(self.session, fair_id) is None:
            raise NotFound("No such fair.")
        agency = await repository.participant(self.session, fair_id, agency_id)
        if agency is None or agency.kind != "agency":
            raise NotFound("No such agency in this fair.")

    async def _history(self, meeting_id: uuid.UUID, kind: str, actor: Principal | None, data: dict[str, Any]) -> None:
        await repository.add_meeting_event(
            self.session, meeting_id, kind, actor.user_id if actor else None, bool(actor and actor.is_staff), data
        )

    async def _audit_on_behalf(self, actor: Principal, meeting: Meeting, action: str, changes: dict[str, Any]) -> None:
        if actor.is_staff:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action=f"meeting.{action}_on_behalf",
                target_type="meeting",
                target_id=meeting.id,
                changes=changes,
            )

    async def cancel(self, actor: Principal, meeting_id: uuid.UUID) -> Meeting:
        """Either party or staff cancels (`Meeting.why_not_cancel`); the slot is free again at once
        (exclusion covers live rows only)."""
        meeting = await self.visible_meeting(actor, meeting_id, lock=True)
        refused = refusal("cancel", meeting.why_not_cancel(actor, now()))
        if refused is not None:
            raise refused
        meeting.status = MeetingStatus.CANCELLED
        meeting.sequence += 1
        await self.session.flush()
        await self._history(meeting.id, "cancelled", actor, {})
        await self._audit_on_behalf(actor, meeting, "cancel", {"status": "cancelled"})
        await publish(self.session, MeetingCancelled(meeting, actor))
        return meeting

    async def move(self, actor: Principal, meeting_id: uuid.UUID, start: datetime) -> Meeting:
        """Move a booked meeting to another slot of the same agency table (`Meeting.why_not_move`),
        with the booking checks."""
        meeting = await self.visible_meeting(actor, meeting_id, lock=True)
        fair = await FairService(self.session).get(meeting.fair_id) if meeting.fair_id is not None else None
        refused = refusal("move", meeting.why_not_move(actor, now(), fair))
        if refused is not None:
            raise refused
        assert fair is not None
        if start.tzinfo is None:
            raise ValidationFailed.single("start", "must include a UTC offset")
        slot = fair_grid(fair.days, fair.slot_minutes)[1].get(start)
        if slot is None:
            raise ValidationFailed.single("start", "is not the start of a slot of this fair")
        if slot.starts_at == meeting.starts_at:
            return meeting
        previous = meeting.starts_at
        await self._move_to(fair, meeting, slot)
        await self._history(
            meeting.id, "moved", actor, {"from": previous.isoformat(), "to": slot.starts_at.isoformat()}
        )
        await self._audit_on_behalf(actor, meeting, "move", {"start": {"old": previous, "new": slot.starts_at}})
        await publish(self.session, MeetingMoved(meeting, actor, previous))
        return meeting

    async def _move_to(self, fair: Fair, meeting: Meeting, slot: Slot) -> None:
        """Take the slot's and both parties' locks, check unavailability, and move the row."""
        await repository.lock_slot(self.session, meeting.agency_id, slot.starts_at)
        await repository.lock_parties_in_order(self.session, fair.id, meeting.agency_id, meeting.firm_id)
        parties = [meeting.agency_id, meeting.firm_id]
        if await repository.count_unavailable_at(self.session, fair.id, parties, slot.starts_at):
            raise BookingRuleBroken("unavailable", "The agency or the firm marked this slot as unavailable.")
        (sequence,) = await self._write_slot(repository.move_meeting(meeting.id, slot.starts_at, slot.ends_at))
        meeting.starts_at, meeting.ends_at, meeting.sequence = slot.starts_at, slot.ends_at, sequence

    async def _write_slot(self, statement: Executable, params: dict[str, Any] | None = None) -> Row[Any]:
        """Run the statement that puts a meeting in a slot (booking's INSERT, a move's UPDATE); its row.

        `repository.LOCK_SLOT` keeps writers into one slot from waiting for each other; a writer it
        does not cover can still meet this one in a deadlock (a firm's meetings in two fairs, an
        agency's slots of other lengths in another fair, the auto-scheduler). So the statement runs
        in a savepoint: if it loses (40P01), only its own index entry is rolled back, the other goes
        on, and it tries again (up to RETRIES times), to find the slot free or taken (SlotTaken).
        """
        # The savepoint is the driver's, by name, not `begin_nested()`: SQLAlchemy's nested
        # transaction cost as much as the statement itself (two round trips and its bookkeeping).
        # No ORM change may be flushed inside it (a rollback to it would not expire them): pending
        # ones are flushed first. It is never released: COMMIT ends it with the rest.
        await self.session.flush()
        conn = await self.session.connection()
        await conn.exec_driver_sql("SAVEPOINT write_slot")
        for attempt in range(RETRIES + 1):
            try:
                return (await self.session.execute(statement, params)).one()
            except IntegrityError as exc:
                taken = slot_taken_from(exc)
                if taken is None:
                    raise
                await conn.exec_driver_sql("ROLLBACK TO SAVEPOINT write_slot")  # the rest may go on (409)
                raise taken from None
            except DBAPIError as exc:
                if attempt == RETRIES or not _retryable(exc):
                    raise
                await conn.exec_driver_sql("ROLLBACK TO SAVEPOINT write_slot")
        raise AssertionError("unreachable")

    # --- after the slot ----------------------------------------------------------------------

    async def record_outcome(
        self, actor: Principal, meeting_id: uuid.UUID, outcome: str, rating: str | None
    ) -> Meeting:
        """After the slot (`Meeting.why_not_rate`): the caller's side reports held or no-show, and rates it.

        Each side's report is kept apart (`agency_outcome`, `firm_outcome`; staff's in
        `staff_outcome`). `status` follows the reports: staff's if any, else the two sides' when
        they agree or only one has reported. When they disagree, `status` keeps the first report
        and the meeting is `outcome_disputed` until staff report theirs.
        """
        meeting = await self.visible_meeting(actor, meeting_id, lock=True)
        refused = refusal("rate", meeting.why_not_rate(actor, now()))
        if refused is not None:
            raise refused
        reported = MeetingOutcome(outcome)
        side = _report(meeting, actor, reported, rating)
        await self.session.flush()
        await self._history(
            meeting.id,
            reported.value,
            actor,
            {"rating": rating, "side": side, "status": str(meeting.status), "disputed": meeting.outcome_disputed},
        )
        if rating is not None:
            await publish(self.session, MeetingRated(meeting, actor))
        await self._audit_on_behalf(
            actor, meeting, "outcome", {"outcome": reported.value, "status": str(meeting.status)}
        )
        return meeting

    async def object(self, actor: Principal, meeting_id: uuid.UUID, message: str) -> None:
        """A participant objects to a provisional meeting; staff see it in the history."""
        meeting = await self.visible_meeting(actor, meeting_id)
        if not meeting.provisional:
            raise BookingRuleBroken("final", "The agenda is final; cancel or move the meeting instead.")
        if not message.strip():
            raise ValidationFailed.single("message", "is required")
        await self._history(meeting.id, "objection", actor, {"message": message.strip()[:2000]})

    async def invite(self, viewer: Principal, meeting_id: uuid.UUID, settings: Settings) -> bytes:
        """The meeting's .ics, the same invite its mails carry."""
        meeting = await self.visible_meeting(viewer, meeting_id)
        return meeting_ics(meeting, await meeting_parties(self.session, meeting), settings)


def _report(meeting: Meeting, actor: Principal, reported: MeetingOutcome, rating: str | None) -> str:
    """Write the actor's side's outcome (and its rating), settle `status`; the side's name."""
    if actor.is_staff:
        side, meeting.staff_outcome = "staff", reported
    elif actor.owns(meeting.agency_id):
        side, meeting.agency_outcome = "agency", reported
    else:
        side, meeting.firm_outcome = "firm", reported
    reports = {meeting.agency_outcome, meeting.firm_outcome} - {None}
    settled = meeting.staff_outcome or (reports.pop() if len(reports) == 1 else None)
    if settled is not None:
        meeting.status = MeetingStatus(settled.value)
    if rating is not None:
        value = MeetingRating(rating)
        if actor.owns(meeting.agency_id):
            meeting.agency_rating = value
        elif actor.owns(meeting.firm_id):
            meeting.firm_rating = value
    return side
