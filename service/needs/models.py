"""Purchase needs (구매 수요) posted by agencies."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.registry.models import enum_values


class NeedStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    AWARDED = "awarded"


class Need(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint("budget_krw >= 0 AND budget_krw <= 10000000000000", name="budget_range"),
        CheckConstraint(
            "budget_min_krw IS NULL OR (budget_min_krw >= 0 AND budget_min_krw <= budget_krw)", name="budget_min_range"
        ),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        Index("ix_needs_agency_status", "agency_id", "status"),
        Index("ix_needs_category_codes", "category_codes", postgresql_using="gin"),
    )

    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    category_codes: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list, server_default=text("'{}'"))
    # The budget's upper bound; `budget_min_krw`, when given, its lower bound (a range 1,000만–2,000만원).
    budget_krw: Mapped[int] = mapped_column(BigInteger)
    budget_min_krw: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[int | None] = mapped_column(Integer)
    needed_by: Mapped[date] = mapped_column(Date)
    delivery_district: Mapped[str | None] = mapped_column(String(40))
    preferred_firm_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default=text("'{}'")
    )
    status: Mapped[NeedStatus] = mapped_column(
        Enum(NeedStatus, name="need_status", values_callable=enum_values),
        default=NeedStatus.OPEN,
        server_default="open",
    )
    awarded_firm_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="SET NULL")
    )


MAX_RESPONSE_MESSAGE = 1000
MAX_REPLY_MESSAGE = 1000


class NeedResponse(UUIDPrimaryKey, Timestamps, Base):
    """A firm's interest in a need (관심 표명): a short message, optionally a file link and a proposed meeting
    time; at most one live (not withdrawn) response per need and firm. The agency's replies are
    `NeedResponseReply` rows (the API's `reply` is the latest of them)."""

    __tablename__ = "need_responses"
    __table_args__ = (
        CheckConstraint(f"char_length(message) <= {MAX_RESPONSE_MESSAGE}", name="message_length"),
        CheckConstraint("file_url IS NULL OR file_url LIKE 'https://%'", name="file_url_https"),
        Index(
            "uq_need_responses_live",
            "need_id",
            "firm_id",
            unique=True,
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
        Index("ix_need_responses_need_created", "need_id", "created_at"),
        Index("ix_need_responses_firm_id", "firm_id"),
    )

    need_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("needs.id", ondelete="CASCADE"))
    firm_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    message: Mapped[str] = mapped_column(Text)
    file_url: Mapped[str | None] = mapped_column(String(500))
    proposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NeedResponseReply(UUIDPrimaryKey, Base):
    """One reply of the need's agency (or staff) to a response; each is mailed to the firm."""

    __tablename__ = "need_response_replies"
    __table_args__ = (
        CheckConstraint(f"char_length(message) <= {MAX_REPLY_MESSAGE}", name="message_length"),
        Index("ix_need_response_replies_response_created", "response_id", "created_at"),
    )

    response_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("need_responses.id", ondelete="CASCADE")
    )
    message: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
