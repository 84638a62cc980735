"""Every query of fairs: loaders, statement builders, the row locks, and the few statements kept
as raw SQL (each says why). The services decide; this module only reads and writes rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Update,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import User
from service.db.engine import fetch_row
from service.fairs.models import (
    Fair,
    FairMode,
    FairParticipant,
    Meeting,
    MeetingEvent,
    MeetingRequest,
    MeetingStatus,
    RequestStatus,
    Unavailability,
)
from service.lib.clock import now
from service.registry.models import Organization

EXCLUSION_VIOLATION = "23P01"
UNIQUE_VIOLATION = "23505"

# The first and last instant of a fair's slot grid; None when the grid has no slot.
Span = tuple[datetime, datetime]


def sqlstate(exc: IntegrityError) -> tuple[str | None, str | None]:
    """The SQLSTATE and the constraint name of a violation, wherever asyncpg put them."""
    orig: Any = exc.orig
    cause = getattr(orig, "__cause__", None)
    state = getattr(orig, "sqlstate", None) or getattr(cause, "sqlstate", None)
    constraint = getattr(cause, "constraint_name", None) or getattr(orig, "constraint_name", None)
    return state, constraint


# --- raw SQL ---------------------------------------------------------------------------------

# Writers into one slot of one agency table take turns: a transaction-level advisory lock on
# (agency, slot start), taken before any row lock. Without it they all wait for the first
# writer's uncommitted index entry (an exclusion constraint is checked after the entry goes
# in); when that writer fails after all (its firm is busy then elsewhere) they wake together,
# wait for each other, and PostgreSQL kills all but one with 40P01. Writers into other slots
# never wait for it. The key is the database's `meeting_slot_key` (migration 026), so a booking
# (`book_meeting`) and a move take the same one.
LOCK_SLOT = text("SELECT pg_advisory_xact_lock(meeting_slot_key(:agency, :start))")

# A first-come booking in one statement: the database function of migrations 026 and 027 checks
# that the caller is still who the request's cache says (`caller_holds`), takes the slot's and the
# firm's locks, compares the fair's row version with `FairTerms.version`, counts the rules' rows,
# inserts the meeting (its history row, its mail notice) unless they or the constraints refuse,
# and says what happened: `booked`, `caller_changed`, `caller_unverified` (the caller's
# organization is no longer verified), `not_participant`, `stale`, `unavailable`, `limit` or
# `taken` (with the refusing constraint's name in `detail`).
BOOK_MEETING = (
    "SELECT outcome, detail, room, booked_at"
    " FROM book_meeting($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
)

# The fair's booking rules and the row version they were read at (`xmin`: every UPDATE of the row
# makes a new one), checked again by `book_meeting`.
FAIR_TERMS = (
    "SELECT mode, days, slot_minutes, booking_opens_at, booking_closes_at, CAST(xmin AS text) FROM fairs WHERE id = $1"
)

# A move locks both parties' rows, in one global order (by organization id; LockRows runs above
# the sort): moves at one agency table, and a firm's moves and bookings, take turns, while
# bookings at the table (KEY SHARE of the agency's row) go on. Marking a slot unavailable (FOR
# UPDATE of the row) waits for the move or the move for it.
# Raw because the statement exists only for its locks: their order and strength are the point,
# and as SQL they read exactly as PostgreSQL runs them.
LOCK_PARTIES_IN_ORDER = text(
    """
    SELECT 1 FROM fair_participants
     WHERE fair_id = :fair AND organization_id IN (:agency, :firm)
     ORDER BY organization_id
       FOR NO KEY UPDATE
    """
)

# Raw for the same reason: a statement run only for its lock (KEY SHARE of every participant row).
SHARE_FAIR_PARTICIPANTS = text("SELECT 1 FROM fair_participants WHERE fair_id = :fair FOR KEY SHARE")


async def lock_slot(session: AsyncSession, agency_id: uuid.UUID, start: datetime) -> None:
    await session.execute(LOCK_SLOT, {"agency": agency_id, "start": start})


async def book_meeting(session: AsyncSession, args: Sequence[Any], *, alone: bool) -> tuple[Any, ...]:
    """Run `BOOK_MEETING` with its seventeen arguments, as a transaction of its own when `alone`
    (the request writes nothing else), else in the session's; its (outcome, detail, room, booked_at)."""
    row = await fetch_row(session, BOOK_MEETING, *args, alone=alone)
    assert row is not None
    return row


async def fair_terms(session: AsyncSession, fair_id: uuid.UUID, *, alone: bool) -> tuple[Any, ...] | None:
    """The fair's (mode, days, slot_minutes, opens, closes, version); None when there is no such fair."""
    return await fetch_row(session, FAIR_TERMS, fair_id, alone=alone)


async def lock_parties_in_order(
    session: AsyncSession, fair_id: uuid.UUID, agency_id: uuid.UUID, firm_id: uuid.UUID
) -> None:
    await session.execute(LOCK_PARTIES_IN_ORDER, {"fair": fair_id, "agency": agency_id, "firm": firm_id})


async def share_fair_participants(session: AsyncSession, fair_id: uuid.UUID) -> None:
    await session.execute(SHARE_FAIR_PARTICIPANTS, {"fair": fair_id})


# --- fairs -----------------------------------------------------------------------------------


async def get_fair(session: AsyncSession, fair_id: uuid.UUID) -> Fair | None:
    return await session.get(Fair, fair_id)


async def lock_fair(session: AsyncSession, fair_id: uuid.UUID, *, skip_locked: bool = False) -> Fair | None:
    """The fair's row locked FOR UPDATE for this transaction, its attributes read afresh (an
    instance the session already holds is refreshed, not trusted)."""
    query = (
        select(Fair)
        .where(Fair.id == fair_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
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


async def list_fairs(session: AsyncSession, year: int | None, offset: int, limit: int) -> tuple[list[Fair], int]:
    """A page of fairs, newest window first, and how many there are (of the year in Seoul, if given)."""
    query = select(Fair)
    if year is not None:
        query = query.where(func.extract("year", func.timezone("Asia/Seoul", Fair.booking_closes_at)) == year)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Fair.booking_opens_at.desc()).offset(offset).limit(limit))
    return list(rows), total


# --- participants and organizations ------------------------------------------------------------


async def participant(
    session: AsyncSession, fair_id: uuid.UUID, organization_id: uuid.UUID, *, lock: bool = False
) -> FairParticipant | None:
    query = select(FairParticipant).where(
        FairParticipant.fair_id == fair_id, FairParticipant.organization_id == organization_id
    )
    found: FairParticipant | None = await session.scalar(query.with_for_update() if lock else query)
    return found


async def participants_with_organizations(
    session: AsyncSession, fair_id: uuid.UUID, kind: str | None = None
) -> list[tuple[FairParticipant, Organization]]:
    query = (
        select(FairParticipant, Organization)
        .join(Organization, Organization.id == FairParticipant.organization_id)
        .where(FairParticipant.fair_id == fair_id)
        .order_by(FairParticipant.kind, Organization.name)
    )
    if kind:
        query = query.where(FairParticipant.kind == kind)
    return [(p, o) for p, o in (await session.execute(query)).tuples()]


async def fair_agencies(session: AsyncSession, fair_id: uuid.UUID) -> list[Organization]:
    """The fair's agencies, by name."""
    return list(
        await session.scalars(
            select(Organization)
            .join(FairParticipant, FairParticipant.organization_id == Organization.id)
            .where(FairParticipant.fair_id == fair_id, FairParticipant.kind == "agency")
            .order_by(Organization.name)
        )
    )


async def agency_rooms(session: AsyncSession, fair_id: uuid.UUID) -> dict[uuid.UUID, str | None]:
    """Each agency table's online room, by agency."""
    rows = await session.execute(
        select(FairParticipant.organization_id, FairParticipant.room_url).where(
            FairParticipant.fair_id == fair_id, FairParticipant.kind == "agency"
        )
    )
    return dict(rows.tuples().all())


async def organizations_by_id(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Organization]:
    return {o.id: o for o in await session.scalars(select(Organization).where(Organization.id.in_(list(ids))))}


async def organization_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return dict(rows.tuples().all())


async def active_users_of(session: AsyncSession, organization_ids: Sequence[uuid.UUID]) -> list[tuple[str, str]]:
    """Name and email of the organizations' active users, oldest account first."""
    rows = await session.execute(
        select(User.name, User.email)
        .where(User.organization_id.in_(organization_ids), User.is_active.is_(True))
        .order_by(User.created_at)
    )
    return list(rows.tuples())


# --- unavailability ----------------------------------------------------------------------------


async def unavailable_starts(session: AsyncSession, fair_id: uuid.UUID, organization_id: uuid.UUID) -> set[datetime]:
    rows = await session.scalars(
        select(Unavailability.starts_at).where(
            Unavailability.fair_id == fair_id, Unavailability.organization_id == organization_id
        )
    )
    return set(rows)


async def fair_unavailability(session: AsyncSession, fair_id: uuid.UUID) -> list[tuple[uuid.UUID, datetime]]:
    """Every (organization, slot start) marked unavailable in the fair."""
    rows = await session.execute(
        select(Unavailability.organization_id, Unavailability.starts_at).where(Unavailability.fair_id == fair_id)
    )
    return list(rows.tuples())


async def count_unavailable_at(
    session: AsyncSession, fair_id: uuid.UUID, organization_ids: Sequence[uuid.UUID], start: datetime
) -> int:
    """How many of the organizations marked the slot starting at `start` unavailable."""
    count = await session.scalar(
        select(func.count())
        .select_from(Unavailability)
        .where(
            Unavailability.fair_id == fair_id,
            Unavailability.organization_id.in_(organization_ids),
            Unavailability.starts_at == start,
        )
    )
    return count or 0


async def replace_unavailability(
    session: AsyncSession, fair_id: uuid.UUID, organization_id: uuid.UUID, starts: Sequence[datetime]
) -> None:
    await session.execute(
        delete(Unavailability).where(
            Unavailability.fair_id == fair_id, Unavailability.organization_id == organization_id
        )
    )
    if starts:
        await session.execute(
            insert(Unavailability),
            [{"fair_id": fair_id, "organization_id": organization_id, "starts_at": s} for s in starts],
        )


# --- meetings ----------------------------------------------------------------------------------

NOT_CANCELLED = Meeting.status != MeetingStatus.CANCELLED


def _overlapping(span: Span | None) -> tuple[Any, Any]:
    """Conditions: the meeting overlaps the span (none does when there is no span)."""
    if span is None:
        return text("false"), text("false")
    return Meeting.starts_at < span[1], Meeting.ends_at > span[0]


async def find_meeting(session: AsyncSession, meeting_id: uuid.UUID, *, lock: bool = False) -> Meeting | None:
    query = select(Meeting).where(Meeting.id == meeting_id)
    if lock:
        query = query.with_for_update()
    meeting: Meeting | None = await session.scalar(query)
    return meeting


async def live_meetings(session: AsyncSession, fair_id: uuid.UUID) -> list[Meeting]:
    """The fair's meetings that are not cancelled, in time order."""
    rows = await session.scalars(
        select(Meeting).where(Meeting.fair_id == fair_id, NOT_CANCELLED).order_by(Meeting.starts_at)
    )
    return list(rows)


async def live_meeting_starts(
    session: AsyncSession,
    fair_id: uuid.UUID,
    organization_id: uuid.UUID,
    among: Sequence[datetime] | None = None,
) -> list[datetime]:
    """Starts of the organization's live meetings in the fair (only those in `among`, if given), in order."""
    query = select(Meeting.starts_at).where(
        Meeting.fair_id == fair_id,
        NOT_CANCELLED,
        or_(Meeting.agency_id == organization_id, Meeting.firm_id == organization_id),
    )
    if among is not None:
        query = query.where(Meeting.starts_at.in_(among))
    return list(await session.scalars(query.order_by(Meeting.starts_at)))


async def agency_live_meetings(session: AsyncSession, agency_id: uuid.UUID, span: Span | None) -> list[Meeting]:
    """The agency's live meetings (of any fair) overlapping the span."""
    rows = await session.scalars(
        select(Meeting).where(Meeting.agency_id == agency_id, NOT_CANCELLED, *_overlapping(span))
    )
    return list(rows)


async def live_meeting_times(
    session: AsyncSession, organization_ids: set[uuid.UUID], span: Span | None
) -> list[tuple[uuid.UUID, uuid.UUID, datetime, datetime, uuid.UUID | None]]:
    """(agency, firm, start, end, fair) of every live meeting of the organizations, in any fair,
    overlapping the span."""
    rows = await session.execute(
        select(Meeting.agency_id, Meeting.firm_id, Meeting.starts_at, Meeting.ends_at, Meeting.fair_id).where(
            NOT_CANCELLED,
            or_(Meeting.agency_id.in_(organization_ids), Meeting.firm_id.in_(organization_ids)),
            *_overlapping(span),
        )
    )
    return list(rows.tuples())


async def meetings_of(session: AsyncSession, organization_id: uuid.UUID, fair_id: uuid.UUID | None) -> list[Meeting]:
    """The organization's meetings (of the fair, if given), in time order."""
    query = select(Meeting).where(or_(Meeting.agency_id == organization_id, Meeting.firm_id == organization_id))
    if fair_id is not None:
        query = query.where(Meeting.fair_id == fair_id)
    return list(await session.scalars(query.order_by(Meeting.starts_at)))


async def fair_meetings(session: AsyncSession, fair_id: uuid.UUID) -> list[Meeting]:
    """Every meeting of the fair, cancelled ones too, in time order then by agency."""
    query = select(Meeting).where(Meeting.fair_id == fair_id).order_by(Meeting.starts_at, Meeting.agency_id)
    return list(await session.scalars(query))


async def marks_and_meetings(
    session: AsyncSession, fair_id: uuid.UUID, organization_ids: set[uuid.UUID], span: Span
) -> tuple[dict[uuid.UUID, set[datetime]], dict[uuid.UUID, list[tuple[datetime, datetime, uuid.UUID]]]]:
    """In one query: the slot starts each organization marked unavailable in the fair, and each
    one's live meetings (start, end, id) in any fair overlapping the span."""
    live = (NOT_CANCELLED, *_overlapping(span))
    marked = select(
        Unavailability.organization_id.label("org"),
        Unavailability.starts_at.label("starts_at"),
        Unavailability.starts_at.label("ends_at"),
        literal(None, Meeting.id.type).label("meeting_id"),
    ).where(Unavailability.fair_id == fair_id, Unavailability.organization_id.in_(organization_ids))
    as_agency = select(Meeting.agency_id, Meeting.starts_at, Meeting.ends_at, Meeting.id).where(
        Meeting.agency_id.in_(organization_ids), *live
    )
    as_firm = select(Meeting.firm_id, Meeting.starts_at, Meeting.ends_at, Meeting.id).where(
        Meeting.firm_id.in_(organization_ids), *live
    )
    unavailable: dict[uuid.UUID, set[datetime]] = {}
    busy: dict[uuid.UUID, list[tuple[datetime, datetime, uuid.UUID]]] = {}
    for org, starts_at, ends_at, busy_id in (await session.execute(union_all(marked, as_agency, as_firm))).tuples():
        if busy_id is None:
            unavailable.setdefault(org, set()).add(starts_at)
        else:
            busy.setdefault(org, []).append((starts_at, ends_at, busy_id))
    return unavailable, busy


def move_meeting(meeting_id: uuid.UUID, starts_at: datetime, ends_at: datetime) -> Update:
    """The UPDATE that moves a meeting to another slot and bumps its iCalendar SEQUENCE (returning it)."""
    return (
        update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(starts_at=starts_at, ends_at=ends_at, sequence=Meeting.sequence + 1)
        .returning(Meeting.sequence)
    )


async def insert_meeting(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(Meeting).values(**values))


async def finalize_meetings(session: AsyncSession, fair_id: uuid.UUID) -> list[uuid.UUID]:
    """Make the fair's provisional meetings final; their ids."""
    result = await session.execute(
        update(Meeting)
        .where(Meeting.fair_id == fair_id, Meeting.provisional.is_(True))
        .values(provisional=False)
        .returning(Meeting.id)
    )
    return list(result.scalars())


async def add_meeting_event(
    session: AsyncSession,
    meeting_id: uuid.UUID,
    kind: str,
    actor_id: uuid.UUID | None,
    by_staff: bool,
    data: dict[str, Any],
) -> None:
    await session.execute(
        insert(MeetingEvent).values(
            id=uuid.uuid4(), meeting_id=meeting_id, kind=kind, actor_id=actor_id, by_staff=by_staff, data=data, at=now()
        )
    )


async def meeting_events(session: AsyncSession, meeting_id: uuid.UUID) -> list[MeetingEvent]:
    rows = await session.scalars(
        select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id).order_by(MeetingEvent.at)
    )
    return list(rows)


# --- meeting requests --------------------------------------------------------------------------


async def find_request(session: AsyncSession, request_id: uuid.UUID) -> MeetingRequest | None:
    """The request, its row locked (decisions on one request take turns)."""
    return await session.get(MeetingRequest, request_id, with_for_update=True)


async def requests_for(
    session: AsyncSession, organization_id: uuid.UUID | None, fair_id: uuid.UUID | None
) -> list[MeetingRequest]:
    """Requests the organization sent or received (every request when it is None), of the fair if
    given, best priority first."""
    query = select(MeetingRequest)
    if organization_id is not None:
        query = query.where(or_(MeetingRequest.agency_id == organization_id, MeetingRequest.firm_id == organization_id))
    if fair_id is not None:
        query = query.where(MeetingRequest.fair_id == fair_id)
    return list(await session.scalars(query.order_by(MeetingRequest.priority, MeetingRequest.created_at)))


async def accepted_requests(session: AsyncSession, fair_id: uuid.UUID) -> list[MeetingRequest]:
    """The fair's accepted requests, locked, in id order."""
    rows = await session.scalars(
        select(MeetingRequest)
        .where(MeetingRequest.fair_id == fair_id, MeetingRequest.status == RequestStatus.ACCEPTED)
        .order_by(MeetingRequest.id)
        .with_for_update()
    )
    return list(rows)


async def close_open_requests(session: AsyncSession, fair_id: uuid.UUID, reason: str) -> None:
    """Pending and accepted requests of the fair become unscheduled, for `reason`."""
    await session.execute(
        update(MeetingRequest)
        .where(
            MeetingRequest.fair_id == fair_id,
            MeetingRequest.status.in_([RequestStatus.PENDING, RequestStatus.ACCEPTED]),
        )
        .values(status=RequestStatus.UNSCHEDULED, unscheduled_reason=reason)
    )


async def upcoming_meetings(session: AsyncSession, organization_id: uuid.UUID, limit: int) -> list[Meeting]:
    """The organization's booked meetings that have not ended yet, soonest first."""
    rows = await session.scalars(
        select(Meeting)
        .where(
            or_(Meeting.agency_id == organization_id, Meeting.firm_id == organization_id),
            Meeting.status == MeetingStatus.BOOKED,
            Meeting.ends_at > now(),
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(limit)
    )
    return list(rows)


async def meetings_to_rate(session: AsyncSession, organization_id: uuid.UUID, side: str, limit: int) -> list[Meeting]:
    """Meetings of the organization on `side` ("agency" or "firm") whose slot is over, not cancelled,
    and not yet rated by that side; the latest first."""
    own, rating = (
        (Meeting.agency_id, Meeting.agency_rating) if side == "agency" else (Meeting.firm_id, Meeting.firm_rating)
    )
    rows = await session.scalars(
        select(Meeting)
        .where(own == organization_id, NOT_CANCELLED, Meeting.ends_at <= now(), rating.is_(None))
        .order_by(Meeting.starts_at.desc(), Meeting.id)
        .limit(limit)
    )
    return list(rows)


async def fairs_open_since(session: AsyncSession, moment: datetime) -> list[tuple[Fair, int]]:
    """Fairs whose booking has opened by `moment`, each with its number of live meetings, latest first."""
    live = (
        select(func.count())
        .select_from(Meeting)
        .where(Meeting.fair_id == Fair.id, NOT_CANCELLED)
        .correlate(Fair)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Fair, live).where(Fair.booking_opens_at <= moment).order_by(Fair.booking_opens_at.desc(), Fair.id)
    )
    return [(fair, int(count)) for fair, count in rows.tuples()]


async def fair_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Fair.id, Fair.name).where(Fair.id.in_(ids)))
    return dict(rows.tuples().all())
