"""mail preferences: which optional mails each user gets, and the firms' weekly digests sent

Revision ID: 1801
Revises: 2201
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1801"
down_revision: str | Sequence[str] | None = "2201"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFERENCES = ("mail_reminders", "mail_followups", "mail_digest")


def upgrade() -> None:
    for column in PREFERENCES:
        op.add_column("users", sa.Column(column, sa.Boolean(), server_default=sa.text("true"), nullable=False))
    op.create_table(
        "firm_digests",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("covered_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("need_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("need_count >= 0", name=op.f("ck_firm_digests_need_count_nonnegative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_firm_digests_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_firm_digests_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firm_digests")),
        sa.UniqueConstraint("user_id", "week_start", name="uq_firm_digests_user_week"),
    )
    op.create_index(op.f("ix_firm_digests_organization_id"), "firm_digests", ["organization_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_firm_digests_organization_id"), table_name="firm_digests")
    op.drop_table("firm_digests")
    for column in reversed(PREFERENCES):
        op.drop_column("users", column)
