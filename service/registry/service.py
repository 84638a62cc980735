"""Organization rules: creation, profile edits (audited), and the verification workflow."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.audit import diff, record_audit
from service.identity.models import AuditEvent
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import Conflict, FieldError, FieldErrors, Forbidden, NotFound, ValidationFailed
from service.lib.events import publish
from service.registry.events import STATUS_EVENTS
from service.registry.models import (
    CategoryRow,
    ChangeStatus,
    Organization,
    OrganizationChange,
    OrganizationKind,
    OrganizationStatus,
)
from service.registry.schemas import OrganizationIn
from service.registry.validation import clean_profile

# Fields that verification vouches for: a verified firm's own edits of them wait for staff review
# (OrganizationChange); until accepted, the organization keeps its last verified values.
REVIEWED_FIELDS = ("name", "business_number", "firm_types", "certification_number", "certified_until")


def needs_review(actor: Principal, org: Organization) -> bool:
    """A firm's own edit once staff have verified it (suspension keeps it so); staff edits apply."""
    return (
        not actor.is_staff
        and org.kind == OrganizationKind.FIRM
        and org.status in (OrganizationStatus.VERIFIED, OrganizationStatus.SUSPENDED)
    )


def from_json(field: str, value: Any) -> Any:
    """A held value as the column takes it (JSON keeps dates as ISO text)."""
    if field == "certified_until" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def can_see_contact(viewer: Principal, organization_id: uuid.UUID) -> bool:
    """Contact details of a firm: only for verified agencies, staff and the firm itself."""
    return viewer.is_staff or viewer.owns(organization_id) or (viewer.is_agency and viewer.is_verified)


def shows_contact(viewer: Principal, org: Organization) -> bool:
    """An agency's contact details are public to every viewer of its profile; a firm's as `can_see_contact`."""
    return org.kind == OrganizationKind.AGENCY or can_see_contact(viewer, org.id)


def manages(viewer: Principal, organization_id: uuid.UUID) -> bool:
    """Staff and the organization's own members: they see its held changes and may edit it."""
    return viewer.is_staff or viewer.owns(organization_id)


# Which status changes staff may make, and the audit action of each.
TRANSITIONS: dict[str, tuple[set[OrganizationStatus], OrganizationStatus]] = {
    "verify": ({OrganizationStatus.PENDING, OrganizationStatus.REJECTED}, OrganizationStatus.VERIFIED),
    "reject": ({OrganizationStatus.PENDING, OrganizationStatus.VERIFIED}, OrganizationStatus.REJECTED),
    "suspend": ({OrganizationStatus.VERIFIED}, OrganizationStatus.SUSPENDED),
    "reinstate": ({OrganizationStatus.SUSPENDED}, OrganizationStatus.VERIFIED),
}


class OrganizationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, organization_id: uuid.UUID, kind: OrganizationKind | None = None) -> Organization:
        org = await self.session.get(Organization, organization_id)
        if org is None or (kind is not None and org.kind != kind):
            raise NotFound("No such organization.")
        return org

    async def visible(self, viewer: Principal, organization_id: uuid.UUID, kind: OrganizationKind) -> Organization:
        """An organization's profile if `viewer` may see it.

        Its own members and staff always may; anyone else must belong to a verified organization
        (403 otherwise), and sees only verified organizations (404 for the rest, as if absent).
        """
        org = await self.get(organization_id, kind)
        if not manages(viewer, org.id):
            viewer.require_verified()
            if not org.is_verified:
                raise NotFound("No such organization.")
        return org

    async def pending_change_for(self, viewer: Principal, org: Organization) -> OrganizationChange | None:
        """The held change of `org`, for those who manage it (None for everyone else)."""
        return await self.pending_change(org.id) if manages(viewer, org.id) else None

    async def history_for(self, viewer: Principal, organization_id: uuid.UUID) -> list[AuditEvent]:
        """The audit trail of an organization for staff; nobody else sees it."""
        return await self.history(organization_id) if viewer.is_staff else []

    async def categories(self) -> list[CategoryRow]:
        """The category taxonomy as stored: groups and leaves, by code."""
        return list(await self.session.scalars(select(CategoryRow).order_by(CategoryRow.code)))

    async def known_category_codes(self) -> set[str]:
        """Leaf codes of the taxonomy (firms and needs name leaves, not groups)."""
        rows = await self.session.scalars(select(CategoryRow.code).where(CategoryRow.parent_code.is_not(None)))
        return set(rows)

    async def create(self, kind: OrganizationKind, data: OrganizationIn, errors: FieldErrors) -> Organization:
        fields = clean_profile(kind, data, errors, known_categories=await self.known_category_codes())
        errors.raise_if_any()
        if fields.get("business_number"):
            await self._ensure_unique_business_number(fields["business_number"], None)
        org = Organization(kind=kind, status=OrganizationStatus.PENDING, **fields)
        self.session.add(org)
        await self._flush_unique()
        return org

    async def update_profile(self, actor: Principal, org: Organization, data: OrganizationIn) -> Organization:
        if not (actor.is_staff or actor.owns(org.id)):
            raise NotFound("No such organization.")
        errors = FieldErrors()
        fields = clean_profile(
            org.kind, data, errors, prefix="", partial=True, known_categories=await self.known_category_codes()
        )
        merged_types = fields.get("firm_types", org.firm_types)
        if org.kind == OrganizationKind.FIRM and "social_enterprise" in merged_types:
            if not fields.get("certification_number", org.certification_number):
                errors.add("certification_number", "required for a certified social enterprise")
            if not fields.get("certified_until", org.certified_until):
                errors.add("certified_until", "required for a certified social enterprise")
        errors.raise_if_any()
        if "business_number" in fields:
            await self._ensure_unique_business_number(fields["business_number"], org.id)
        before = {key: getattr(org, key) for key in fields}
        changes = diff(before, fields)
        if not changes:
            return org
        held = {k: c for k, c in changes.items() if k in REVIEWED_FIELDS} if needs_review(actor, org) else {}
        direct = {k: c for k, c in changes.items() if k not in held}
        if direct:
            for key in direct:
                setattr(org, key, fields[key])
            await self._flush_unique()
            await record_audit(
                self.session,
                actor_id=actor.user_id,
                action="organization.update",
                target_type="organization",
                target_id=org.id,
                changes=direct,
            )
        if held:
            await self._hold_for_review(actor, org, held)
        return org

    # --- Changes held for staff review ------------------------------------------------------

    async def pending_change(self, organization_id: uuid.UUID, *, lock: bool = False) -> OrganizationChange | None:
        """The organization's change awaiting review, if any."""
        statement = select(OrganizationChange).where(
            OrganizationChange.organization_id == organization_id,
            OrganizationChange.status == ChangeStatus.PENDING,
        )
        if lock:
            statement = statement.with_for_update()
        change: OrganizationChange | None = await self.session.scalar(statement)
        return change

    async def _hold_for_review(self, actor: Principal, org: Organization, held: dict[str, dict[str, Any]]) -> None:
        # The row lock on the organization serialises two edits of one firm (one pending change each).
        await self.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
        change = await self.pending_change(org.id, lock=True)
        if change is None:
            change = OrganizationChange(organization_id=org.id, changes={})
            self.session.add(change)
        change.changes = {**change.changes, **held}  # a new dict: JSONB changes are tracked by assignment
        change.requested_by = actor.user_id
        await self.session.flush()
        await self.session.refresh(change)  # server-set times, read now (no lazy load later)
        await record_audit(
            self.session,
            actor_id=actor.user_id,
            action="organization.change_requested",
            target_type="organization",
            target_id=org.id,
            changes=held,
        )

    async def pending_changes_page(
        self, offset: int, limit: int
    ) -> tuple[list[tuple[OrganizationChange, Organization]], int]:
        """Staff: one page of the changes awaiting review (oldest first), each with its organization
        (one query, not one per change), and their number."""
        condition = OrganizationChange.status == ChangeStatus.PENDING
        total = await self.session.scalar(select(func.count()).select_from(OrganizationChange).where(condition))
        rows = await self.session.execute(
            select(OrganizationChange, Organization)
            .join(Organization, Organization.id == OrganizationChange.organization_id)
            .where(condition)
            .order_by(OrganizationChange.created_at, OrganizationChange.id)
            .offset(offset)
            .limit(limit)
        )
        return [(change, org) for change, org in rows.tuples()], int(total or 0)

    async def decide_change(
        self, staff: Principal, org: Organization, change_id: uuid.UUID, action: str, reason: str | None = None
    ) -> Organization:
        """Staff accept (the values apply, audited old → new) or reject (dropped, with a reason) a held change."""
        if not staff.is_staff:
            raise Forbidden("Only support-center staff may review profile changes.")
        if action not in ("accept", "reject"):
            raise NotFound(f"No such action: {action}.")
        change = await self.session.scalar(
            select(OrganizationChange)
            .where(OrganizationChange.id == change_id, OrganizationChange.organization_id == org.id)
            .with_for_update()
        )
        if change is None:
            raise NotFound("No such change.")
        if change.status != ChangeStatus.PENDING:
            raise Conflict(f"This change was already {change.status}.")
        reason = (reason or "").strip() or None
        if reason and len(reason) > 2000:
            raise ValidationFailed.single("reason", "must be at most 2,000 characters")
        applied: dict[str, Any] = {}
        if action == "accept":
            values = {field: from_json(field, c["new"]) for field, c in change.changes.items()}
            if "business_number" in values:
                await self._ensure_unique_business_number(values["business_number"], org.id)
            applied = diff({key: getattr(org, key) for key in values}, values)
            for key, value in values.items():
                setattr(org, key, value)
        change.status = ChangeStatus.ACCEPTED if action == "accept" else ChangeStatus.REJECTED
        change.decided_by = staff.user_id
        change.decided_at = now()
        change.reason = reason
        await self._flush_unique()
        await record_audit(
            self.session,
            actor_id=staff.user_id,
            action=f"organization.change_{action}ed",
            target_type="organization",
            target_id=org.id,
            changes=applied if action == "accept" else change.changes,
            reason=reason,
        )
        return org

    async def change_status(
        self, actor: Principal, org: Organization, action: str, reason: str | None = None
    ) -> Organization:
        """verify / reject / suspend / reinstate: a staff action, audited."""
        if not actor.is_staff:
            raise Forbidden("Only support-center staff may change an organization's status.")
        if action not in TRANSITIONS:
            raise NotFound(f"No such action: {action}.")
        allowed_from, target = TRANSITIONS[action]
        if action in ("reject", "suspend"):
            reason = (reason or "").strip()
            if not reason:
                raise ValidationFailed.single("reason", "a reason is required")
            if len(reason) > 2000:
                raise ValidationFailed.single("reason", "must be at most 2,000 characters")
        if org.status not in allowed_from:
            raise Conflict(f"Cannot {action} an organization whose status is {org.status.value}.")
        old = org.status
        org.status = target
        org.status_reason = reason if action in ("reject", "suspend") else None
        org.status_changed_at = now()
        await self.session.flush()
        await record_audit(
            self.session,
            actor_id=actor.user_id,
            action=f"organization.{action}",
            target_type="organization",
            target_id=org.id,
            changes={"status": {"old": old.value, "new": target.value}},
            reason=reason,
        )
        await self._after_status_change(org, action)
        return org

    async def _after_status_change(self, org: Organization, action: str) -> None:
        """Announce the change (the notify domain mails verifications and rejections)."""
        await publish(self.session, STATUS_EVENTS[action](org))

    async def history(self, organization_id: uuid.UUID) -> list[AuditEvent]:
        """The audit trail of an organization, newest first (shown to staff)."""
        rows = await self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "organization", AuditEvent.target_id == organization_id)
            .order_by(AuditEvent.at.desc())
        )
        return list(rows)

    async def pending(self) -> list[Organization]:
        rows = await self.session.scalars(
            select(Organization)
            .where(Organization.status == OrganizationStatus.PENDING)
            .order_by(Organization.created_at, Organization.id)
        )
        return list(rows)

    async def contact_emails(self, organization_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[str, bool]]]:
        """Each organization's users' addresses and whether each was confirmed by its mailed link.

        `users` belongs to accounts, a domain listed after this one: like this domain's foreign keys
        to it, the query names the table and its columns instead of importing the model."""
        if not organization_ids:
            return {}
        rows = await self.session.execute(
            sql_text(
                "SELECT organization_id, email, email_confirmed_at IS NOT NULL FROM users"
                " WHERE organization_id = ANY(:ids) ORDER BY created_at, email"
            ),
            {"ids": organization_ids},
        )
        found: dict[uuid.UUID, list[tuple[str, bool]]] = {}
        for organization_id, email, confirmed in rows.tuples():
            found.setdefault(organization_id, []).append((str(email), bool(confirmed)))
        return found

    async def pending_page(
        self, kind: OrganizationKind | None, offset: int, limit: int
    ) -> tuple[list[Organization], int]:
        """One page of the verification queue (oldest first) and its length."""
        condition = Organization.status == OrganizationStatus.PENDING
        if kind is not None:
            condition = and_(condition, Organization.kind == kind)
        total = await self.session.scalar(select(func.count()).select_from(Organization).where(condition))
        rows = await self.session.scalars(
            select(Organization)
            .where(condition)
            .order_by(Organization.created_at, Organization.id)
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)

    async def _ensure_unique_business_number(self, number: str, own_id: uuid.UUID | None) -> None:
        existing = await self.session.scalar(select(Organization.id).where(Organization.business_number == number))
        if existing is not None and existing != own_id:
            raise _duplicate_business_number()

    async def _flush_unique(self) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if "business_number" in str(exc.orig):
                raise _duplicate_business_number() from None
            raise


def _duplicate_business_number() -> Conflict:
    return Conflict(
        "An organization with this business number is already registered.",
        errors=[FieldError("business_number", "already registered")],
    )
