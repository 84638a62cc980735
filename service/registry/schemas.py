"""Request and response shapes of organizations (agency and firm profiles)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

import msgspec

from service.lib.bounds import BoundedList
from service.registry.business_number import display
from service.registry.models import Organization, OrganizationChange


class OrganizationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """Profile fields; which are required depends on the kind (agency or firm)."""

    name: str | None = None
    district: str | None = None
    region_name: str | None = None
    phone: str | None = None
    email: str | None = None
    # agency
    agency_type: str | None = None
    annual_target_krw: int | None = None
    # firm
    business_number: str | None = None
    firm_types: BoundedList[str] | None = None
    certification_number: str | None = None
    certified_until: date | None = None
    category_codes: BoundedList[str] | None = None
    capacity_krw: int | None = None
    employees: int | None = None
    vulnerable_employee_ratio: float | None = None
    description: str | None = None
    keywords: BoundedList[str] | None = None
    website: str | None = None


class FieldChangeOut(msgspec.Struct, kw_only=True):
    field: str
    old: Any
    new: Any


class PendingChangeOut(msgspec.Struct, kw_only=True):
    """A firm's own edit of verification-relevant fields, awaiting staff review (old → new)."""

    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    requested_at: datetime
    changes: list[FieldChangeOut]


class RejectIn(msgspec.Struct, kw_only=True):
    """Staff's rejection of an organization, with the reason its users will see."""

    reason: str


class ChangeRejectIn(msgspec.Struct, kw_only=True):
    reason: str | None = None


class OrganizationOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: uuid.UUID
    kind: Literal["agency", "firm"]
    name: str
    status: str
    status_reason: str | None
    district: str
    region_name: str | None
    created_at: datetime
    phone: str | None = None
    email: str | None = None
    agency_type: str | None = None
    annual_target_krw: int | None = None
    business_number: str | None = None
    firm_types: list[str] | None = None
    certification_number: str | None = None
    certified_until: date | None = None
    certification_valid: bool | None = None
    category_codes: list[str] | None = None
    capacity_krw: int | None = None
    employees: int | None = None
    vulnerable_employee_ratio: float | None = None
    description: str | None = None
    keywords: list[str] | None = None
    website: str | None = None
    # Shown to the firm and staff: edits awaiting review (the fields above are the verified values).
    pending_changes: PendingChangeOut | None = None


def pending_change_out(change: OrganizationChange, org: Organization) -> PendingChangeOut:
    return PendingChangeOut(
        id=change.id,
        organization_id=org.id,
        organization_name=org.name,
        requested_at=change.updated_at or change.created_at,
        changes=[FieldChangeOut(field=f, old=c.get("old"), new=c.get("new")) for f, c in change.changes.items()],
    )


def organization_out(
    org: Organization, *, today: date, show_contact: bool = True, pending: OrganizationChange | None = None
) -> OrganizationOut:
    common: dict[str, Any] = {
        "id": org.id,
        "kind": str(org.kind),
        "name": org.name,
        "status": str(org.status),
        "status_reason": org.status_reason,
        "district": org.district,
        "region_name": org.region_name,
        "phone": org.phone if show_contact else None,
        "email": org.email if show_contact else None,
        "created_at": org.created_at,
    }
    if org.kind == "agency":
        return OrganizationOut(
            **common,
            agency_type=str(org.agency_type),
            annual_target_krw=org.annual_target_krw,
            business_number=display(org.business_number) if org.business_number else None,
        )
    return OrganizationOut(
        **common,
        business_number=display(org.business_number) if org.business_number else None,
        firm_types=list(org.firm_types),
        certification_number=org.certification_number,
        certified_until=org.certified_until,
        certification_valid=certification_valid(org, today),
        category_codes=list(org.category_codes),
        capacity_krw=org.capacity_krw,
        employees=org.employees,
        vulnerable_employee_ratio=(
            float(org.vulnerable_employee_ratio) if org.vulnerable_employee_ratio is not None else None
        ),
        description=org.description,
        keywords=list(org.keywords),
        website=org.website if show_contact else None,
        pending_changes=pending_change_out(pending, org) if pending is not None else None,
    )


def certification_valid(org: Organization, today: date) -> bool | None:
    """None when the firm claims no certification; else whether it is still in force."""
    if "social_enterprise" not in (org.firm_types or []):
        return None
    return org.certified_until is not None and org.certified_until >= today
