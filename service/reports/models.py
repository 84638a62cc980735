"""Background export jobs: a large export is written by the scheduler while the page polls its progress."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, Timestamps, UUIDPrimaryKey
from service.registry.models import enum_values


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(UUIDPrimaryKey, Timestamps, Base):
    """A large export written in the background; the page polls its progress."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_status", "status", "created_at"),)

    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # contracts_csv | contracts_xlsx | ocds
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    status: Mapped[ExportStatus] = mapped_column(
        Enum(ExportStatus, name="export_status", values_callable=enum_values),
        default=ExportStatus.QUEUED,
        server_default="queued",
    )
    total_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    done_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    file_name: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
