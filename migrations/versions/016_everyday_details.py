"""everyday details: home marks that survive a refresh, a budget range on needs, every agency reply kept

- `users.home_new_since`: the moment a home visit marks needs against (the visit before the current one);
  `last_home_visit_at` alone moved on every refresh and cleared the marks.
- `needs.budget_min_krw`: an optional lower bound; `budget_krw` stays the upper bound (API unchanged).
- `need_response_replies`: each agency reply to a response (each one is mailed); the latest stays on
  `need_responses.reply` for the API. Existing replies are copied in.

Revision ID: 2201
Revises: 9001
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2201"
down_revision: str | Sequence[str] | None = "9001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("home_new_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("needs", sa.Column("budget_min_krw", sa.BigInteger(), nullable=True))
    op.create_check_constraint(
        op.f("ck_needs_budget_min_range"),
        "needs",
        "budget_min_krw IS NULL OR (budget_min_krw >= 0 AND budget_min_krw <= budget_krw)",
    )
    op.create_table(
        "need_response_replies",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("response_id", sa.UUID(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("char_length(message) <= 1000", name=op.f("ck_need_response_replies_message_length")),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["need_responses.id"],
            name=op.f("fk_need_response_replies_response_id_need_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_need_response_replies_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_response_replies")),
    )
    op.create_index(
        "ix_need_response_replies_response_created", "need_response_replies", ["response_id", "created_at"]
    )
    op.execute(
        "INSERT INTO need_response_replies (response_id, message, created_by, created_at) "
        "SELECT id, reply, replied_by, replied_at FROM need_responses WHERE reply IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("need_response_replies")
    op.drop_constraint(op.f("ck_needs_budget_min_range"), "needs", type_="check")
    op.drop_column("needs", "budget_min_krw")
    op.drop_column("users", "home_new_since")
