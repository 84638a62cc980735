"""Contracts (계약), their correction history, purchase records and yearly targets.

Only confirmed contracts count in figures. A contract linked to a meeting is linked sales
(연계 매출); the database makes sure the meeting joins the same agency and firm (a composite
foreign key onto meetings(id, agency_id, firm_id)).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.registry.models import enum_values

MAX_AMOUNT_KRW = 10**13  # 10조원: beyond any single public contract, catches typos in 원/천원
AMOUNT_CHECK = f"amount_krw > 0 AND amount_krw <= {MAX_AMOUNT_KRW}"


class ContractChannel(enum.StrEnum):
    FAIR = "fair"
    DAILY_CONSULTATION = "daily_consultation"
    PROPOSAL = "proposal"
    MATCHING_CONTRACT = "matching_contract"
    OTHER = "other"


class ContractStatus(enum.StrEnum):
    REPORTED = "reported"
    CONFIRMED = "confirmed"


class ReporterSide(enum.StrEnum):
    AGENCY = "agency"
    FIRM = "firm"
    STAFF = "staff"


class Contract(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(AMOUNT_CHECK, name="amount_range"),
        CheckConstraint("agency_id <> firm_id", name="two_parties"),
        CheckConstraint("fair_id IS NULL OR meeting_id IS NOT NULL", name="fair_via_meeting"),
        CheckConstraint("(status = 'confirmed') = (confirmed_at IS NOT NULL)", name="confirmed_at_iff_confirmed"),
        ForeignKeyConstraint(
            ["meeting_id", "agency_id", "firm_id"],
            ["meetings.id", "meetings.agency_id", "meetings.firm_id"],
            name="fk_contracts_meeting_parties",
        ),
        # Reports read confirmed contracts of a year; the covering index allows index-only scans.
        Index(
            "ix_contracts_confirmed_date",
            "contract_date",
            postgresql_where="status = 'confirmed'",
            postgresql_include=["amount_krw", "agency_id", "firm_id", "fair_id", "meeting_id", "category_code"],
        ),
        Index("ix_contracts_agency_date", "agency_id", "contract_date"),
        Index("ix_contracts_firm_date", "firm_id", "contract_date"),
        Index("ix_contracts_fair", "fair_id", postgresql_where="fair_id IS NOT NULL"),
        Index("ix_contracts_meeting", "meeting_id", postgresql_where="meeting_id IS NOT NULL"),
    )

    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id"))
    firm_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id"))
    amount_krw: Mapped[int] = mapped_column(BigInteger)
    contract_date: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str | None] = mapped_column(String(20), ForeignKey("categories.code"))
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Copied from the meeting so that reports by fair need no join (the meeting never changes fair).
    fair_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("fairs.id"))
    need_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("needs.id", ondelete="SET NULL"))
    channel: Mapped[ContractChannel] = mapped_column(
        Enum(ContractChannel, name="contract_channel", values_callable=enum_values)
    )
    status: Mapped[ContractStatus] = mapped_column(
        Enum(ContractStatus, name="contract_status", values_callable=enum_values),
        default=ContractStatus.REPORTED,
        server_default="reported",
    )
    # Who reported (or last corrected) it: the other side or staff must confirm.
    reported_side: Mapped[ReporterSide] = mapped_column(
        Enum(ReporterSide, name="contract_reporter_side", values_callable=enum_values)
    )
    reported_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    confirmed_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_linked(self) -> bool:
        return self.meeting_id is not None


class ContractRevision(UUIDPrimaryKey, Base):
    """One change to a contract: created, corrected (old → new per field) or confirmed."""

    __tablename__ = "contract_revisions"

    contract_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))  # reported | corrected | confirmed
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    actor_side: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PurchaseRecord(UUIDPrimaryKey, Timestamps, Base):
    """An agency's purchase from social-economy firms that did not come through the product."""

    __tablename__ = "purchase_records"
    __table_args__ = (
        CheckConstraint(AMOUNT_CHECK, name="amount_range"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        Index("ix_purchase_records_year_agency", "year", "agency_id"),
    )

    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(SmallInteger)
    amount_krw: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str] = mapped_column(String(20), default="manual", server_default="manual")  # manual | import
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )


class PurchaseTarget(UUIDPrimaryKey, Timestamps, Base):
    """An agency's yearly purchase target (구매 목표)."""

    __tablename__ = "purchase_targets"
    __table_args__ = (
        UniqueConstraint("agency_id", "year", name="uq_purchase_targets_agency_year"),
        CheckConstraint(f"target_krw >= 0 AND target_krw <= {MAX_AMOUNT_KRW}", name="target_range"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        Index("ix_purchase_targets_year", "year"),
    )

    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(SmallInteger)
    target_krw: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
