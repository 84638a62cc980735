"""An organization's people: members with a role (admin / member) and invitations to join.

Rules:
- An organization always keeps at least one admin. Every change of a member (role, removal) first
  locks the organization's row, then checks that the caller is (still) an admin and counts the
  admins, so two admins removing each other at the same moment are serialised: one wins, the other
  is refused (it is no longer an admin, or it would leave none).
- Invitations are one-time tokens stored only as SHA-256, valid 7 days; a resend replaces the token.
  An accepted, revoked or expired one answers 410. An email that belongs to another organization (or
  to the support center) cannot be invited.
- Removing a member ends every session and token of theirs at once (auth_tokens.revoked_at).
- Every change is in the organization's audit trail (`member.*` actions).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.events import InvitationSent
from service.accounts.models import AuthToken, Invitation, MemberRole, Role, User
from service.accounts.passwords import hash_password, verify_password
from service.accounts.schemas import UserIn
from service.accounts.service import hash_token, validate_user
from service.identity.audit import record_audit
from service.identity.models import AuditEvent
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import Conflict, DomainError, FieldError, FieldErrors, Forbidden, NotFound, Unauthorized
from service.lib.events import publish
from service.registry.models import Organization
from service.registry.validation import EMAIL_RE

INVITATION_VALID = timedelta(days=7)
ROLES = tuple(role.value for role in MemberRole)


class InvitationGone(DomainError):
    status = 410
    code = "gone"
    title = "No longer valid"


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    joined_at: datetime | None


def sole_admin(members: list[Member]) -> uuid.UUID | None:
    """The organization's only admin, whom neither a demotion nor a removal may touch (MemberService
    refuses both under the organization's lock); None when there are several."""
    admins = [m.user_id for m in members if m.role == MemberRole.ADMIN.value]
    return admins[0] if len(admins) == 1 else None


def invitation_state(invitation: Invitation, moment: datetime) -> str:
    """open | expired | accepted | revoked."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if invitation.expires_at <= moment else "open"


def check_role(role: str, errors: FieldErrors, field: str = "role") -> None:
    if role not in ROLES:
        errors.add(field, "must be admin or member")


class MemberService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- reading ------------------------------------------------------------------------------
    async def organization(self, viewer: Principal, organization_id: uuid.UUID) -> Organization:
        """The organization, for its own members and staff (404 for anyone else)."""
        org = await self.session.get(Organization, organization_id)
        if org is None or not (viewer.is_staff or viewer.owns(organization_id)):
            raise NotFound("No such organization.")
        return org

    async def members(self, viewer: Principal, organization_id: uuid.UUID) -> list[Member]:
        await self.organization(viewer, organization_id)
        rows = await self.session.execute(
            select(User.id, User.email, User.name, User.member_role, User.joined_at)
            .where(User.organization_id == organization_id, User.is_active.is_(True))
            .order_by(User.member_role, User.joined_at, User.email)
        )
        return [Member(r.id, r.email, r.name, r.member_role or MemberRole.MEMBER.value, r.joined_at) for r in rows]

    async def is_admin(self, viewer: Principal, organization_id: uuid.UUID) -> bool:
        """Whether the viewer may manage the organization's members (its admins, and staff)."""
        if viewer.is_staff:
            return True
        if not viewer.owns(organization_id):
            return False
        role = await self.session.scalar(
            select(User.member_role).where(User.id == viewer.user_id, User.organization_id == organization_id)
        )
        return role == MemberRole.ADMIN.value

    async def invitations(self, viewer: Principal, organization_id: uuid.UUID) -> Sequence[Invitation]:
        """Invitations neither accepted nor revoked (expired ones too, to resend), newest first."""
        await self._require_admin(viewer, organization_id)
        rows = await self.session.scalars(
            select(Invitation)
            .where(
                Invitation.organization_id == organization_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id)
        )
        return rows.all()

    async def history(self, viewer: Principal, organization_id: uuid.UUID, limit: int = 50) -> list[AuditEvent]:
        """The member changes of the organization's audit trail, newest first (its admins and staff)."""
        await self._require_admin(viewer, organization_id)
        rows = await self.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.target_type == "organization",
                AuditEvent.target_id == organization_id,
                AuditEvent.action.like("member.%"),
            )
            .order_by(AuditEvent.at.desc())
            .limit(limit)
        )
        return list(rows)

    # -- who may change what ------------------------------------------------------------------
    async def _lock(self, organization_id: uuid.UUID) -> None:
        """Serialise every member change of one organization (the last-admin rule reads after it)."""
        await self.session.execute(select(Organization.id).where(Organization.id == organization_id).with_for_update())

    async def _require_admin(self, viewer: Principal, organization_id: uuid.UUID) -> Organization:
        org = await self.organization(viewer, organization_id)
        if not await self.is_admin(viewer, organization_id):
            raise Forbidden("Only an admin of the organization may manage its members.")
        return org

    async def _admins(self, organization_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.organization_id == organization_id,
                User.member_role == MemberRole.ADMIN.value,
                User.is_active.is_(True),
            )
        )
        return int(count or 0)

    async def _member(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> User:
        user = await self.session.scalar(
            select(User).where(User.id == user_id, User.organization_id == organization_id).with_for_update(of=User)
        )
        if user is None:
            raise NotFound("No such member.")
        return user

    async def _audit(
        self, actor: uuid.UUID | None, organization_id: uuid.UUID, action: str, changes: dict[str, Any]
    ) -> None:
        await record_audit(
            self.session,
            actor_id=actor,
            action=f"member.{action}",
            target_type="organization",
            target_id=organization_id,
            changes=changes,
        )

    # -- members ------------------------------------------------------------------------------
    async def change_role(self, viewer: Principal, organization_id: uuid.UUID, user_id: uuid.UUID, role: str) -> Member:
        errors = FieldErrors()
        check_role(role, errors)
        errors.raise_if_any()
        await self._lock(organization_id)
        await self._require_admin(viewer, organization_id)
        user = await self._member(organization_id, user_id)
        old = user.member_role
        if old == role:
            return Member(user.id, user.email, user.name, role, user.joined_at)
        if old == MemberRole.ADMIN.value and await self._admins(organization_id) <= 1:
            raise Conflict(
                "The organization must keep at least one admin; make someone else admin first.",
                errors=[FieldError("role", "the last admin cannot be demoted")],
            )
        user.member_role = role
        await self.session.flush()
        await self._audit(
            viewer.user_id,
            organization_id,
            "role_changed",
            {"member": {"old": user.email, "new": user.email}, "member_role": {"old": old, "new": role}},
        )
        return Member(user.id, user.email, user.name, role, user.joined_at)

    async def remove(self, viewer: Principal, organization_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Take the member out of the organization; every session and token of theirs ends now.
        The account stays (without an organization), so another organization may invite it later."""
        await self._lock(organization_id)
        await self._require_admin(viewer, organization_id)
        user = await self._member(organization_id, user_id)
        if user.member_role == MemberRole.ADMIN.value and await self._admins(organization_id) <= 1:
            raise Conflict("The organization's last admin cannot be removed; make someone else admin first.")
        old_role = user.member_role
        user.organization_id = None
        user.member_role = None
        user.joined_at = None
        await self.session.flush()
        await end_sessions(self.session, user.id)
        await self._audit(
            viewer.user_id,
            organization_id,
            "removed",
            {"member": {"old": user.email, "new": None}, "member_role": {"old": old_role, "new": None}},
        )

    # -- invitations --------------------------------------------------------------------------
    async def invite(self, viewer: Principal, organization_id: uuid.UUID, email: str, role: str) -> Invitation:
        email = email.strip()
        errors = FieldErrors()
        if not EMAIL_RE.match(email) or len(email) > 254:
            errors.add("email", "not a valid email address")
        check_role(role, errors)
        errors.raise_if_any()
        await self._lock(organization_id)
        org = await self._require_admin(viewer, organization_id)
        await self._check_invitable(email, organization_id)
        moment = now()
        await self._retire_expired(organization_id, email, moment)
        raw = secrets.token_urlsafe(32)
        invitation = Invitation(
            organization_id=organization_id,
            email=email,
            role=role,
            token_hash=hash_token(raw),
            invited_by=viewer.user_id,
            sent_at=moment,
            sends=1,
            expires_at=moment + INVITATION_VALID,
        )
        self.session.add(invitation)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            raise Conflict(
                "This email already has an open invitation; resend it instead.",
                errors=[FieldError("email", "already invited")],
            ) from None
        invitation.organization = org
        await self._audit(
            viewer.user_id,
            organization_id,
            "invited",
            {"invitee": {"old": None, "new": email}, "member_role": {"old": None, "new": role}},
        )
        await publish(self.session, InvitationSent(invitation, raw, viewer.name, viewer.locale))
        return invitation

    async def _check_invitable(self, email: str, organization_id: uuid.UUID) -> None:
        user = await self.session.scalar(select(User).where(User.email == email))
        if user is None or (user.organization_id is None and user.role != Role.STAFF):
            return
        if user.organization_id == organization_id:
            reason, message = "already a member", "This person is already a member of the organization."
        elif user.role == Role.STAFF:
            reason, message = "belongs to the support center", "This email belongs to a support-center account."
        else:
            reason = "belongs to another organization"
            message = "This email belongs to a member of another organization; they must leave it first."
        raise Conflict(message, errors=[FieldError("email", reason)])

    async def _retire_expired(self, organization_id: uuid.UUID, email: str, moment: datetime) -> None:
        """An expired open invitation to the same email gives way to the new one (marked revoked)."""
        await self.session.execute(
            update(Invitation)
            .where(
                Invitation.organization_id == organization_id,
                Invitation.email == email,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at <= moment,
            )
            .values(revoked_at=moment)
        )

    async def _invitation(self, viewer: Principal, invitation_id: uuid.UUID) -> Invitation:
        invitation = await self.session.get(Invitation, invitation_id)
        if invitation is None or not (viewer.is_staff or viewer.owns(invitation.organization_id)):
            raise NotFound("No such invitation.")
        await self._lock(invitation.organization_id)
        await self._require_admin(viewer, invitation.organization_id)
        await self.session.refresh(invitation, with_for_update=True)
        return invitation

    async def revoke(self, viewer: Principal, invitation_id: uuid.UUID) -> None:
        invitation = await self._invitation(viewer, invitation_id)
        state = invitation_state(invitation, now())
        if state in ("accepted", "revoked"):
            raise InvitationGone(f"This invitation was already {state}.")
        invitation.revoked_at = now()
        await self.session.flush()
        await self._audit(
            viewer.user_id, invitation.organization_id, "invitation_revoked",
            {"invitee": {"old": invitation.email, "new": None}},
        )  # fmt: skip

    async def resend(self, viewer: Principal, invitation_id: uuid.UUID) -> Invitation:
        """Mail the invitation again with a new token (the old link stops working) and 7 more days."""
        invitation = await self._invitation(viewer, invitation_id)
        state = invitation_state(invitation, now())
        if state in ("accepted", "revoked"):
            raise InvitationGone(f"This invitation was already {state}.")
        raw = secrets.token_urlsafe(32)
        moment = now()
        invitation.token_hash = hash_token(raw)
        invitation.sent_at = moment
        invitation.sends += 1
        invitation.expires_at = moment + INVITATION_VALID
        await self.session.flush()
        await self._audit(
            viewer.user_id, invitation.organization_id, "invitation_resent",
            {"invitee": {"old": invitation.email, "new": invitation.email}},
        )  # fmt: skip
        await publish(self.session, InvitationSent(invitation, raw, viewer.name, viewer.locale))
        return invitation

    # -- accepting ----------------------------------------------------------------------------
    async def by_token(self, raw: str, *, lock: bool = False) -> Invitation:
        """The open invitation of a token: 404 for a token that never was, 410 when no longer valid."""
        statement = select(Invitation).where(Invitation.token_hash == hash_token(raw or ""))
        if lock:
            statement = statement.with_for_update(of=Invitation)
        invitation = await self.session.scalar(statement)
        if invitation is None:
            raise NotFound("This invitation link is not valid (a newer one may have been sent).")
        state = invitation_state(invitation, now())
        if state != "open":
            raise InvitationGone(f"This invitation is no longer valid: it was {state}.", extra={"state": state})
        return invitation

    async def existing_account(self, invitation: Invitation) -> User | None:
        user: User | None = await self.session.scalar(select(User).where(User.email == invitation.email))
        return user

    async def accept(self, raw: str, name: str, password: str) -> tuple[User, Organization]:
        """Join the organization: a new account (name, password), or an existing account without an
        organization (its password). The token works once."""
        invitation = await self.by_token(raw, lock=True)
        user = await self.existing_account(invitation)
        if user is None:
            user = await self._new_account(invitation, name, password)
        else:
            await self._check_joinable(user, invitation, password)
        org = invitation.organization
        moment = now()
        user.organization_id = org.id
        user.role = Role(org.kind.value)
        user.member_role = invitation.role
        user.joined_at = moment
        invitation.accepted_at = moment
        invitation.accepted_by = user.id
        await self.session.flush()
        await self._audit(
            user.id, org.id, "joined",
            {"member": {"old": None, "new": user.email}, "member_role": {"old": None, "new": invitation.role}},
        )  # fmt: skip
        return user, org

    async def _new_account(self, invitation: Invitation, name: str, password: str) -> User:
        errors = FieldErrors()
        validate_user(UserIn(email=invitation.email, password=password, name=name), errors, prefix="")
        errors.raise_if_any()
        user = User(
            email=invitation.email,
            password_hash=hash_password(password),
            name=name.strip(),
            role=Role(invitation.organization.kind.value),
            organization_id=invitation.organization_id,
            member_role=invitation.role,
            locale="ko",
        )
        self.session.add(user)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            raise Conflict("An account with this email was created meanwhile; sign in to accept.") from None
        return user

    async def _check_joinable(self, user: User, invitation: Invitation, password: str) -> None:
        if not verify_password(user.password_hash, password) or not user.is_active:
            raise Unauthorized(
                "This email already has an account: enter its password to accept.",
                errors=[FieldError("password", "wrong password")],
            )
        if user.organization_id is not None or user.role == Role.STAFF:
            raise Conflict(
                "This account already belongs to an organization; it must leave it first.",
                errors=[FieldError("email", "belongs to another organization")],
            )


async def end_sessions(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Revoke every live token and browser session of the user (the caller cache watches revoked_at)."""
    result = await session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=now())
        .returning(AuthToken.id)
    )
    return len(result.all())
