"""Organizations: the agencies (공공기관) and social-economy firms (사회적경제기업)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey


class OrganizationKind(enum.StrEnum):
    AGENCY = "agency"
    FIRM = "firm"


class OrganizationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class AgencyType(enum.StrEnum):
    SEOUL_CITY = "seoul_city"
    DISTRICT_OFFICE = "district_office"
    CITY_AFFILIATE = "city_affiliate"
    EDUCATION = "education"
    CENTRAL_GOVERNMENT = "central_government"
    PUBLIC_CORPORATION = "public_corporation"
    OTHER = "other"


class FirmType(enum.StrEnum):
    SOCIAL_ENTERPRISE = "social_enterprise"
    PRE_SOCIAL_ENTERPRISE = "pre_social_enterprise"
    COOPERATIVE = "cooperative"
    SOCIAL_COOPERATIVE = "social_cooperative"
    VILLAGE_ENTERPRISE = "village_enterprise"
    SELF_SUFFICIENCY = "self_sufficiency"
    SOCIAL_VENTURE = "social_venture"


def enum_values(enum_cls: type[enum.Enum]) -> list[str]:
    """What PostgreSQL's enum types store: each member's value (`social_enterprise`), not its name."""
    return [str(member.value) for member in enum_cls]


class Organization(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("kind = 'agency' OR business_number IS NOT NULL", name="firm_business_number"),
        CheckConstraint("kind = 'firm' OR agency_type IS NOT NULL", name="agency_type_required"),
        CheckConstraint(
            "vulnerable_employee_ratio IS NULL OR (vulnerable_employee_ratio >= 0 AND vulnerable_employee_ratio <= 1)",
            name="vulnerable_ratio_range",
        ),
        CheckConstraint("capacity_krw IS NULL OR capacity_krw >= 0", name="capacity_nonnegative"),
        CheckConstraint("annual_target_krw IS NULL OR annual_target_krw >= 0", name="target_nonnegative"),
        Index("uq_organizations_business_number", "business_number", unique=True),
        Index("ix_organizations_kind_status", "kind", "status"),
        # The directory's indexes (migrations 0003, 1001, 3001), declared here so that Alembic's
        # autogenerate sees them and never proposes dropping them.
        Index("ix_organizations_category_codes", "category_codes", postgresql_using="gin"),
        Index(
            "ix_organizations_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_where=text("kind = 'firm'"),
        ),
        Index(
            "ix_organizations_search_jamo_trgm",
            "search_jamo",
            postgresql_using="gin",
            postgresql_ops={"search_jamo": "gin_trgm_ops"},
            postgresql_where=text("kind = 'firm'"),
        ),
    )

    kind: Mapped[OrganizationKind] = mapped_column(
        Enum(OrganizationKind, name="organization_kind", values_callable=enum_values)
    )
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[OrganizationStatus] = mapped_column(
        Enum(OrganizationStatus, name="organization_status", values_callable=enum_values),
        default=OrganizationStatus.PENDING,
        server_default="pending",
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    district: Mapped[str] = mapped_column(String(40))
    region_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    # Agency fields
    agency_type: Mapped[AgencyType | None] = mapped_column(
        Enum(AgencyType, name="agency_type", values_callable=enum_values)
    )
    annual_target_krw: Mapped[int | None] = mapped_column(BigInteger)
    # Firm fields
    business_number: Mapped[str | None] = mapped_column(String(10))
    firm_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default=text("'{}'"))
    certification_number: Mapped[str | None] = mapped_column(String(60))
    certified_until: Mapped[date | None] = mapped_column(Date)
    category_codes: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list, server_default=text("'{}'"))
    capacity_krw: Mapped[int | None] = mapped_column(BigInteger)
    employees: Mapped[int | None] = mapped_column(Integer)
    vulnerable_employee_ratio: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, server_default=text("'{}'"))
    website: Mapped[str | None] = mapped_column(String(300))
    # Maintained by the contracts domain when contracts are confirmed (track record for matching).
    confirmed_contracts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    confirmed_sales_krw: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # lower(name description keywords), kept by PostgreSQL; trigram-indexed for the directory (migration 1001).
    search_text: Mapped[str | None] = mapped_column(
        Text, Computed("pm_search_text(name, description, keywords)", persisted=True), deferred=True
    )

    # Name and keywords spelled out in Hangul letters (hangul.to_jamo), trigram-indexed for typos (migration 3001).
    search_jamo: Mapped[str | None] = mapped_column(
        Text, Computed("pm_search_jamo(name, keywords)", persisted=True), deferred=True
    )

    @property
    def is_verified(self) -> bool:
        return self.status == OrganizationStatus.VERIFIED


class CategoryRow(Base):
    """The taxonomy as loaded by migration (source: service/registry/taxonomy.py)."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(String(20), ForeignKey("categories.code"), index=True)


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class OrganizationChange(UUIDPrimaryKey, Timestamps, Base):
    """A verified firm's own edit of fields that verification vouches for (name, business number,
    firm types, certification), held for staff review: until accepted, the organization row keeps
    the last verified values, which the directory, matching and exports read. At most one pending
    change per organization; a later edit is merged into it."""

    __tablename__ = "organization_changes"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="status_known"),
        Index(
            "uq_organization_changes_pending",
            "organization_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_organization_changes_status_created", "status", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    # {field: {"old": verified value, "new": requested value}}, JSON values (dates ISO, lists).
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    status: Mapped[str] = mapped_column(String(20), default=ChangeStatus.PENDING, server_default="pending")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
