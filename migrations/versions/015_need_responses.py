"""need responses (관심 표명) of firms to needs, and staff tasks (reach a firm without an account)

Revision ID: 9001
Revises: 9002
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9001"
down_revision: str | Sequence[str] | None = "9002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "need_responses",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("need_id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("file_url", sa.String(length=500), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_by", sa.UUID(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("char_length(message) <= 1000", name=op.f("ck_need_responses_message_length")),
        sa.CheckConstraint("file_url IS NULL OR file_url LIKE 'https://%'", name=op.f("ck_need_responses_file_url_https")),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_need_responses_need_id_needs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["organizations.id"], name=op.f("fk_need_responses_firm_id_organizations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_need_responses_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["replied_by"], ["users.id"], name=op.f("fk_need_responses_replied_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_responses")),
    )
    op.create_index(
        "uq_need_responses_live",
        "need_responses",
        ["need_id", "firm_id"],
        unique=True,
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    op.create_index("ix_need_responses_need_created", "need_responses", ["need_id", "created_at"])
    op.create_index("ix_need_responses_firm_id", "need_responses", ["firm_id"])
    op.create_table(
        "staff_tasks",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("need_id", sa.UUID(), nullable=True),
        sa.Column("requested_by_org", sa.UUID(), nullable=True),
        sa.Column("requested_by", sa.UUID(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_staff_tasks_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["need_id"], ["needs.id"], name=op.f("fk_staff_tasks_need_id_needs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["requested_by_org"],
            ["organizations.id"],
            name=op.f("fk_staff_tasks_requested_by_org_organizations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_staff_tasks_requested_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tasks")),
    )
    op.create_index("ix_staff_tasks_open", "staff_tasks", ["created_at"], postgresql_where=sa.text("done_at IS NULL"))
    op.create_index(
        "uq_staff_tasks_open_reach",
        "staff_tasks",
        ["kind", "organization_id", "need_id"],
        unique=True,
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("staff_tasks")
    op.drop_table("need_responses")
