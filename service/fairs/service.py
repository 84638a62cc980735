"""Rules of fair setup and participants: creating and editing fairs, the slot grid, online rooms,
who takes part, and the slots a participant cannot attend. Services flush, never commit.

Booking, moves, cancels and outcomes are in `booking.py`; meeting requests, the auto-scheduler
and the agenda in `requests.py`; every query in `repository.py`.
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

from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.picker import OrganizationPicker, PickerOption, PickerResults
from service.fairs import repository
from service.fairs.models import Fair, FairMode, FairParticipant, Meeting
from service.fairs.schemas import MAX_DAYS, MAX_IDS, FairIn, FairPatch
from service.fairs.slots import FIRST_YEAR, LAST_YEAR, GridError, Slot, build_grid, normalize_days, seoul
from service.identity.audit import diff, record_audit
from service.identity.principal import Principal, require_principal, require_staff
from service.lib.clock import now
from service.lib.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationFailed
from service.registry.models import Organization, OrganizationKind, OrganizationStatus

DEFAULT_ROOM_BASE = "https://meet.jit.si/procure-match-"


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


@lru_cache(maxsize=256)
def _grid_cached(days_json: str, slot_minutes: int) -> tuple[tuple[Slot, ...], dict[datetime, Slot]]:
    grid = tuple(build_grid(json.loads(days_json), slot_minutes))
    return grid, {slot.starts_at: slot for slot in grid}


def fair_grid(days: list[dict[str, Any]], slot_minutes: int) -> tuple[tuple[Slot, ...], dict[datetime, Slot]]:
    return _grid_cached(json.dumps(days, sort_keys=True), slot_minutes)


def grid_of(fair: Fair) -> tuple[Slot, ...]:
    return fair_grid(fair.days, fair.slot_minutes)[0]


def span_of(grid: Sequence[Slot]) -> repository.Span | None:
    """From the first slot's start to the last slot's end; None for an empty grid."""
    return (grid[0].starts_at, grid[-1].ends_at) if grid else None


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


def _check_window(errors: FieldErrors, opens: datetime, closes: datetime) -> None:
    if opens.tzinfo is None or closes.tzinfo is None:
        errors.add("booking_opens_at", "must include a UTC offset")
    elif not (_in_years(opens) and _in_years(closes)):
        for field, moment in (("booking_opens_at", opens), ("booking_closes_at", closes)):
            if not _in_years(moment):
                errors.add(field, "must be a date and time between 2000 and 2100")
    elif opens >= closes:
        errors.add("booking_closes_at", "must be after booking_opens_at")


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
    _check_window(errors, opens, closes)
    if limit is not None and limit < 1:
        errors.add("max_meetings_per_firm", "must be 1 or more")
    if template:
        problem = room_template_problem(template)
        if problem is not None:
            errors.add("room_url_template", problem)


def _days(days: Sequence[Any], errors: FieldErrors) -> list[dict[str, Any]]:
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


def _off_grid(meetings: Sequence[Meeting], new_starts: dict[datetime, Slot]) -> MeetingsAffected | None:
    """The refusal listing the live meetings a new grid would orphan; None when all still fit."""
    affected = []
    for meeting in meetings:
        slot = new_starts.get(meeting.starts_at)
        if slot is None or slot.ends_at != meeting.ends_at:
            affected.append(meeting)
    if not affected:
        return None
    return MeetingsAffected(
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


# What a fair edit may change and the audit compares, old against new.
AUDITED_FAIR_FIELDS = (
    "name",
    "days",
    "slot_minutes",
    "booking_opens_at",
    "booking_closes_at",
    "max_meetings_per_firm",
)


@dataclass(frozen=True)
class _FairEdit:
    """A fair patch checked, with every value it leaves the fair with."""

    days: list[dict[str, Any]]
    slot_minutes: int
    opens: datetime
    closes: datetime


def _apply(fair: Fair, data: FairPatch, edit: _FairEdit) -> None:
    if data.name is not None:
        fair.name = data.name.strip()
    if data.description is not None:
        fair.description = data.description
    fair.days = edit.days
    fair.slot_minutes = edit.slot_minutes
    fair.booking_opens_at = edit.opens
    fair.booking_closes_at = edit.closes
    if data.max_meetings_per_firm is not None:
        fair.max_meetings_per_firm = data.max_meetings_per_firm
    if data.room_url_template is not None:
        fair.room_url_template = data.room_url_template or None


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
        fair = await repository.get_fair(self.session, fair_id)
        if fair is None:
            raise NotFound("No such fair.")
        return fair

    async def lock(self, fair_id: uuid.UUID) -> Fair:
        """The fair with its row locked for the transaction (read afresh): edits, scheduling and
        finalizing one fair take turns."""
        fair = await repository.lock_fair(self.session, fair_id)
        if fair is None:
            raise NotFound("No such fair.")
        return fair

    async def list_fairs(self, year: int | None, offset: int, limit: int) -> tuple[list[Fair], int]:
        return await repository.list_fairs(self.session, year, offset, limit)

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
        days = _days(data.days, errors)
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

    async def update(self, staff: Principal, fair: Fair, data: FairPatch) -> Fair:
        """Edit a fair (its row locked here). A change that would leave a live meeting off the new
        grid is refused (409, listed)."""
        require_staff(staff)
        fair = await self.lock(fair.id)
        edit = self._checked_edit(fair, data)
        refusal = _off_grid(
            await repository.live_meetings(self.session, fair.id), fair_grid(edit.days, edit.slot_minutes)[1]
        )
        if refusal is not None:
            raise refusal
        before = {k: getattr(fair, k) for k in AUDITED_FAIR_FIELDS}
        _apply(fair, data, edit)
        await self.session.flush()
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

    def _checked_edit(self, fair: Fair, data: FairPatch) -> _FairEdit:
        errors = FieldErrors()
        edit = _FairEdit(
            days=_days(data.days, errors) if data.days is not None else fair.days,
            slot_minutes=data.slot_minutes if data.slot_minutes is not None else fair.slot_minutes,
            opens=data.booking_opens_at or fair.booking_opens_at,
            closes=data.booking_closes_at or fair.booking_closes_at,
        )
        _check_fair_fields(
            errors,
            name=data.name,
            slot_minutes=edit.slot_minutes,
            opens=edit.opens,
            closes=edit.closes,
            limit=data.max_meetings_per_firm,
            template=data.room_url_template,
        )
        errors.raise_if_any()
        return edit

    # --- participants -------------------------------------------------------------------

    async def participant(self, fair_id: uuid.UUID, organization_id: uuid.UUID) -> FairParticipant | None:
        return await repository.participant(self.session, fair_id, organization_id)

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
            self._check_joins_itself(actor, fair, organization_ids)
        orgs = await repository.organizations_by_id(self.session, organization_ids)
        errors = FieldErrors()
        for i, org_id in enumerate(organization_ids):
            org = orgs.get(org_id)
            if org is None:
                errors.add(f"organization_ids[{i}]", "no such organization")
            elif org.status != OrganizationStatus.VERIFIED:
                errors.add(f"organization_ids[{i}]", "is not verified")
        errors.raise_if_any()
        added = [await self._join(actor, fair, orgs[org_id]) for org_id in dict.fromkeys(organization_ids)]
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

    def _check_joins_itself(self, actor: Principal, fair: Fair, organization_ids: Sequence[uuid.UUID]) -> None:
        """A non-staff caller may only add its own verified organization, before the window closes."""
        actor.require_verified()
        if len(organization_ids) != 1 or not actor.owns(organization_ids[0]):
            raise Forbidden("Only staff may add other organizations to a fair.")
        if now() >= fair.booking_closes_at:
            raise BookingRuleBroken("window", "The fair's booking window has closed; ask the support center.")

    async def _join(self, actor: Principal, fair: Fair, org: Organization) -> FairParticipant:
        """The organization's participant row, added (not flushed) unless it is there already."""
        existing = await self.participant(fair.id, org.id)
        if existing is not None:
            return existing
        participant = FairParticipant(
            fair_id=fair.id,
            organization_id=org.id,
            kind=str(org.kind),
            room_url=(
                room_url_for(fair.room_url_template, fair.id, org.id) if org.kind == OrganizationKind.AGENCY else None
            ),
            added_by_staff=actor.is_staff,
        )
        self.session.add(participant)
        return participant

    async def participants(
        self, viewer: Principal, fair: Fair, kind: str | None = None
    ) -> list[tuple[FairParticipant, Organization]]:
        if not viewer.is_staff and not await self.is_participant(fair.id, viewer):
            raise NotFound("No such fair participant list.")
        return await repository.participants_with_organizations(self.session, fair.id, kind)

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
            participant = await repository.participant(self.session, fair.id, org_id, lock=lock)
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
        meetings = set(await repository.live_meeting_starts(self.session, fair.id, org_id))
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
        unique = _slot_starts(fair, starts)
        if unique:
            await self._refuse_meeting_slots(fair, org_id, unique)
        before = await self.unavailable_starts(fair.id, org_id) if actor.is_staff else set()
        await repository.replace_unavailability(self.session, fair.id, org_id, unique)
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

    async def _refuse_meeting_slots(self, fair: Fair, org_id: uuid.UUID, starts: list[datetime]) -> None:
        busy = await repository.live_meeting_starts(self.session, fair.id, org_id, among=starts)
        if busy:
            when = ", ".join(seoul(s).strftime("%Y-%m-%d %H:%M") for s in busy)
            raise BookingRuleBroken(
                "meeting",
                f"There is a meeting at {when} (Asia/Seoul); move or cancel it before marking the slot unavailable.",
                starts=[seoul(s).isoformat() for s in busy],
            )

    async def unavailable_starts(self, fair_id: uuid.UUID, organization_id: uuid.UUID) -> set[datetime]:
        return await repository.unavailable_starts(self.session, fair_id, organization_id)

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
        booked = {m.starts_at: m for m in await repository.agency_live_meetings(self.session, agency_id, span_of(grid))}
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
        agencies = await repository.fair_agencies(self.session, fair.id)
        meetings = await repository.live_meetings(self.session, fair.id)
        return agencies, {(m.agency_id, m.starts_at): m for m in meetings}

    async def candidates(self, exclude: set[uuid.UUID], q: str | None, locale: str) -> PickerResults:
        """Verified organizations not yet in the fair matching the search `q`, agencies first, by name (20 at most)."""
        return await OrganizationPicker(self.session).search(q, exclude=exclude, locale=locale)

    async def chosen_organizations(self, ids: list[uuid.UUID], locale: str) -> list[PickerOption]:
        """The organizations ticked before a new search (kept ticked on the no-script search)."""
        return await OrganizationPicker(self.session).chosen(ids, locale)

    async def organization_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        return await repository.organization_names(self.session, ids)

    async def organization(self, organization_id: uuid.UUID) -> Organization | None:
        found: Organization | None = await self.session.get(Organization, organization_id)
        return found

    async def upcoming_meetings(self, organization_id: uuid.UUID, limit: int = 10) -> list[Meeting]:
        """The organization's booked meetings that have not ended, soonest first."""
        return await repository.upcoming_meetings(self.session, organization_id, limit)

    async def meetings_to_rate(self, viewer: Principal, limit: int = 10) -> list[Meeting]:
        """Meetings of the viewer's organization whose slot is over and that its side has not rated."""
        if viewer.organization_id is None or viewer.is_staff:
            return []
        side = "agency" if viewer.is_agency else "firm"
        return await repository.meetings_to_rate(self.session, viewer.organization_id, side, limit)

    async def in_progress(self) -> list[tuple[Fair, int]]:
        """Staff: fairs whose booking has opened and whose last day has not passed, each with its number
        of live meetings."""
        on_day = seoul(now()).date().isoformat()
        return [
            (fair, count)
            for fair, count in await repository.fairs_open_since(self.session, now())
            if fair.days and max(str(day["date"]) for day in fair.days) >= on_day
        ]

    async def fair_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        return await repository.fair_names(self.session, ids)

    async def takes_part(self, viewer: Principal, fair_id: uuid.UUID) -> bool:
        """Staff, or a member of an organization taking part in the fair."""
        return viewer.is_staff or await self.is_participant(fair_id, viewer)


def _slot_starts(fair: Fair, starts: Sequence[datetime]) -> list[datetime]:
    """The slot starts given, each checked to start a slot of the fair, without repeats, in order."""
    _, by_start = fair_grid(fair.days, fair.slot_minutes)
    errors = FieldErrors()
    for i, start in enumerate(starts):
        if start.tzinfo is None or start not in by_start:
            errors.add(f"starts[{i}]", "is not the start of a slot of this fair")
    errors.raise_if_any()
    return sorted({by_start[s].starts_at for s in starts})
