"""mail_notices: a booking's mails are owed as one row, expanded by the dispatcher

The booking transaction writes one notice (meeting, kind, sequence, actor, when) instead of loading
both parties and queueing every mail; the dispatcher expands pending notices (FOR UPDATE SKIP LOCKED)
into the mails and deletes them.

Revision ID: 2501
Revises: 2401
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2501"
down_revision: str | Sequence[str] | None = "2401"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_notices",
        sa.Column("meeting_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_mail_notices_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("meeting_id", "kind", name=op.f("pk_mail_notices")),
    )


def downgrade() -> None:
    op.drop_table("mail_notices")
