"""Everyday consultations (일상상담): a verified firm or agency asks with a topic, a message and its
preferred times; staff confirm a time (or propose others, which the requester accepts); afterwards
staff record whether it was held, private notes, the outcome and a follow-up date; the requester rates it.

A staff member is never in two confirmed consultations at once: the exclusion constraint
`ex_consultations_staff_overlap` refuses the second (409 `staff_busy`), whichever path confirmed it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.consultations.events import (
    ConsultationCancelled,
    ConsultationConfirmed,
    ConsultationProposed,
    ConsultationRequested,
)
from service.consultations.hours import HoursService
from service.consultations.models import (
    MAX_MESSAGE,
    MAX_NOTES,
    MAX_PREFERRED,
    OPEN_STATUSES,
    Consultation,
    ConsultationMode,
    ConsultationStatus,
    ConsultationTopic,
)
from service.consultations.schemas import ConsultationIn, ConsultationPatch, TimeRange
from service.identity.audit import record_audit
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationFailed
from service.lib.events import publish
from service.registry.models import Organization

EXCLUSION_VIOLATION = "23P01"
MAX_LENGTH = timedelta(hours=4)
MIN_LENGTH = timedelta(minutes=10)


class StaffBusy(Conflict):
    code = "staff-busy"
    title = "Staff member busy"


@dataclass(frozen=True)
class QueueRow:
    consultation: Consultation
    organization: Organization
    waiting: timedelta  # since the request (open ones); zero once decided


def check_range(r: TimeRange, field: str, errors: FieldErrors) -> None:
    if r.start.tzinfo is None or r.end.tzinfo is None:
        errors.add(field, "must include a time zone")
    elif not MIN_LENGTH <= r.end - r.start <= MAX_LENGTH:
        errors.add(field, "must last from 10 minutes to 4 hours")
    elif r.start <= now():
        errors.add(field, "must be in the future")


def check_ranges(items: list[TimeRange] | None, field: str, errors: FieldErrors) -> list[dict[str, str]]:
    if not items:
        errors.add(field, "give at least one time")
        return []
    if len(items) > MAX_PREFERRED:
        errors.add(field, f"give at most {MAX_PREFERRED} times")
        return []
    for i, r in enumerate(items):
        check_range(r, f"{field}[{i}]", errors)
    return [{"start": r.start.isoformat(), "end": r.end.isoformat()} for r in items]


def clean_request(
    data: ConsultationIn, errors: FieldErrors | None = None, *, logged: bool = False
) -> tuple[ConsultationTopic, str, list[dict[str, str]]]:
    errors = errors if errors is not None else FieldErrors()
    topic = ConsultationTopic.OTHER
    try:
        topic = ConsultationTopic(data.topic or "")
    except ValueError:
        errors.add("topic", "must be one of " + ", ".join(t.value for t in ConsultationTopic))
    message = (data.message or "").strip()
    if not message:
        errors.add("message", "required")
    elif len(message) > MAX_MESSAGE:
        errors.add("message", f"must be at most {MAX_MESSAGE:,} characters")
    preferred = [] if logged else check_ranges(data.preferred, "preferred", errors)
    errors.raise_if_any()
    return topic, message, preferred


def is_exclusion(exc: IntegrityError) -> bool:
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    return EXCLUSION_VIOLATION in (getattr(orig, "sqlstate", None), getattr(cause, "sqlstate", None))


class ConsultationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.hours = HoursService(session)

    # --- reading -----------------------------------------------------------------------------

    async def get_for(self, viewer: Principal, consultation_id: uuid.UUID, *, lock: bool = False) -> Consultation:
        """The consultation as `viewer` may see it: staff any, an organization its own (404 otherwise)."""
        statement = select(Consultation).where(Consultation.id == consultation_id)
        if lock:
            statement = statement.with_for_update()
        found = (await self.session.scalars(statement)).one_or_none()
        if found is None or not (viewer.is_staff or viewer.owns(found.organization_id)):
            raise NotFound("No such consultation.")
        return found

    async def organization_of(self, consultation: Consultation) -> Organization | None:
        return await self.session.get(Organization, consultation.organization_id)

    async def listing(
        self, viewer: Principal, status: str | None, offset: int, limit: int
    ) -> tuple[list[QueueRow], int]:
        """Staff: every consultation (open ones oldest first: the queue); others: their own, newest first."""
        filters = []
        if status:
            try:
                filters.append(Consultation.status == ConsultationStatus(status))
            except ValueError:
                raise ValidationFailed.single("status", "unknown status") from None
        if not viewer.is_staff:
            filters.append(Consultation.organization_id == viewer.organization_id)
        total = await self.session.scalar(select(func.count()).select_from(Consultation).where(*filters)) or 0
        order = (
            (Consultation.status.in_(OPEN_STATUSES).desc(), Consultation.created_at)
            if viewer.is_staff
            else (Consultation.created_at.desc(),)
        )
        rows = await self.session.execute(
            select(Consultation, Organization)
            .join(Organization, Organization.id == Consultation.organization_id)
            .where(*filters)
            .order_by(*order, Consultation.id)
            .offset(offset)
            .limit(limit)
        )
        moment = now()
        return [
            QueueRow(c, o, moment - c.created_at if c.status in OPEN_STATUSES else timedelta(0)) for c, o in rows.all()
        ], int(total)

    # --- the requester -----------------------------------------------------------------------

    async def request(self, viewer: Principal, data: ConsultationIn) -> Consultation:
        """A firm or agency asks (status requested); staff log one already held (see `log`)."""
        if viewer.is_staff:
            return await self.log(viewer, data)
        if viewer.organization_id is None:
            raise Forbidden("Consultations are asked for by firms and agencies.")
        viewer.require_verified()
        topic, message, preferred = clean_request(data)
        consultation = Consultation(
            organization_id=viewer.organization_id,
            requested_by=viewer.user_id,
            topic=topic,
            message=message,
            preferred=preferred,
            status=ConsultationStatus.REQUESTED,
            created_at=now(),  # the queue's waiting time runs on the one clock
        )
        self.session.add(consultation)
        await self.session.flush()
        await self.session.refresh(consultation)
        await publish(self.session, ConsultationRequested(consultation))
        return consultation

    async def log(self, staff: Principal, data: ConsultationIn) -> Consultation:
        """Staff record a consultation already held by phone or at the desk (it counts as held); the
        staff member's other consultations still may not overlap it."""
        errors = FieldErrors()
        organization = await self.session.get(Organization, data.organization_id) if data.organization_id else None
        if organization is None or organization.status.value != "verified":
            errors.add("organization_id", "must be a verified organization")
        if data.start is None or data.end is None:
            errors.add("start" if data.start is None else "end", "required")
        elif data.start.tzinfo is None or data.end.tzinfo is None:
            errors.add("start", "must include a time zone")
        elif not MIN_LENGTH <= data.end - data.start <= MAX_LENGTH:
            errors.add("end", "must last from 10 minutes to 4 hours")
        elif data.start > now():
            errors.add("start", "a logged consultation has taken place: not in the future")
        topic, message, _ = clean_request(data, errors, logged=True)
        assert organization is not None and data.start is not None and data.end is not None  # noqa: PT018
        consultation = Consultation(
            organization_id=organization.id,
            requested_by=staff.user_id,
            topic=topic,
            message=message,
            created_at=now(),
        )
        self.session.add(consultation)
        patch = ConsultationPatch(
            mode=data.mode, place=data.place, notes=data.notes, outcome=data.outcome, follow_up_on=data.follow_up_on
        )
        self._set_place(consultation, patch, None, "")
        await self._fix_time(consultation, staff.user_id, data.start, data.end)
        return await self.record(staff, consultation, msgspec.structs.replace(patch, status=ConsultationStatus.HELD))

    async def accept(self, viewer: Principal, consultation: Consultation, start: datetime | None) -> Consultation:
        """The requester takes one of the times staff proposed."""
        if not viewer.owns(consultation.organization_id):
            raise Forbidden("Only the requester accepts a proposed time.")
        if consultation.status != ConsultationStatus.PROPOSED:
            raise Conflict("Only a proposed time can be accepted.", extra={"rule": "status"})
        chosen = next((p for p in consultation.proposed if start and datetime.fromisoformat(p["start"]) == start), None)
        if chosen is None:
            raise ValidationFailed.single("start", "must be one of the proposed times")
        if datetime.fromisoformat(chosen["start"]) <= now():
            raise ValidationFailed.single("start", "must be in the future")
        assert consultation.staff_id is not None
        await self._fix_time(
            consultation,
            consultation.staff_id,
            datetime.fromisoformat(chosen["start"]),
            datetime.fromisoformat(chosen["end"]),
        )
        await publish(self.session, ConsultationConfirmed(consultation))
        return consultation

    async def rate(
        self, viewer: Principal, consultation: Consultation, rating: int, comment: str | None
    ) -> Consultation:
        if not viewer.owns(consultation.organization_id):
            raise Forbidden("Only the requester rates a consultation.")
        if consultation.status != ConsultationStatus.HELD:
            raise Conflict("A consultation is rated once it was held.", extra={"rule": "status"})
        errors = FieldErrors()
        if not 1 <= rating <= 5:
            errors.add("rating", "must be 1 to 5")
        if comment is not None and len(comment.strip()) > 500:
            errors.add("rating_comment", "must be at most 500 characters")
        errors.raise_if_any()
        consultation.rating = rating
        consultation.rating_comment = (comment or "").strip()
        await self.session.flush()
        return consultation

    async def cancel(self, viewer: Principal, consultation: Consultation) -> Consultation:
        """The requester or staff cancel an open or confirmed consultation (before its start)."""
        if not consultation.is_changeable:
            raise Conflict("This consultation can no longer be cancelled.", extra={"rule": "status"})
        if consultation.starts_at is not None and consultation.starts_at <= now() and not viewer.is_staff:
            raise Conflict("The consultation has started.", extra={"rule": "started"})
        was_confirmed = consultation.status == ConsultationStatus.CONFIRMED
        consultation.status = ConsultationStatus.CANCELLED
        consultation.closed_at = now()
        if was_confirmed:
            consultation.sequence += 1
        await self.session.flush()
        await publish(self.session, ConsultationCancelled(consultation, was_confirmed))
        return consultation

    # --- staff -------------------------------------------------------------------------------

    async def confirm(self, viewer: Principal, consultation: Consultation, patch: ConsultationPatch) -> Consultation:
        """Staff fix the time (a new one for an already confirmed consultation moves it)."""
        if not consultation.is_changeable:
            raise Conflict("Only an open or confirmed consultation gets a time.", extra={"rule": "status"})
        if patch.start is None or patch.end is None:
            raise ValidationFailed.single("start" if patch.start is None else "end", "required")
        errors = FieldErrors()
        check_range(TimeRange(start=patch.start, end=patch.end), "start", errors)
        errors.raise_if_any()
        staff_id = patch.staff_id or consultation.staff_id or viewer.user_id
        await self.hours.require_staff_member(staff_id)
        window = await self.hours.within_hours(staff_id, patch.start, patch.end)
        if window is None and await self.hours.has_hours(staff_id):
            raise ValidationFailed.single("start", "outside the staff member's consultation hours")
        self._set_place(consultation, patch, window.mode if window else None, window.place if window else "")
        await self._fix_time(consultation, staff_id, patch.start, patch.end)
        await record_audit(
            self.session,
            actor_id=viewer.user_id,
            action="consultation.confirm",
            target_type="consultation",
            target_id=consultation.id,
            changes={"staff_id": str(staff_id), "starts_at": patch.start.isoformat()},
        )
        await publish(self.session, ConsultationConfirmed(consultation))
        return consultation

    async def propose(self, viewer: Principal, consultation: Consultation, patch: ConsultationPatch) -> Consultation:
        if consultation.status not in OPEN_STATUSES:
            raise Conflict("Times are proposed for an open request.", extra={"rule": "status"})
        errors = FieldErrors()
        proposed = check_ranges(patch.proposed, "proposed", errors)
        errors.raise_if_any()
        staff_id = patch.staff_id or consultation.staff_id or viewer.user_id
        await self.hours.require_staff_member(staff_id)
        consultation.staff_id = staff_id
        consultation.proposed = proposed
        consultation.status = ConsultationStatus.PROPOSED
        self._set_place(consultation, patch, None, "")
        await self.session.flush()
        await publish(self.session, ConsultationProposed(consultation))
        return consultation

    async def record(self, viewer: Principal, consultation: Consultation, patch: ConsultationPatch) -> Consultation:
        """Staff mark it held or not shown (once it started) and keep notes, outcome and a follow-up date."""
        errors = FieldErrors()
        if patch.status in (ConsultationStatus.HELD, ConsultationStatus.NO_SHOW):
            if not consultation.is_recordable:
                raise Conflict("Only a confirmed consultation is held.", extra={"rule": "status"})
            assert consultation.starts_at is not None
            if consultation.starts_at > now():
                raise Conflict("The consultation has not started yet.", extra={"rule": "not_started"})
            consultation.status = ConsultationStatus(patch.status)
            consultation.closed_at = consultation.closed_at or now()
        for field, value in (("notes", patch.notes), ("outcome", patch.outcome)):
            if value is not None and len(value) > MAX_NOTES:
                errors.add(field, f"must be at most {MAX_NOTES:,} characters")
        errors.raise_if_any()
        if patch.notes is not None:
            consultation.notes = patch.notes.strip()
        if patch.outcome is not None:
            consultation.outcome = patch.outcome.strip()
        if patch.follow_up_on is not None:
            consultation.follow_up_on = patch.follow_up_on
        await self.session.flush()
        return consultation

    async def apply(self, viewer: Principal, consultation_id: uuid.UUID, patch: ConsultationPatch) -> Consultation:
        """PATCH /consultations/{id}: what the body asks, as far as the caller may."""
        consultation = await self.get_for(viewer, consultation_id, lock=True)
        status = patch.status
        if status == ConsultationStatus.CANCELLED:
            return await self.cancel(viewer, consultation)
        if not viewer.is_staff:
            if status == ConsultationStatus.CONFIRMED:
                return await self.accept(viewer, consultation, patch.start)
            if patch.rating is not None:
                return await self.rate(viewer, consultation, patch.rating, patch.rating_comment)
            raise Forbidden("The requester may accept a proposed time, cancel, or rate.")
        if status == ConsultationStatus.PROPOSED:
            return await self.propose(viewer, consultation, patch)
        if status == ConsultationStatus.CONFIRMED or (status is None and patch.start is not None):
            return await self.confirm(viewer, consultation, patch)
        if status in (None, ConsultationStatus.HELD, ConsultationStatus.NO_SHOW):
            return await self.record(viewer, consultation, patch)
        raise ValidationFailed.single("status", "unknown status")

    # --- helpers -----------------------------------------------------------------------------

    def _set_place(
        self, consultation: Consultation, patch: ConsultationPatch, mode: ConsultationMode | None, place: str
    ) -> None:
        if patch.mode is not None:
            try:
                mode = ConsultationMode(patch.mode)
            except ValueError:
                raise ValidationFailed.single("mode", "must be online or in_person") from None
        if patch.place is not None:
            if len(patch.place) > 300:
                raise ValidationFailed.single("place", "must be at most 300 characters")
            place = patch.place.strip()
        consultation.mode = mode or consultation.mode or ConsultationMode.ONLINE
        consultation.place = place or consultation.place

    async def _fix_time(self, consultation: Consultation, staff_id: uuid.UUID, start: datetime, end: datetime) -> None:
        """Confirm at [start, end) with `staff_id`; the database refuses an overlap (StaffBusy)."""
        moved = consultation.status == ConsultationStatus.CONFIRMED
        consultation.staff_id = staff_id
        consultation.starts_at = start
        consultation.ends_at = end
        consultation.status = ConsultationStatus.CONFIRMED
        consultation.confirmed_at = now()
        consultation.reminded_at = None
        if moved:
            consultation.sequence += 1
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if not is_exclusion(exc):
                raise
            raise StaffBusy(
                "The staff member has another consultation at that time.",
                extra={"rule": "staff_busy"},
            ) from None
        await self.session.refresh(consultation)
