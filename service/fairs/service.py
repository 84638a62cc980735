"""Rules of fairs: setup, participants, unavailability, first-come booking, moves, cancels,
outcomes and meeting requests. Services flush, never commit.

The database guards the invariants (exclusion constraints over tstzrange for agency and firm,
a unique open-request index); the per-firm limit holds under concurrency because a booking
locks the firm's participant row before counting. Constraint violations, whichever was
checked first (PITFALLS #9), become one domain error, `SlotTaken`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Enum, Executable, Row, and_, delete, func, insert, literal, or_, select, text, union_all, update
from sqlalchemy.dialects.postgresql import TSTZRANGE
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from service.accounts.models import User
from service.fairs.calendar import Attendee, InviteData, meeting_invite
from service.fairs.models import (
    AgendaStatus,
    Fair,
    FairMode,
    FairParticipant,
    Meeting,
    MeetingEvent,
    MeetingOutcome,
    MeetingRating,
    MeetingRequest,
    MeetingStatus,
    RequestStatus,
    Unavailability,
)
from service.fairs.schemas import MAX_DAYS, MAX_IDS, FairIn, FairPatch
from service.fairs.slots import FIRST_YEAR, LAST_YEAR, GridError, Slot, build_grid, normalize_days, seoul
from service.identity.audit import record_audit
from service.identity.principal import Principal, require_principal, require_staff
from service.lib.clock import now
from service.lib.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationFailed
from service.lib.events import publish
from service.registry.models import Organization, OrganizationKind, OrganizationStatus

DEFAULT_ROOM_BASE = "https://meet.jit.si/procure-match-"
EXCLUSION_VIOLATION = "23P01"
UNIQUE_VIOLATION = "23505"


class SlotTaken(Conflict):
    """The database refused the meeting: the agency's table or the firm is busy at that time."""

    code = "slot-taken"
    title = "Slot taken"


class BookingRuleBroken(Conflict):
    """A fair rule refuses the booking; `rule` says which (window, unavailable, limit, mode...)."""

    code = "booking-rule"
    title = "Booking not allowed"

    def __init__(self, rule: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, extra={"rule": rule, **extra})
        self.rule = rule


class MeetingsAffected(Conflict):
    code = "meetings-affected"
    title = "Meetings would be affected"


def _sqlstate(exc: IntegrityError) -> tuple[str | None, str | None]:
    orig: Any = exc.orig
    cause = getattr(orig, "__cause__", None)
    state = getattr(orig, "sqlstate", None) or getattr(cause, "sqlstate", None)
    constraint = getattr(cause, "constraint_name", None) or getattr(orig, "constraint_name", None)
    return state, constraint


# Writers into one slot of one agency table take turns: a transaction-level advisory lock on
# (agency, slot start), taken before any row lock. Without it they all wait for the first
# writer's uncommitted index entry (an exclusion constraint is checked after the entry goes
# in); when that writer fails after all (its firm is busy then elsewhere) they wake together,
# wait for each other, and PostgreSQL kills all but one with 40P01. Writers into other slots
# never wait for it.
_LOCK_SLOT = text(
    """
    SELECT pg_advisory_xact_lock(hashtextextended(
             'slot:' || CAST(CAST(:agency AS uuid) AS text) || ':'
             || CAST(extract(epoch FROM CAST(:start AS timestamptz)) AS text), 0))
    """
)

RETRYABLE = ("40P01", "40001")  # deadlock detected, serialization failure
RETRIES = 5


def _retryable(exc: DBAPIError) -> bool:
    orig: Any = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return state in RETRYABLE


def slot_taken_from(exc: IntegrityError) -> SlotTaken | None:
    """Map an exclusion (23P01) or unique (23505) violation to SlotTaken; None for anything else."""
    state, constraint = _sqlstate(exc)
    if state not in (EXCLUSION_VIOLATION, UNIQUE_VIOLATION):
        return None
    if constraint == "ex_meetings_firm_overlap":
        return SlotTaken(
            "The firm already has a meeting at that time.", extra={"rule": "firm_overlap", "constraint": constraint}
        )
    return SlotTaken(
        "Someone else booked this slot a moment ago; pick another one.",
        extra={"rule": "slot_taken", "constraint": constraint},
    )


_LOCK_FIRM_AND_READ_FAIR = text(
    """
    SELECT f.mode, f.days, f.slot_minutes, f.booking_opens_at, f.booking_closes_at, f.max_meetings_per_firm,
           a.room_url
      FROM fair_participants p
      JOIN fairs f ON f.id = p.fair_id
      JOIN fair_participants a ON a.fair_id = p.fair_id AND a.organization_id = :agency AND a.kind = 'agency'
     WHERE p.fair_id = :fair AND p.organization_id = :firm AND p.kind = 'firm'
       FOR UPDATE OF p FOR KEY SHARE OF a
    """
).columns(mode=Enum(FairMode, name="fair_mode", values_callable=lambda e: [m.value for m in e]))

# A move locks both parties' rows, in one global order (by organization id; LockRows runs above
# the sort): moves at one agency table, and a firm's moves and bookings, take turns, while
# bookings at the table (KEY SHARE of the agency's row) go on. Marking a slot unavailable (FOR
# UPDATE of the row) waits for the move or the move for it.
_LOCK_PARTIES_IN_ORDER = text(
    """
    SELECT 1 FROM fair_participants
     WHERE fair_id = :fair AND organization_id IN (:agency, :firm)
     ORDER BY organization_id
       FOR NO KEY UPDATE
    """
)

_SHARE_FAIR_PARTICIPANTS = text("SELECT 1 FROM fair_participants WHERE fair_id = :fair FOR KEY SHARE")

_CHECK_AND_INSERT = text(
    """
    WITH checks AS (
      SELECT (SELECT count(*) FROM fair_unavailability
               WHERE fair_id = :fair AND organization_id IN (:agency, :firm) AND starts_at = :start) AS unavailable,
             (SELECT count(*) FROM meetings
               WHERE fair_id = :fair AND firm_id = :firm AND status <> 'cancelled') AS firm_meetings
    ), ins AS (
      INSERT INTO meetings (id, fair_id, agency_id, firm_id, starts_at, ends_at, room_url, booked_by, by_staff,
                            status, sequence, provisional)
      SELECT :id, :fair, :agency, :firm, :start, :end, :room, :user, :by_staff, 'booked', 0, false
        FROM checks
       WHERE unavailable = 0 AND (CAST(:limit AS integer) IS NULL OR firm_meetings < CAST(:limit AS integer))
      RETURNING id, during, created_at, updated_at
    ), history AS (
      INSERT INTO meeting_events (id, meeting_id, kind, actor_id, by_staff, data, at)
      SELECT :event_id, id, 'booked', :user, :by_staff, CAST(:data AS jsonb), :at FROM ins
    )
    SELECT checks.unavailable, checks.firm_meetings, ins.during, ins.created_at, ins.updated_at
      FROM checks LEFT JOIN ins ON true
    """
).columns(during=TSTZRANGE())


@lru_cache(maxsize=256)
def _grid_cached(days_json: str, slot_minutes: int) -> tuple[tuple[Slot, ...], dict[datetime, Slot]]:
    grid = tuple(build_grid(json.loads(days_json), slot_minutes))
    return grid, {slot.starts_at: slot for slot in grid}


def fair_grid(days: list[dict[str, Any]], slot_minutes: int) -> tuple[tuple[Slot, ...], dict[datetime, Slot]]:
    return _grid_cached(json.dumps(days, sort_keys=True), slot_minutes)


def grid_of(fair: Fair) -> tuple[Slot, ...]:
    return fair_grid(fair.days, fair.slot_minutes)[0]


def room_url_for(template: str | None, fair_id: uuid.UUID, agency_id: uuid.UUID) -> str:
    """The agency table's online room: the fair's template, or a unique unguessable room."""
    if template:
        return expand_room_template(
            template, fair_id=str(fair_id), agency_id=str(agency_id), token=secrets.token_hex(6)
        )
    return DEFAULT_ROOM_BASE + secrets.token_urlsafe(12).replace("_", "x").replace("-", "y")


ROOM_PLACEHOLDERS = ("fair_id", "agency_id", "token")


def expand_room_template(template: str, **values: str) -> str:
    """Literal substitution of exactly {fair_id}, {agency_id} and {token}: never str.format, whose
    format specs and attribute access would let a staff-typed string build huge strings or reach objects."""
    for name in ROOM_PLACEHOLDERS:
        template = template.replace("{" + name + "}", values[name])
    return template


def room_template_problem(template: str) -> str | None:
    """Why a room link template is refused (None when it is fine): an https:// URL with a host,
    no spaces or control characters, braces only in the three placeholders, and short enough
    once expanded to fit the participants' room_url column."""
    sample = expand_room_template(
        template, fair_id=str(uuid.UUID(int=0)), agency_id=str(uuid.UUID(int=0)), token="0" * 12
    )
    if "{" in sample or "}" in sample:
        return "may only use {fair_id}, {agency_id} and {token}"
    if not template.startswith("https://") or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in sample):
        return "must be an https:// link"
    try:
        host = urlsplit(sample).hostname
    except ValueError:
        host = None
    if not host:
        return "must be an https:// link"
    if len(sample) > 500:
        return "is too long once {fair_id}, {agency_id} and {token} are filled in (at most 500 characters)"
    return None


def _in_years(moment: datetime) -> bool:
    """Whether an aware datetime lies in the fair years (compared in UTC, where none can overflow)."""
    return FIRST_YEAR <= moment.replace(tzinfo=None).year <= LAST_YEAR and (
        datetime(FIRST_YEAR, 1, 1, tzinfo=UTC) <= moment < datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    )


def _grid_error(exc: GridError) -> ValidationFailed:
    return ValidationFailed.single(exc.field, exc.message)


def _check_fair_fields(
    errors: FieldErrors,
    *,
    name: str | None,
    slot_minutes: int,
    opens: datetime,
    closes: datetime,
    limit: int | None,
    template: str | None,
) -> None:
    if name is not None and not name.strip():
        errors.add("name", "is required")
    if not 5 <= slot_minutes <= 240:
        errors.add("slot_minutes", "must be between 5 and 240")
    if opens.tzinfo is None or closes.tzinfo is None:
        errors.add("booking_opens_at", "must include a UTC offset")
    elif not (_in_years(opens) and _in_years(closes)):
        for field, moment in (("booking_opens_at", opens), ("booking_closes_at", closes)):
            if not _in_years(moment):
                errors.add(field, "must be a date and time between 2000 and 2100")
    elif opens >= closes:
        errors.add("booking_closes_at", "must be after booking_opens_at")
    if limit is not None and limit < 1:
        errors.add("max_meetings_per_firm", "must be 1 or more")
    if template:
        problem = room_template_problem(template)
        if problem is not None:
            errors.add("room_url_template", problem)


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    status: str  # free | booked | unavailable
    mine: bool
    meeting_id: uuid.UUID | None = None
    firm_id: uuid.UUID | None = None


class FairService:
    """Fair setup by staff, participants and their unavailable slots."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, fair_id: uuid.UUID) -> Fair:
        fair = await self.session.get(Fair, fair_id)
        if fair is None:
            raise NotFound("No such fair.")
        return fair

    async def list_fairs(self, year: int | None, offset: int, limit: int) -> tuple[list[Fair], int]:
        query = select(Fair)
        if year is not None:
            query = query.where(func.extract("year", func.timezone("Asia/Seoul", Fair.booking_closes_at)) == year)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(Fair.booking_opens_at.desc()).offset(offset).limit(limit))
        return list(rows), total

    async def create(self, staff: Principal, data: FairIn) -> Fair:
        require_staff(staff)
        errors = FieldErrors()
        _check_fair_fields(
            errors,
            name=data.name,
            slot_minutes=data.slot_minutes,
            opens=data.booking_opens_at,
            closes=data.booking_closes_at,
            limit=data.max_meetings_per_firm,
            template=data.room_url_template,
        )
        days = self._days(data.days, errors)
        errors.raise_if_any()
        if days and not fair_grid(days, data.slot_minutes)[0]:
            raise ValidationFailed.single("days", "the hours hold no whole slot of this length")
        fair = Fair(
            name=data.name.strip(),
            description=data.description,
            mode=FairMode(data.mode),
            days=days,
            slot_minutes=data.slot_minutes,
            booking_opens_at=data.booking_opens_at,
            booking_closes_at=data.booking_closes_at,
            max_meetings_per_firm=data.max_meetings_per_firm,
            room_url_template=data.room_url_template or None,
            created_by=staff.user_id,
        )
        self.session.add(fair)
        await self.session.flush()
        await record_audit(
            self.session, actor_id=staff.user_id, action="fair.create", target_type="fair", target_id=fair.id
        )
        return fair

    def _days(self, days: Sequence[Any], errors: FieldErrors) -> list[dict[str, Any]]:
        if len(days) > MAX_DAYS:  # the HTML form builds its days without the API schema's bound
            errors.add("days", f"at most {MAX_DAYS} days")
            return []
        raw = [
            {
                "date": d.date,
                "start": d.start,
                "end": d.end,
                "breaks": [{"start": b.start, "end": b.end} for b in d.breaks],
            }
            for d in days
        ]
        try:
            return normalize_days(raw)
        except GridError as exc:
            errors.add(exc.field, exc.message)
            return []

    async def update(self, staff: Principal, fair: Fair, data: FairPatch) -> Fair:
        """Edit a fair. A change that would leave a live meeting off the new grid is refused (409, listed)."""
        require_staff(staff)
        errors = FieldErrors()
        days = self._days(data.days, errors) if data.days is not None else fair.days
        slot_minutes = data.slot_minutes if data.slot_minutes is not None else fair.slot_minutes
        opens = data.booking_opens_at or fair.booking_opens_at
        closes = data.booking_closes_at or fair.booking_closes_at
        _check_fair_fields(
            errors,
            name=data.name,
            slot_minutes=slot_minutes,
            opens=opens,
            closes=closes,
            limit=data.max_meetings_per_firm,
            template=data.room_url_template,
        )
        errors.raise_if_any()
        _, new_starts = fair_grid(days, slot_minutes)
        live = await self.session.scalars(
            select(Meeting)
            .where(Meeting.fair_id == fair.id, Meeting.status != MeetingStatus.CANCELLED)
            .order_by(Meeting.starts_at)
        )
        affected = []
        for meeting in live:
            slot = new_starts.get(meeting.starts_at)
            if slot is None or slot.ends_at != meeting.ends_at:
                affected.append(meeting)
        if affected:
            raise MeetingsAffected(
                f"{len(affected)} meeting(s) would no longer fit the slot grid; move or cancel them first.",
                extra={
                    "meetings": [
                        {
                            "id": str(m.id),
                            "agency_id": str(m.agency_id),
                            "firm_id": str(m.firm_id),
                            "start": m.starts_at.isoformat(),
                        }
                        for m in affected
                    ]
                },
            )
        before = {
            "name": fair.name,
            "days": fair.days,
            "slot_minutes": fair.slot_minutes,
            "booking_opens_at": fair.booking_opens_at,
            "booking_closes_at": fair.booking_closes_at,
            "max_meetings_per_firm": fair.max_meetings_per_firm,
        }
        if data.name is not None:
            fair.name = data.name.strip()
        if data.description is not None:
            fair.description = data.description
        fair.days = days
        fair.slot_minutes = slot_minutes
        fair.booking_opens_at = opens
        fair.booking_closes_at = closes
        if data.max_meetings_per_firm is not None:
            fair.max_meetings_per_firm = data.max_meetings_per_firm
        if data.room_url_template is not None:
            fair.room_url_template = data.room_url_template or None
        await self.session.flush()
        from service.identity.audit import diff

        after = {k: getattr(fair, k) for k in before}
        await record_audit(
            self.session,
            actor_id=staff.user_id,
            action="fair.update",
            target_type="fair",
            target_id=fair.id,
            changes=diff(before, after),
        )
        return fair

    # --- participants -------------------------------------------------------------------

    async def participant(self, fair_id: uuid.UUID, organization_id: uuid.UUID) -> FairParticipant | None:
        found: FairParticipant | None = await self.session.scalar(
            select(FairParticipant).where(
                FairParticipant.fair_id == fair_id, FairParticipant.organization_id == organization_id
            )
        )
        return found

    async def is_participant(self, fair_id: uuid.UUID, principal: Principal) -> bool:
        if principal.organization_id is None:
            return False
        return await self.participant(fair_id, principal.organization_id) is not None

    async def add_participants(
        self, actor: Principal, fair: Fair, organization_ids: Sequence[uuid.UUID]
    ) -> list[FairParticipant]:
        """Staff add any verified organizations; a verified organization may join an open fair itself."""
        require_principal(actor)
        if len(organization_ids) > MAX_IDS:  # the staff form's ticks are not bounded by the API schema
            raise ValidationFailed.single("organization_ids", f"at most {MAX_IDS} organizations per call")
        if not actor.is_staff:
            actor.require_verified()
            if len(organization_ids) != 1 or not actor.owns(organization_ids[0]):
                raise Forbidden("Only staff may add other organizations to a fair.")
            if now() >= fair.booking_closes_at:
                raise BookingRuleBroken("window", "The fair's booking window has closed; ask the support center.")
        orgs = {
            o.id: o
            for o in await self.session.scalars(select(Organization).where(Organization.id.in_(organization_ids)))
        }
        added: list[FairParticipant] = []
        errors = FieldErrors()
        for i, org_id in enumerate(organization_ids):
            org = orgs.get(org_id)
            if org is None:
                errors.add(f"organization_ids[{i}]", "no such organization")
            elif org.status != OrganizationStatus.VERIFIED:
                errors.add(f"organization_ids[{i}]", "is not verified")
        errors.raise_if_any()
        for org_id in dict.fromkeys(organization_ids):
            existing = await self.participant(fair.id, org_id)
            if existing is not None:
                added.append(existing)
                continue
            org = orgs[org_id]
            participant = FairParticipant(
                fair_id=fair.id,
                organization_id=org_id,
                kind=str(org.kind),
                room_url=(
                    room_url_for(fair.room_url_template, fair.id, org_id)
                    if org.kind == OrganizationKind.AGENCY
                    else None
                ),
                added_by_staff=actor.is_staff,
            )
            self.session.add(participant)
            added.append(participant)
        await self.session.flush()
        if actor.is_staff:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="fair.add_participants",
                target_type="fair",
                target_id=fair.id,
                changes={"organization_ids": [str(o) for o in organization_ids]},
            )
        return added

    async def participants(
        self, viewer: Principal, fair: Fair, kind: str | None = None
    ) -> list[tuple[FairParticipant, Organization]]:
        if not viewer.is_staff and not await self.is_participant(fair.id, viewer):
            raise NotFound("No such fair participant list.")
        query = (
            select(FairParticipant, Organization)
            .join(Organization, Organization.id == FairParticipant.organization_id)
            .where(FairParticipant.fair_id == fair.id)
            .order_by(FairParticipant.kind, Organization.name)
        )
        if kind:
            query = query.where(FairParticipant.kind == kind)
        return [(p, o) for p, o in (await self.session.execute(query)).tuples()]

    async def acting_participant(
        self, actor: Principal, fair: Fair, organization_id: uuid.UUID | None = None, *, lock: bool = False
    ) -> FairParticipant:
        """The participant the actor speaks for: its own verified organization, or for staff the
        participant `organization_id`. 404 when that organization does not take part in the fair."""
        require_principal(actor)
        if actor.is_staff:
            org_id = organization_id
        else:
            actor.require_verified()
            org_id = actor.organization_id
        participant = None
        if org_id is not None:
            query = select(FairParticipant).where(
                FairParticipant.fair_id == fair.id, FairParticipant.organization_id == org_id
            )
            participant = await self.session.scalar(query.with_for_update() if lock else query)
        if participant is None:
            raise NotFound("You do not take part in this fair.")
        return participant

    async def unavailability(
        self, actor: Principal, fair: Fair, organization_id: uuid.UUID | None = None
    ) -> tuple[FairParticipant, set[datetime], set[datetime]]:
        """What the unavailability page shows: the participant, the starts it marked, and the
        starts of its live meetings in this fair (which it cannot mark)."""
        participant = await self.acting_participant(actor, fair, organization_id)
        org_id = participant.organization_id
        marked = await self.unavailable_starts(fair.id, org_id)
        meetings = set(
            await self.session.scalars(
                select(Meeting.starts_at).where(
                    Meeting.fair_id == fair.id,
                    Meeting.status != MeetingStatus.CANCELLED,
                    or_(Meeting.agency_id == org_id, Meeting.firm_id == org_id),
                )
            )
        )
        return participant, marked, meetings

    async def set_unavailable(
        self, actor: Principal, fair: Fair, starts: Sequence[datetime], organization_id: uuid.UUID | None = None
    ) -> list[datetime]:
        """Replace the participant's unavailable slots (given by their starts).

        A participant marks its own slots (its organization verified); staff mark them for
        `organization_id` and are audited. A slot where the participant has a live meeting of this
        fair is refused (409, rule `meeting`, `starts` lists the slots): move or cancel it first.
        The participant's row is locked, so marking and a firm's own bookings are serialized.
        """
        participant = await self.acting_participant(actor, fair, organization_id, lock=True)
        org_id = participant.organization_id
        _, by_start = fair_grid(fair.days, fair.slot_minutes)
        errors = FieldErrors()
        for i, start in enumerate(starts):
            if start.tzinfo is None or start not in by_start:
                errors.add(f"starts[{i}]", "is not the start of a slot of this fair")
        errors.raise_if_any()
        unique = sorted({by_start[s].starts_at for s in starts})
        if unique:
            busy = list(
                await self.session.scalars(
                    select(Meeting.starts_at)
                    .where(
                        Meeting.fair_id == fair.id,
                        Meeting.status != MeetingStatus.CANCELLED,
                        or_(Meeting.agency_id == org_id, Meeting.firm_id == org_id),
                        Meeting.starts_at.in_(unique),
                    )
                    .order_by(Meeting.starts_at)
                )
            )
            if busy:
                when = ", ".join(seoul(s).strftime("%Y-%m-%d %H:%M") for s in busy)
                raise BookingRuleBroken(
                    "meeting",
                    f"There is a meeting at {when} (Asia/Seoul); "
                    "move or cancel it before marking the slot unavailable.",
                    starts=[seoul(s).isoformat() for s in busy],
                )
        before = await self.unavailable_starts(fair.id, org_id) if actor.is_staff else set()
        await self.session.execute(
            delete(Unavailability).where(Unavailability.fair_id == fair.id, Unavailability.organization_id == org_id)
        )
        if unique:
            await self.session.execute(
                insert(Unavailability),
                [{"fair_id": fair.id, "organization_id": org_id, "starts_at": s} for s in unique],
            )
        if actor.is_staff:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="fair.unavailable_on_behalf",
                target_type="fair",
                target_id=fair.id,
                changes={
                    "organization_id": org_id,
                    "starts": {"old": sorted(before), "new": unique},
                },
            )
        return unique

    async def unavailable_starts(self, fair_id: uuid.UUID, organization_id: uuid.UUID) -> set[datetime]:
        rows = await self.session.scalars(
            select(Unavailability.starts_at).where(
                Unavailability.fair_id == fair_id, Unavailability.organization_id == organization_id
            )
        )
        return set(rows)

    async def slots_for_agency(self, viewer: Principal, fair: Fair, agency_id: uuid.UUID) -> list[SlotView]:
        """Each slot of the agency's table: free, booked, or unavailable (agency, or the viewing firm, can't)."""
        if not viewer.is_staff and not await self.is_participant(fair.id, viewer):
            raise NotFound("You do not take part in this fair.")
        agency = await self.participant(fair.id, agency_id)
        if agency is None or agency.kind != "agency":
            raise NotFound("No such agency in this fair.")
        grid = grid_of(fair)
        blocked = await self.unavailable_starts(fair.id, agency_id)
        firm_id = viewer.organization_id if viewer.is_firm else None
        if firm_id is not None:
            blocked |= await self.unavailable_starts(fair.id, firm_id)
        booked = {
            m.starts_at: m
            for m in await self.session.scalars(
                select(Meeting).where(
                    Meeting.agency_id == agency_id,
                    Meeting.status != MeetingStatus.CANCELLED,
                    Meeting.starts_at < grid[-1].ends_at if grid else text("false"),
                    Meeting.ends_at > grid[0].starts_at if grid else text("false"),
                )
            )
        }
        out: list[SlotView] = []
        for slot in grid:
            meeting = booked.get(slot.starts_at)
            if meeting is not None:
                mine = firm_id is not None and meeting.firm_id == firm_id
                show = viewer.is_staff or mine or viewer.owns(agency_id)
                out.append(
                    SlotView(
                        slot,
                        "booked",
                        mine,
                        meeting.id if show else None,
                        meeting.firm_id if show else None,
                    )
                )
            elif slot.starts_at in blocked:
                out.append(SlotView(slot, "unavailable", False))
            else:
                out.append(SlotView(slot, "free", False))
        return out

    async def grid_view(self, fair: Fair) -> tuple[list[Organization], dict[tuple[uuid.UUID, datetime], Meeting]]:
        """Staff: agencies and every live meeting by (agency, start), for the printable grid."""
        agencies = list(
            await self.session.scalars(
                select(Organization)
                .join(FairParticipant, FairParticipant.organization_id == Organization.id)
                .where(FairParticipant.fair_id == fair.id, FairParticipant.kind == "agency")
                .order_by(Organization.name)
            )
        )
        meetings = await self.session.scalars(
            select(Meeting).where(Meeting.fair_id == fair.id, Meeting.status != MeetingStatus.CANCELLED)
        )
        return agencies, {(m.agency_id, m.starts_at): m for m in meetings}

    async def candidates(self, exclude: set[uuid.UUID]) -> list[Organization]:
        """Verified organizations not yet in the fair, agencies first, by name."""
        rows = await self.session.scalars(
            select(Organization)
            .where(Organization.status == OrganizationStatus.VERIFIED)
            .order_by(Organization.kind, Organization.name)
        )
        return [o for o in rows if o.id not in exclude]

    async def organization_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
        return dict(rows.tuples().all())

    async def get_for_update(self, fair_id: uuid.UUID) -> Fair:
        """The fair, its row locked until the transaction ends (edits and scheduling take this lock)."""
        fair = await lock_fair(self.session, fair_id)
        if fair is None:
            raise NotFound("No such fair.")
        return fair

    async def organization(self, organization_id: uuid.UUID) -> Organization | None:
        found: Organization | None = await self.session.get(Organization, organization_id)
        return found

    async def takes_part(self, viewer: Principal, fair_id: uuid.UUID) -> bool:
        """Staff, or a member of an organization taking part in the fair."""
        return viewer.is_staff or await self.is_participant(fair_id, viewer)


class BookingService:
    """First-come booking, moves, cancels and outcomes. The hot path uses SQLAlchemy Core."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- reading ---------------------------------------------------------------------------

    async def visible_meeting(self, viewer: Principal, meeting_id: uuid.UUID, *, lock: bool = False) -> Meeting:
        query = select(Meeting).where(Meeting.id == meeting_id)
        if lock:
            query = query.with_for_update()
        meeting = await self.session.scalar(query)
        if meeting is None or not (viewer.is_staff or viewer.owns(meeting.agency_id) or viewer.owns(meeting.firm_id)):
            raise NotFound("No such meeting.")
        return meeting

    async def my_meetings(self, viewer: Principal, fair_id: uuid.UUID | None = None) -> list[Meeting]:
        org_id = viewer.organization_id
        if org_id is None:
            return []
        query = select(Meeting).where(or_(Meeting.agency_id == org_id, Meeting.firm_id == org_id))
        if fair_id is not None:
            query = query.where(Meeting.fair_id == fair_id)
        return list(await self.session.scalars(query.order_by(Meeting.starts_at)))

    async def move_targets(self, fair: Fair, meetings: Sequence[Meeting]) -> dict[uuid.UUID, list[Slot]]:
        """For each booked meeting of `fair`, the slots it could move to: neither its agency nor its
        firm marked the slot unavailable, and neither has another live meeting overlapping it (in
        any fair). The meeting's own slot is among them. One query for all the meetings.

        A hint for the page only: `move` checks again, so a slot taken meanwhile still gives a 409.
        """
        movable = [m for m in meetings if m.status == MeetingStatus.BOOKED and m.fair_id == fair.id]
        grid = grid_of(fair)
        if not movable or not grid:
            return {m.id: [] for m in movable}
        orgs = {m.agency_id for m in movable} | {m.firm_id for m in movable}
        live = (
            Meeting.status != MeetingStatus.CANCELLED,
            Meeting.starts_at < grid[-1].ends_at,
            Meeting.ends_at > grid[0].starts_at,
        )
        marked = select(
            Unavailability.organization_id.label("org"),
            Unavailability.starts_at.label("starts_at"),
            Unavailability.starts_at.label("ends_at"),
            literal(None, Meeting.id.type).label("meeting_id"),
        ).where(Unavailability.fair_id == fair.id, Unavailability.organization_id.in_(orgs))
        as_agency = select(Meeting.agency_id, Meeting.starts_at, Meeting.ends_at, Meeting.id).where(
            Meeting.agency_id.in_(orgs), *live
        )
        as_firm = select(Meeting.firm_id, Meeting.starts_at, Meeting.ends_at, Meeting.id).where(
            Meeting.firm_id.in_(orgs), *live
        )
        unavailable: dict[uuid.UUID, set[datetime]] = {}
        busy: dict[uuid.UUID, list[tuple[datetime, datetime, uuid.UUID]]] = {}
        for org, starts_at, ends_at, busy_id in (
            await self.session.execute(union_all(marked, as_agency, as_firm))
        ).tuples():
            if busy_id is None:
                unavailable.setdefault(org, set()).add(starts_at)
            else:
                busy.setdefault(org, []).append((starts_at, ends_at, busy_id))
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
        rows = await self.session.scalars(
            select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id).order_by(MeetingEvent.at)
        )
        return list(rows)

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

        Three statements after BEGIN (PITFALLS #12: the hot path skips the ORM unit of work):
        0. take the slot's advisory lock (`_LOCK_SLOT`): writers into one slot take turns;
        1. lock the firm's participant row and read the fair: a firm's bookings in one fair are
           serialized, so the count in (2) cannot be outdated by a concurrent booking of the firm;
           the agency's row is KEY SHARE locked, so the agency marking slots unavailable (FOR
           UPDATE) waits for this booking or this booking for it, while bookings share it;
        2. one statement with a fresh snapshot counts unavailability and the firm's meetings,
           inserts the meeting only if the rules allow, and writes the history row. The exclusion
           constraints decide who wins a slot; it runs in a savepoint, retried when it loses a
           deadlock to other writers into the slot (see `_write_slot`).
        """
        require_principal(actor)
        on_behalf = actor.is_staff
        if on_behalf:
            if firm_id is None:
                raise ValidationFailed.single("firm_id", "staff must say which firm the meeting is for")
        else:
            actor.require_verified()
            if not actor.is_firm:
                raise Forbidden("Only firms book meetings.")
            firm_id = actor.organization_id
        assert firm_id is not None
        if start.tzinfo is None:
            raise ValidationFailed.single("start", "must include a UTC offset")
        ids = {"fair": fair_id, "firm": firm_id, "agency": agency_id}
        await self.session.execute(_LOCK_SLOT, {"agency": agency_id, "start": start})
        fair_row = (await self.session.execute(_LOCK_FIRM_AND_READ_FAIR, ids)).one_or_none()
        if fair_row is None:
            await self._explain_missing(fair_id, agency_id)
            raise BookingRuleBroken("not_participant", "The firm does not take part in this fair; join it first.")
        if fair_row.mode != FairMode.FIRST_COME and not on_behalf:
            raise BookingRuleBroken("mode", "This fair schedules meetings from requests; send a request instead.")
        moment = now()
        if not on_behalf and not (fair_row.booking_opens_at <= moment < fair_row.booking_closes_at):
            raise BookingRuleBroken("window", "Booking is only possible while the fair's booking window is open.")
        slot = fair_grid(fair_row.days, fair_row.slot_minutes)[1].get(start)
        if slot is None:
            raise ValidationFailed.single("start", "is not the start of a slot of this fair")
        limit = fair_row.max_meetings_per_firm
        meeting_id = uuid.uuid4()
        params = {
            **ids,
            "id": meeting_id,
            "event_id": uuid.uuid4(),
            "start": slot.starts_at,
            "end": slot.ends_at,
            "room": fair_row.room_url,
            "user": actor.user_id,
            "by_staff": on_behalf,
            "limit": limit,
            "data": json.dumps({"start": slot.starts_at.isoformat()}),
            "at": moment,
        }
        row = await self._write_slot(_CHECK_AND_INSERT, params)
        if row.unavailable:
            raise BookingRuleBroken("unavailable", "The agency or the firm marked this slot as unavailable.")
        if row.created_at is None:
            raise BookingRuleBroken("limit", "The firm has reached the fair's meeting limit.")
        meeting = Meeting(
            id=meeting_id,
            fair_id=fair_id,
            agency_id=agency_id,
            firm_id=firm_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            during=row.during,
            status=MeetingStatus.BOOKED,
            room_url=fair_row.room_url,
            sequence=0,
            provisional=False,
            request_id=None,
            booked_by=actor.user_id,
            by_staff=on_behalf,
            agency_rating=None,
            firm_rating=None,
            agency_outcome=None,
            firm_outcome=None,
            staff_outcome=None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        # The row exists already: attach the object as persistent without another round trip.
        make_transient_to_detached(meeting)
        self.session.add(meeting)
        if on_behalf:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="meeting.book_on_behalf",
                target_type="meeting",
                target_id=meeting.id,
                changes={"firm_id": firm_id, "start": slot.starts_at},
            )
        await publish(self.session, "meeting.booked", meeting=meeting, actor=actor)
        return meeting

    async def _explain_missing(self, fair_id: uuid.UUID, agency_id: uuid.UUID) -> None:
        """The rare path: say whether the fair or the agency is what is missing."""
        if await self.session.get(Fair, fair_id) is None:
            raise NotFound("No such fair.")
        agency = await FairService(self.session).participant(fair_id, agency_id)
        if agency is None or agency.kind != "agency":
            raise NotFound("No such agency in this fair.")

    async def _history(self, meeting_id: uuid.UUID, kind: str, actor: Principal | None, data: dict[str, Any]) -> None:
        await self.session.execute(
            insert(MeetingEvent).values(
                id=uuid.uuid4(),
                meeting_id=meeting_id,
                kind=kind,
                actor_id=actor.user_id if actor else None,
                by_staff=bool(actor and actor.is_staff),
                data=data,
                at=now(),
            )
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
        """Either party or staff cancels; the slot is free again at once (exclusion covers live rows only)."""
        meeting = await self.visible_meeting(actor, meeting_id, lock=True)
        if meeting.status != MeetingStatus.BOOKED:
            raise BookingRuleBroken("status", "Only a booked meeting can be cancelled.")
        if not actor.is_staff and meeting.starts_at <= now():
            raise BookingRuleBroken("started", "The meeting has already started.")
        meeting.status = MeetingStatus.CANCELLED
        meeting.sequence += 1
        await self.session.flush()
        await self._history(meeting.id, "cancelled", actor, {})
        await self._audit_on_behalf(actor, meeting, "cancel", {"status": "cancelled"})
        await publish(self.session, "meeting.cancelled", meeting=meeting, actor=actor)
        return meeting

    async def move(self, actor: Principal, meeting_id: uuid.UUID, start: datetime) -> Meeting:
        """Move a booked meeting to another slot of the same agency table, with the booking checks."""
        meeting = await self.visible_meeting(actor, meeting_id, lock=True)
        if meeting.status != MeetingStatus.BOOKED:
            raise BookingRuleBroken("status", "Only a booked meeting can be moved.")
        if start.tzinfo is None:
            raise ValidationFailed.single("start", "must include a UTC offset")
        if meeting.fair_id is None:
            raise BookingRuleBroken("no_fair", "Only fair meetings can be moved here.")
        fair = await FairService(self.session).get(meeting.fair_id)
        moment = now()
        if not actor.is_staff:
            if not (fair.booking_opens_at <= moment < fair.booking_closes_at) and fair.mode == FairMode.FIRST_COME:
                raise BookingRuleBroken("window", "Meetings can be moved only while the booking window is open.")
            if meeting.starts_at <= moment:
                raise BookingRuleBroken("started", "The meeting has already started.")
        slot = fair_grid(fair.days, fair.slot_minutes)[1].get(start)
        if slot is None:
            raise ValidationFailed.single("start", "is not the start of a slot of this fair")
        if slot.starts_at == meeting.starts_at:
            return meeting
        await self.session.execute(_LOCK_SLOT, {"agency": meeting.agency_id, "start": slot.starts_at})
        await self.session.execute(
            _LOCK_PARTIES_IN_ORDER, {"fair": fair.id, "agency": meeting.agency_id, "firm": meeting.firm_id}
        )
        blocked = await self.session.scalar(
            select(func.count())
            .select_from(Unavailability)
            .where(
                Unavailability.fair_id == fair.id,
                Unavailability.organization_id.in_([meeting.agency_id, meeting.firm_id]),
                Unavailability.starts_at == slot.starts_at,
            )
        )
        if blocked:
            raise BookingRuleBroken("unavailable", "The agency or the firm marked this slot as unavailable.")
        previous = meeting.starts_at
        (sequence,) = await self._write_slot(
            update(Meeting)
            .where(Meeting.id == meeting.id)
            .values(starts_at=slot.starts_at, ends_at=slot.ends_at, sequence=Meeting.sequence + 1)
            .returning(Meeting.sequence)
        )
        meeting.starts_at, meeting.ends_at, meeting.sequence = slot.starts_at, slot.ends_at, sequence
        await self._history(
            meeting.id, "moved", actor, {"from": previous.isoformat(), "to": slot.starts_at.isoformat()}
        )
        await self._audit_on_behalf(actor, meeting, "move", {"start": {"old": previous, "new": slot.starts_at}})
        await publish(self.session, "meeting.moved", meeting=meeting, actor=actor, previous_starts_at=previous)
        return meeting

    async def _write_slot(self, statement: Executable, params: dict[str, Any] | None = None) -> Row[Any]:
        """Run the statement that puts a meeting in a slot (booking's INSERT, a move's UPDATE); its row.

        `_LOCK_SLOT` keeps writers into one slot from waiting for each other; a writer it does not
        cover can still meet this one in a deadlock (a firm's meetings in two fairs, an agency's
        slots of other lengths in another fair, the auto-scheduler). So the statement runs in a
        savepoint: if it loses (40P01), only its own index entry is rolled back, the other goes
        on, and it tries again (up to RETRIES times), to find the slot free or taken (SlotTaken).
        """
        for attempt in range(RETRIES + 1):
            try:
                async with self.session.begin_nested():
                    return (await self.session.execute(statement, params)).one()
            except IntegrityError as exc:
                taken = slot_taken_from(exc)
                if taken is None:
                    raise
                raise taken from None
            except DBAPIError as exc:
                if attempt == RETRIES or not _retryable(exc):
                    raise
        raise AssertionError("unreachable")

    async def record_outcome(
        self, actor: Principal, meeting_id: uuid.UUID, outcome: str, rating: str | None
    ) -> Meeting:
        """After the slot: the caller's side reports held or no-show, and rates it.

        Each side's report is kept apart (`agency_outcome`, `firm_outcome`; staff's in
        `staff_outcome`). `status` follows the reports: staff's if any, else the two sides' when
        they agree or only one has reported. When they disagree, `status` keeps the first report
        and the meeting is `outcome_disputed` until staff report theirs.
        """
        meeting = await self.visible_meeting(actor, meeting_id, lock=True)
        if meeting.status == MeetingStatus.CANCELLED:
            raise BookingRuleBroken("status", "The meeting was cancelled.")
        if now() < meeting.ends_at:
            raise BookingRuleBroken("not_over", "Outcomes can be recorded once the meeting's slot is over.")
        reported = MeetingOutcome(outcome)
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
        await self.session.flush()
        await self._history(
            meeting.id,
            reported.value,
            actor,
            {"rating": rating, "side": side, "status": str(meeting.status), "disputed": meeting.outcome_disputed},
        )
        if rating is not None:
            await publish(self.session, "meeting.rated", meeting=meeting, actor=actor)
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

    async def invite(self, viewer: Principal, meeting_id: uuid.UUID) -> bytes:
        meeting = await self.visible_meeting(viewer, meeting_id)
        names = await FairService(self.session).organization_names({meeting.agency_id, meeting.firm_id})
        fair_name = ""
        if meeting.fair_id is not None:
            fair_name = (await FairService(self.session).get(meeting.fair_id)).name
        people = await self.session.execute(
            select(User.name, User.email, User.organization_id)
            .where(User.organization_id.in_([meeting.agency_id, meeting.firm_id]), User.is_active.is_(True))
            .order_by(User.created_at)
        )
        attendees = tuple(Attendee(name, email) for name, email, _ in people)
        organizer = Attendee(names.get(meeting.agency_id, "agency"), "noreply@procure-match.kr")
        summary = f"{fair_name} 상담: {names.get(meeting.agency_id, '')} × {names.get(meeting.firm_id, '')}".strip()
        data = InviteData(
            meeting_id=meeting.id,
            sequence=meeting.sequence,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            summary=summary,
            description=f"온라인 상담실: {meeting.room_url or '-'}",
            room_url=meeting.room_url,
            organizer=organizer,
            attendees=attendees,
            stamp=now(),
        )
        return meeting_invite(data, "CANCEL" if meeting.status == MeetingStatus.CANCELLED else "REQUEST")


def _scheduler_module() -> Any:
    """The pure auto-scheduler."""
    from service.fairs import autoschedule

    return autoschedule


AGENDA_FINAL = "agenda_final"  # unscheduled_reason of the requests a final agenda closed


def _require_open_requests(fair: Fair) -> None:
    """A final agenda closes its fair's requests: no new ones, no decisions (mails would promise
    meetings that the published agenda does not hold)."""
    if fair.agenda_status == AgendaStatus.FINAL:
        raise BookingRuleBroken(
            AGENDA_FINAL, "The fair's agenda is final: meeting requests are closed. Contact the support center."
        )


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
        require_principal(actor)
        if actor.is_staff:
            if firm_id is None:
                raise ValidationFailed.single("firm_id", "staff must say which firm the request is for")
        else:
            actor.require_verified()
            if not actor.is_firm:
                raise Forbidden("Only firms send meeting requests.")
            firm_id = actor.organization_id
            if not (fair.booking_opens_at <= now() < fair.booking_closes_at):
                raise BookingRuleBroken("window", "Requests are only possible while the booking window is open.")
        assert firm_id is not None
        if fair.mode != FairMode.REQUESTS:
            raise BookingRuleBroken("mode", "This fair is first-come; book a free slot instead.")
        _require_open_requests(fair)
        if not 1 <= priority <= 3:
            raise ValidationFailed.single("priority", "must be 1, 2 or 3")
        fairs = FairService(self.session)
        agency = await fairs.participant(fair.id, agency_id)
        if agency is None or agency.kind != "agency":
            raise NotFound("No such agency in this fair.")
        firm = await fairs.participant(fair.id, firm_id)
        if firm is None or firm.kind != "firm":
            raise BookingRuleBroken("not_participant", "The firm does not take part in this fair; join it first.")
        request = MeetingRequest(
            fair_id=fair.id, firm_id=firm_id, agency_id=agency_id, priority=priority, message=message.strip()[:2000]
        )
        self.session.add(request)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if _sqlstate(exc)[0] == UNIQUE_VIOLATION:
                raise Conflict("You already sent this agency a request in this fair.") from None
            raise
        await publish(self.session, "request.created", request=request)
        return request

    async def visible(self, viewer: Principal, request_id: uuid.UUID) -> MeetingRequest:
        request = await self.session.get(MeetingRequest, request_id, with_for_update=True)
        if request is None or not (viewer.is_staff or viewer.owns(request.agency_id) or viewer.owns(request.firm_id)):
            raise NotFound("No such request.")
        return request

    async def decide(
        self, actor: Principal, request_id: uuid.UUID, accept: bool, *, change: bool = False
    ) -> MeetingRequest:
        """The agency (or staff) accepts or declines a pending request. The row is locked, so of
        concurrent decisions one wins and the others are 409 (rule `decided`). Turning an
        accepted request down, or a declined one into an acceptance, takes `change` and is
        audited (`request.decision_changed`, old → new)."""
        request = await self.visible(actor, request_id)
        if not (actor.is_staff or actor.owns(request.agency_id)):
            raise Forbidden("Only the agency decides on a request.")
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
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if _sqlstate(exc)[0] == UNIQUE_VIOLATION:
                raise Conflict("The firm has another open request to this agency.") from None
            raise
        if previous != RequestStatus.PENDING:
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="request.decision_changed",
                target_type="meeting_request",
                target_id=request.id,
                changes={"status": {"old": previous.value, "new": wanted.value}},
            )
        await publish(self.session, "request.accepted" if accept else "request.declined", request=request)
        return request

    async def inbox(self, viewer: Principal, fair_id: uuid.UUID | None = None) -> list[MeetingRequest]:
        org = viewer.organization_id
        query = select(MeetingRequest)
        if not viewer.is_staff:
            if org is None:
                return []
            query = query.where(or_(MeetingRequest.agency_id == org, MeetingRequest.firm_id == org))
        if fair_id is not None:
            query = query.where(MeetingRequest.fair_id == fair_id)
        return list(await self.session.scalars(query.order_by(MeetingRequest.priority, MeetingRequest.created_at)))

    async def schedule(self, fair: Fair, actor: Principal | None, time_limit: float = 10.0) -> ScheduleResult:
        """Place the accepted requests into slots (provisional agenda). Idempotent: requests already
        scheduled are not touched, and existing meetings count as busy. The caller holds the fair row
        lock (SELECT ... FOR UPDATE), so concurrent runs for one fair are serialized."""
        if fair.mode != FairMode.REQUESTS:
            raise BookingRuleBroken("mode", "Only request-mode fairs are auto-scheduled.")
        if fair.agenda_status == AgendaStatus.FINAL:
            raise BookingRuleBroken("final", "The agenda is already final.")
        grid = grid_of(fair)
        by_start = {s.starts_at: s.index for s in grid}
        requests = list(
            await self.session.scalars(
                select(MeetingRequest)
                .where(MeetingRequest.fair_id == fair.id, MeetingRequest.status == RequestStatus.ACCEPTED)
                .order_by(MeetingRequest.id)
                .with_for_update()
            )
        )
        orgs = {r.firm_id for r in requests} | {r.agency_id for r in requests}
        # As bookings do: participants marking slots meanwhile wait for this run, or it for them.
        await self.session.execute(_SHARE_FAIR_PARTICIPANTS, {"fair": fair.id})
        unavailable: dict[str, set[int]] = {}
        for org_id, starts_at in (
            await self.session.execute(
                select(Unavailability.organization_id, Unavailability.starts_at).where(
                    Unavailability.fair_id == fair.id
                )
            )
        ).tuples():
            if starts_at in by_start:
                unavailable.setdefault(str(org_id), set()).add(by_start[starts_at])
        busy: dict[str, set[int]] = {}
        existing: dict[str, int] = {}
        if grid and orgs:
            live = await self.session.execute(
                select(Meeting.agency_id, Meeting.firm_id, Meeting.starts_at, Meeting.ends_at, Meeting.fair_id).where(
                    Meeting.status != MeetingStatus.CANCELLED,
                    or_(Meeting.agency_id.in_(orgs), Meeting.firm_id.in_(orgs)),
                    Meeting.starts_at < grid[-1].ends_at,
                    Meeting.ends_at > grid[0].starts_at,
                )
            )
            for agency_id, firm_id, starts_at, ends_at, meeting_fair in live.tuples():
                hit = {s.index for s in grid if s.starts_at < ends_at and starts_at < s.ends_at}
                busy.setdefault(str(agency_id), set()).update(hit)
                busy.setdefault(str(firm_id), set()).update(hit)
                if meeting_fair == fair.id:
                    existing[str(firm_id)] = existing.get(str(firm_id), 0) + 1
        module = _scheduler_module()
        problem = module.Problem(
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
        solution = module.solve(problem, time_limit=time_limit)
        rooms = dict(
            (
                await self.session.execute(
                    select(FairParticipant.organization_id, FairParticipant.room_url).where(
                        FairParticipant.fair_id == fair.id, FairParticipant.kind == "agency"
                    )
                )
            )
            .tuples()
            .all()
        )
        placed = 0
        unscheduled: list[uuid.UUID] = []
        for request in requests:
            index = solution.assignments.get(str(request.id))
            if index is None:
                request.status = RequestStatus.UNSCHEDULED
                request.unscheduled_reason = solution.unplaced.get(str(request.id), "no_common_free_slot")
                unscheduled.append(request.id)
                continue
            slot = grid[index]
            try:
                async with self.session.begin_nested():
                    await self.session.execute(
                        insert(Meeting).values(
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
                    )
            except IntegrityError as exc:
                if slot_taken_from(exc) is None:
                    raise
                # A first-come booking in another fair took the time since we read it.
                request.status = RequestStatus.UNSCHEDULED
                request.unscheduled_reason = "no_common_free_slot"
                unscheduled.append(request.id)
                continue
            request.status = RequestStatus.SCHEDULED
            request.unscheduled_reason = None
            placed += 1
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
        await publish(self.session, "fair.scheduled", fair=fair, scheduled=placed, unscheduled=unscheduled)
        return ScheduleResult(
            scheduled=placed,
            unscheduled=unscheduled,
            bound=float(solution.bound),
            objective=float(solution.objective),
            optimal=bool(solution.optimal),
            method=str(solution.method),
        )

    async def finalize(self, staff: Principal, fair: Fair) -> int:
        """Publish the final agenda: provisional meetings become final."""
        require_staff(staff)
        if fair.agenda_status != AgendaStatus.PROVISIONAL:
            raise BookingRuleBroken("agenda", "Only a provisional agenda can be made final.")
        result = await self.session.execute(
            update(Meeting)
            .where(Meeting.fair_id == fair.id, Meeting.provisional.is_(True))
            .values(provisional=False)
            .returning(Meeting.id)
        )
        finalized = list(result.scalars())
        count = len(finalized)
        # Requests still pending (or accepted since the last run) will never be placed: close them,
        # so nobody is reminded to answer them and the firm sees why.
        await self.session.execute(
            update(MeetingRequest)
            .where(
                MeetingRequest.fair_id == fair.id,
                MeetingRequest.status.in_([RequestStatus.PENDING, RequestStatus.ACCEPTED]),
            )
            .values(status=RequestStatus.UNSCHEDULED, unscheduled_reason=AGENDA_FINAL)
        )
        fair.agenda_status = AgendaStatus.FINAL
        await self.session.flush()
        await record_audit(
            self.session, actor_id=staff.user_id, action="fair.finalize", target_type="fair", target_id=fair.id
        )
        # Notifications send the final agenda's invites and queue its reminders.
        await publish(self.session, "fair.finalized", fair=fair, meeting_ids=finalized)
        return count


async def lock_fair(session: AsyncSession, fair_id: uuid.UUID, *, skip_locked: bool = False) -> Fair | None:
    query = select(Fair).where(Fair.id == fair_id).with_for_update(skip_locked=skip_locked)
    fair: Fair | None = await session.scalar(query)
    return fair


async def fairs_due_for_scheduling(session: AsyncSession) -> Fair | None:
    """One request-mode fair whose window closed and that was never scheduled, locked (SKIP LOCKED)."""
    fair: Fair | None = await session.scalar(
        select(Fair)
        .where(
            and_(
                Fair.mode == FairMode.REQUESTS,
                Fair.scheduled_at.is_(None),
                Fair.booking_closes_at <= now(),
            )
        )
        .order_by(Fair.booking_closes_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return fair
