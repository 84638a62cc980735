"""need replies live only in need_response_replies: drop the copy of the latest one on need_responses

`need_responses.reply`, `replied_at` and `replied_by` repeated the newest `need_response_replies` row (and
could disagree with it); the API's `reply` and `replied_at` are now read from that row.

Revision ID: 2301
Revises: 2101
Create Date: 2026-11-30 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2301"
down_revision: str | Sequence[str] | None = "2101"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("fk_need_responses_replied_by_users"), "need_responses", type_="foreignkey")
    op.drop_column("need_responses", "replied_by")
    op.drop_column("need_responses", "replied_at")
    op.drop_column("need_responses", "reply")


def downgrade() -> None:
    op.add_column("need_responses", sa.Column("reply", sa.Text(), nullable=True))
    op.add_column("need_responses", sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("need_responses", sa.Column("replied_by", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_need_responses_replied_by_users"),
        "need_responses",
        "users",
        ["replied_by"],
        ["id"],
        ondelete="SET NULL",
    )
    op.execute(
        "UPDATE need_responses r SET reply = l.message, replied_at = l.created_at, replied_by = l.created_by "
        "FROM (SELECT DISTINCT ON (response_id) response_id, message, created_at, created_by "
        "FROM need_response_replies ORDER BY response_id, created_at DESC, id DESC) l WHERE l.response_id = r.id"
    )
