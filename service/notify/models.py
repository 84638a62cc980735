"""The outbox: every mail the product owes, written in the transaction that caused it."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.registry.models import enum_values


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxMessage(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        CheckConstraint(
            "context IS NOT NULL OR (subject IS NOT NULL AND text IS NOT NULL AND html IS NOT NULL)",
            name="renderable",
        ),
        # The dispatcher's scan: due queued rows, and sending rows whose lease ran out.
        Index("ix_outbox_messages_due", "due_at", postgresql_where=sql_text("status = 'queued'")),
        Index("ix_outbox_messages_lease", "lease_until", postgresql_where=sql_text("status = 'sending'")),
        Index("ix_outbox_messages_status_created", "status", "created_at"),
    )

    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5))
    template: Mapped[str] = mapped_column(String(60))
    # Rendered by the dispatcher when it sends the mail (NULL until then), from `context`:
    # {"values": {...}, "tz": "Asia/Seoul"} as written by service.notify.service.enqueue_many.
    subject: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # [{"filename": "invite.ics", "content_type": "text/calendar; method=REQUEST", "invite": {<recipe>}}]: an
    # invite's recipe (rendered when sent), or "base64": "..." bytes; read both with notify.service.stored_attachment
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default=sql_text("'[]'"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, name="outbox_status", values_callable=enum_values),
        default=OutboxStatus.QUEUED,
        server_default="queued",
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def can_retry(self) -> bool:
        """Staff may queue it again: it failed or was cancelled."""
        return self.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED)

    @property
    def can_cancel(self) -> bool:
        """Staff may stop it: it has not gone out (queued, or failed and retryable later)."""
        return self.status in (OutboxStatus.QUEUED, OutboxStatus.FAILED)


class FirmDigest(UUIDPrimaryKey, Base):
    """One weekly digest mailed to one member of a firm: at most one per user and week (the unique
    key is what makes two instances running the job at once send it once), and `covered_until`
    is where the next digest of that user starts ("new since the last digest"). A member with nothing
    new gets a row with `need_count` 0 and no mail (a digest is never empty)."""

    __tablename__ = "firm_digests"
    __table_args__ = (
        UniqueConstraint("user_id", "week_start", name="uq_firm_digests_user_week"),
        CheckConstraint("need_count >= 0", name="need_count_nonnegative"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    week_start: Mapped[date] = mapped_column(Date)  # the Monday (in the service's time zone) of its week
    covered_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    need_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=sql_text("now()"))


class MailNotice(Base):
    """A meeting event whose mails the dispatcher still owes (service.notify.notices): the booking
    transaction writes this one row instead of building its mails; the dispatcher expands it into
    the mails from the meeting as it is then, and deletes it. `sequence` is the meeting's at the event."""

    __tablename__ = "mail_notices"

    meeting_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # "booked"
    sequence: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=sql_text("now()"))
