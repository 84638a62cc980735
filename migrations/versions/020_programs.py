"""programs of the support center: briefing and training sessions, registrations, cooperation
activities and yearly program targets

Revision ID: 2001
Revises: 1901
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "2001"
down_revision: str | Sequence[str] | None = "1901"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUMS = ("session_kind", "session_audience", "session_status", "registration_status", "activity_kind", "program_code")


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def _id() -> sa.Column:
    return sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False)


def _by(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="SET NULL")


def _sessions() -> None:
    op.create_table(
        "program_sessions",
        _id(),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.Enum("briefing", "training", name="session_kind"), nullable=False),
        sa.Column("audience", sa.Enum("agencies", "firms", "both", name="session_audience"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("materials_url", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum("scheduled", "cancelled", name="session_status"),
            server_default="scheduled",
            nullable=False,
        ),
        sa.Column("created_by", sa.UUID(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_program_sessions_ends_after_start")),
        sa.CheckConstraint("capacity > 0 AND capacity <= 2000", name=op.f("ck_program_sessions_capacity_range")),
        sa.CheckConstraint("place IS NOT NULL OR online_url IS NOT NULL", name=op.f("ck_program_sessions_somewhere")),
        _by("created_by", "program_sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_sessions")),
    )
    op.create_index("ix_program_sessions_starts_at", "program_sessions", ["starts_at"])
    op.create_table(
        "session_registrations",
        _id(),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column(
            "status", sa.Enum("registered", "waitlisted", "cancelled", name="registration_status"), nullable=False
        ),
        sa.Column("registered_by", sa.UUID(), nullable=True),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "attended IS NULL OR status = 'registered'", name=op.f("ck_session_registrations_attended_if_registered")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["program_sessions.id"],
            name=op.f("fk_session_registrations_session_id_program_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_session_registrations_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_session_registrations_organization_id_organizations"),
        ),
        _by("registered_by", "session_registrations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_registrations")),
    )
    op.create_index(
        "uq_session_registrations_live",
        "session_registrations",
        ["session_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_index("ix_session_registrations_queue", "session_registrations", ["session_id", "status", "created_at"])
    op.create_index("ix_session_registrations_user", "session_registrations", ["user_id"])


def upgrade() -> None:
    _sessions()
    op.create_table(
        "cooperation_activities",
        _id(),
        sa.Column("partner", sa.String(length=200), nullable=False),
        sa.Column("activity_date", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("meeting", "joint_event", "training_support", "agreement", "other", name="activity_kind"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "links", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("created_by", sa.UUID(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("jsonb_array_length(links) <= 10", name=op.f("ck_cooperation_activities_links_bounded")),
        _by("created_by", "cooperation_activities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cooperation_activities")),
    )
    op.create_index("ix_cooperation_activities_date", "cooperation_activities", ["activity_date"])
    op.create_table(
        "program_targets",
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "code",
            sa.Enum(
                "daily_consultation",
                "briefing",
                "matching_contract",
                "proposal_contract",
                "fair",
                "cooperation",
                name="program_code",
            ),
            nullable=False,
        ),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("target >= 0 AND target <= 10000000000000", name=op.f("ck_program_targets_target_range")),
        _by("updated_by", "program_targets"),
        sa.PrimaryKeyConstraint("year", "code", name="pk_program_targets"),
    )


def downgrade() -> None:
    op.drop_table("program_targets")
    op.drop_table("cooperation_activities")
    op.drop_table("session_registrations")
    op.drop_table("program_sessions")
    for name in ENUMS:
        op.execute(f"DROP TYPE IF EXISTS {name}")
