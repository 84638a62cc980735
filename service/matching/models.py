"""Matching state: the tunable weights, who was recommended when (fair exposure), shortlists."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey

DIRECT_CONTRACT_LIMIT_KRW = 50_000_000


class MatchingSettings(Base):
    """One row (id = 1): factor weights and the direct-contract (수의계약) limit, edited by staff."""

    __tablename__ = "matching_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    weights: Mapped[dict[str, Any]] = mapped_column(JSONB)
    direct_contract_limit_krw: Mapped[int] = mapped_column(BigInteger, default=DIRECT_CONTRACT_LIMIT_KRW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )


class MatchExposure(UUIDPrimaryKey, Base):
    """A firm was shown to an agency in a ranked match list."""

    __tablename__ = "match_exposures"
    __table_args__ = (Index("ix_match_exposures_firm_at", "firm_id", "shown_at"),)

    firm_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    need_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("needs.id", ondelete="CASCADE"))
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Shortlist(UUIDPrimaryKey, Timestamps, Base):
    """A firm shortlisted for a need, and whether the agency invited it (to a fair or to get in touch)."""

    __tablename__ = "shortlists"
    __table_args__ = (UniqueConstraint("need_id", "firm_id", name="uq_shortlists_need_firm"),)

    need_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("needs.id", ondelete="CASCADE"))
    firm_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    invite: Mapped[str | None] = mapped_column(String(10))  # None (kept only), "contact", "fair"
    fair_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("fairs.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )


class StaffTask(UUIDPrimaryKey, Timestamps, Base):
    """Work asked of the support center, e.g. reach a firm that has no user account yet (kind "reach_firm")
    because an agency wants to get in touch about a need. Open until `done_at` is set."""

    __tablename__ = "staff_tasks"
    __table_args__ = (
        Index("ix_staff_tasks_open", "created_at", postgresql_where=text("done_at IS NULL")),
        Index(
            "uq_staff_tasks_open_reach",
            "kind",
            "organization_id",
            "need_id",
            unique=True,
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE")
    )
    need_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("needs.id", ondelete="CASCADE"))
    requested_by_org: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="SET NULL")
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
