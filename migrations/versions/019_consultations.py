"""everyday consultations (일상상담): staff hours, exceptions and consultations

Revision ID: 1901
Revises: 1601
Create Date: 2026-11-30 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "1901"
down_revision: str | Sequence[str] | None = "1601"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODE = postgresql.ENUM("online", "in_person", name="consultation_mode", create_type=False)
TOPIC = postgresql.ENUM(
    "procedure", "certification", "bidding", "product_price", "other", name="consultation_topic", create_type=False
)
STATUS = postgresql.ENUM(
    "requested", "proposed", "confirmed", "held", "no_show", "cancelled", name="consultation_status", create_type=False
)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def _staff_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["staff_id"], ["users.id"], name=op.f(f"fk_{table}_staff_id_users"), ondelete="CASCADE")


def upgrade() -> None:
    bind = op.get_bind()
    for enum in (MODE, TOPIC, STATUS):
        enum.create(bind, checkfirst=False)
    op.create_table(
        "consultation_hours",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("staff_id", sa.UUID(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("mode", MODE, nullable=False),
        sa.Column("place", sa.String(length=300), server_default="", nullable=False),
        *_timestamps(),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_consultation_hours_weekday_range")),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_consultation_hours_time_order")),
        _staff_fk("consultation_hours"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_hours")),
    )
    op.create_index("ix_consultation_hours_staff", "consultation_hours", ["staff_id", "weekday"])
    op.create_table(
        "consultation_exceptions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("staff_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.Column("mode", MODE, nullable=True),
        sa.Column("place", sa.String(length=300), server_default="", nullable=False),
        sa.Column("note", sa.String(length=200), server_default="", nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR (start_time < end_time)",
            name=op.f("ck_consultation_exceptions_time_order"),
        ),
        _staff_fk("consultation_exceptions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_exceptions")),
    )
    op.create_index("ix_consultation_exceptions_staff_day", "consultation_exceptions", ["staff_id", "day"])
    op.create_table(
        "consultations",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("requested_by", sa.UUID(), nullable=True),
        sa.Column("topic", TOPIC, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("preferred", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("proposed", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("status", STATUS, server_default="requested", nullable=False),
        sa.Column("staff_id", sa.UUID(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "during",
            postgresql.TSTZRANGE(),
            sa.Computed("tstzrange(starts_at, ends_at, '[)')", persisted=True),
            nullable=True,
        ),
        sa.Column("mode", MODE, nullable=True),
        sa.Column("place", sa.String(length=300), server_default="", nullable=False),
        sa.Column("sequence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("outcome", sa.Text(), server_default="", nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_comment", sa.String(length=500), server_default="", nullable=False),
        *_timestamps(),
        sa.CheckConstraint("starts_at IS NULL OR starts_at < ends_at", name=op.f("ck_consultations_time_order")),
        sa.CheckConstraint("char_length(message) <= 2000", name=op.f("ck_consultations_message_length")),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name=op.f("ck_consultations_rating_range")),
        sa.CheckConstraint(
            "status NOT IN ('confirmed', 'held', 'no_show') OR (staff_id IS NOT NULL AND starts_at IS NOT NULL)",
            name=op.f("ck_consultations_confirmed_has_time"),
        ),
        postgresql.ExcludeConstraint(
            (sa.column("staff_id"), "="),
            (sa.column("during"), "&&"),
            where=sa.text("status IN ('confirmed', 'held')"),
            using="gist",
            name="ex_consultations_staff_overlap",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_consultations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_consultations_requested_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["users.id"], name=op.f("fk_consultations_staff_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    op.create_index("ix_consultations_status_created", "consultations", ["status", "created_at"])
    op.create_index("ix_consultations_organization", "consultations", ["organization_id", "created_at"])
    op.create_index("ix_consultations_starts_at", "consultations", ["starts_at"])


def downgrade() -> None:
    op.drop_table("consultations")
    op.drop_table("consultation_exceptions")
    op.drop_table("consultation_hours")
    bind = op.get_bind()
    for enum in (STATUS, TOPIC, MODE):
        enum.drop(bind, checkfirst=False)
