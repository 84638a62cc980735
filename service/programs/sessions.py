"""Briefing and training sessions: staff create them, organizations register their members, a waiting
list moves up when a seat frees, staff mark attendance and share the materials.

Registering and cancelling take the session's row lock first, so the seats counted are the seats
taken: the capacity is never exceeded, and each freed seat goes to exactly one person waiting, the
first in line, however many cancellations arrive at once (a repeated cancellation is a no-op).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import User
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationFailed
from service.lib.events import publish
from service.programs import repository as repo
from service.programs.events import SessionMaterialsShared, SessionRegistered, SessionSeatFreed
from service.programs.models import (
    MAX_CAPACITY,
    ProgramSession,
    RegistrationStatus,
    SessionAudience,
    SessionKind,
    SessionRegistration,
    SessionStatus,
)
from service.programs.schemas import SessionIn, SessionPatch


def _check_url(errors: FieldErrors, field: str, value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and not value.startswith("https://"):
        errors.add(field, "must be an https:// link")
    return value


def check_session(data: SessionIn) -> FieldErrors:
    """Every field's problem at once."""
    errors = FieldErrors()
    if not data.title.strip():
        errors.add("title", "required")
    if data.kind not in {k.value for k in SessionKind}:
        errors.add("kind", "must be briefing or training")
    if data.audience not in {a.value for a in SessionAudience}:
        errors.add("audience", "must be agencies, firms or both")
    if not 1 <= data.capacity <= MAX_CAPACITY:
        errors.add("capacity", f"must be between 1 and {MAX_CAPACITY:,}")
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        errors.add("starts_at", "must carry a time zone")
    elif data.ends_at <= data.starts_at:
        errors.add("ends_at", "must be after the start")
    _check_url(errors, "online_url", data.online_url)
    if not (data.place or "").strip() and not (data.online_url or "").strip():
        errors.add("place", "give a place or an online room")
    return errors


class SessionService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, staff: Principal, data: SessionIn) -> ProgramSession:
        check_session(data).raise_if_any()
        row = ProgramSession(
            title=data.title.strip(),
            kind=SessionKind(data.kind),
            audience=SessionAudience(data.audience),
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            capacity=data.capacity,
            place=(data.place or "").strip() or None,
            online_url=(data.online_url or "").strip() or None,
            description=data.description.strip(),
            created_by=staff.user_id,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def list_for(
        self, viewer: Principal, *, upcoming: bool, offset: int, limit: int
    ) -> tuple[list[ProgramSession], int]:
        """Staff: every session; an organization: the scheduled ones open to its kind."""
        viewer.require_verified()
        query = repo.sessions_query(None if viewer.is_staff else viewer.organization_kind, now() if upcoming else None)
        total = int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        order = ProgramSession.starts_at.asc() if upcoming else ProgramSession.starts_at.desc()
        rows = await self.session.scalars(query.order_by(order, ProgramSession.id).offset(offset).limit(limit))
        return list(rows), total

    async def counts(self, sessions: list[ProgramSession]) -> dict[uuid.UUID, tuple[int, int]]:
        return await repo.counts(self.session, [s.id for s in sessions])

    async def get(self, viewer: Principal, session_id: uuid.UUID) -> ProgramSession:
        viewer.require_verified()
        found = await self.session.get(ProgramSession, session_id)
        if found is None or not (viewer.is_staff or found.open_to(viewer.organization_kind)):
            raise NotFound("No such session.")
        return found

    async def registrations(self, viewer: Principal, session: ProgramSession) -> list[tuple[SessionRegistration, User]]:
        """Staff: everyone's, in line order; an organization: its own members'."""
        query = (
            select(SessionRegistration, User)
            .join(User, User.id == SessionRegistration.user_id)
            .where(SessionRegistration.session_id == session.id)
            .order_by(SessionRegistration.created_at, SessionRegistration.id)
        )
        if not viewer.is_staff:
            query = query.where(SessionRegistration.organization_id == viewer.organization_id)
        return [(r, u) for r, u in (await self.session.execute(query)).tuples()]

    async def _members(self, viewer: Principal, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        found = set(
            await self.session.scalars(
                select(User.id).where(
                    User.id.in_(user_ids), User.organization_id == viewer.organization_id, User.is_active.is_(True)
                )
            )
        )
        strangers = [str(u) for u in user_ids if u not in found]
        if strangers:
            raise ValidationFailed.single("user_ids", "not members of your organization: " + ", ".join(strangers))
        return list(dict.fromkeys(user_ids))

    async def register(
        self, viewer: Principal, session_id: uuid.UUID, user_ids: list[uuid.UUID] | None = None
    ) -> list[SessionRegistration]:
        """Register members of the caller's organization: seats first, then the waiting list."""
        viewer.require_verified()
        if viewer.is_staff or viewer.organization_id is None:
            raise Forbidden("Organizations register their own members.")
        wanted = await self._members(viewer, user_ids or [viewer.user_id])
        target = await repo.lock_session(self.session, session_id)
        if target is None or not target.open_to(viewer.organization_kind):
            raise NotFound("No such session.")
        if target.status != SessionStatus.SCHEDULED or target.starts_at <= now():
            raise Conflict("Registration is closed: the session was cancelled or has begun.")
        already = await repo.live_user_ids(self.session, target.id, wanted)
        if already:
            raise ValidationFailed.single("user_ids", "already registered: " + ", ".join(str(u) for u in already))
        taken = await repo.registered_count(self.session, target.id)
        created = []
        for user_id in wanted:
            seat = taken < target.capacity
            taken += seat
            row = SessionRegistration(
                session_id=target.id,
                user_id=user_id,
                organization_id=viewer.organization_id,
                status=RegistrationStatus.REGISTERED if seat else RegistrationStatus.WAITLISTED,
                registered_by=viewer.user_id,
                created_at=now(),
            )
            self.session.add(row)
            await self.session.flush()
            created.append(row)
            await publish(self.session, SessionRegistered(session=target, registration=row))
        return created

    async def cancel_registration(self, viewer: Principal, registration_id: uuid.UUID) -> SessionRegistration:
        """Cancel one registration (its organization or staff); a freed seat goes to the first waiting."""
        viewer.require_verified()
        found = await repo.registration(self.session, registration_id)
        if found is None or not (viewer.is_staff or viewer.owns(found.organization_id)):
            raise NotFound("No such registration.")
        target = await repo.lock_session(self.session, found.session_id)
        row = await repo.registration(self.session, registration_id)  # as it is now that we hold the lock
        if target is None or row is None or row.status == RegistrationStatus.CANCELLED:
            return found if row is None else row
        had_seat = row.status == RegistrationStatus.REGISTERED
        row.status, row.cancelled_at, row.attended = RegistrationStatus.CANCELLED, now(), None
        await self.session.flush()
        promoted = None
        if had_seat and target.status == SessionStatus.SCHEDULED and target.starts_at > now():
            promoted = await repo.first_waiting(self.session, target.id)
            if promoted is not None:
                promoted.status, promoted.promoted_at = RegistrationStatus.REGISTERED, now()
                await self.session.flush()
        await publish(self.session, SessionSeatFreed(session=target, cancelled=row, promoted=promoted))
        return row

    async def mark_attendance(
        self, staff: Principal, session_id: uuid.UUID, registration_id: uuid.UUID, attended: bool
    ) -> SessionRegistration:
        target = await self.get(staff, session_id)
        row = await repo.registration(self.session, registration_id)
        if row is None or row.session_id != target.id:
            raise NotFound("No such registration.")
        if row.status != RegistrationStatus.REGISTERED:
            raise ValidationFailed.single("attended", "only registered people (not waiting or cancelled) attend")
        if target.starts_at > now():
            raise ValidationFailed.single("attended", "the session has not begun yet")
        row.attended = attended
        await self.session.flush()
        return row

    async def members(self, viewer: Principal) -> list[User]:
        """The active users of the caller's organization (whom it may register)."""
        if viewer.organization_id is None:
            return []
        rows = await self.session.scalars(
            select(User)
            .where(User.organization_id == viewer.organization_id, User.is_active.is_(True))
            .order_by(User.name, User.email)
        )
        return list(rows)

    async def record_attendance(self, staff: Principal, session_id: uuid.UUID, attended: set[uuid.UUID]) -> int:
        """Staff: everyone registered attended if in `attended`, else not; returns how many attended."""
        target = await self.get(staff, session_id)
        if target.starts_at > now():
            raise ValidationFailed.single("attended", "the session has not begun yet")
        rows = await self.session.scalars(
            select(SessionRegistration).where(
                SessionRegistration.session_id == target.id,
                SessionRegistration.status == RegistrationStatus.REGISTERED,
            )
        )
        count = 0
        for row in rows:
            row.attended = row.id in attended
            count += row.attended
        await self.session.flush()
        return count

    async def update(self, staff: Principal, session_id: uuid.UUID, patch: SessionPatch) -> ProgramSession:
        """Share the materials (mailed to everyone registered) or cancel the session."""
        target = await self.get(staff, session_id)
        errors = FieldErrors()
        status = None if isinstance(patch.status, msgspec.UnsetType) else patch.status
        if status is not None and status not in {s.value for s in SessionStatus}:
            errors.add("status", "must be scheduled or cancelled")
        url = None
        if not isinstance(patch.materials_url, msgspec.UnsetType):
            url = _check_url(errors, "materials_url", patch.materials_url)
            if url is None:
                errors.add("materials_url", "required")
        errors.raise_if_any()
        if status is not None:
            target.status = SessionStatus(status)
        if url is not None and url != target.materials_url:
            target.materials_url = url
            await self.session.flush()
            await publish(self.session, SessionMaterialsShared(session=target))
        await self.session.flush()
        return target


def seats_left(capacity: int, registered: int) -> int:
    return max(0, capacity - registered)


def is_past(session: ProgramSession, moment: datetime | None = None) -> bool:
    return session.ends_at <= (moment or now())
