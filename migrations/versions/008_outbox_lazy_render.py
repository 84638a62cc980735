"""outbox: mails are rendered when they are sent, from a stored context

Rendering the 7 mails of a booking (confirmation, two reminders, four follow-ups, each in
three parts) inside the booking's transaction cost two thirds of the request. The row now
keeps the template's context as JSON; the dispatcher renders it when it claims the row and
stores the result with the outcome. subject/text/html are NULL until then.

Revision ID: 7002
Revises: 1001
Create Date: 2026-11-29 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7002"
down_revision: str | Sequence[str] | None = "1001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE outbox_messages ADD COLUMN context jsonb")
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN subject DROP NOT NULL")
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN text DROP NOT NULL")
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN html DROP NOT NULL")
    op.execute(
        "ALTER TABLE outbox_messages ADD CONSTRAINT ck_outbox_messages_renderable "
        "CHECK (context IS NOT NULL OR (subject IS NOT NULL AND text IS NOT NULL AND html IS NOT NULL))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE outbox_messages DROP CONSTRAINT ck_outbox_messages_renderable")
    # Rows never rendered cannot satisfy NOT NULL: give them their template name as a subject.
    op.execute(
        "UPDATE outbox_messages SET subject = coalesce(subject, template), text = coalesce(text, ''), "
        "html = coalesce(html, '') WHERE subject IS NULL OR text IS NULL OR html IS NULL"
    )
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN html SET NOT NULL")
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN text SET NOT NULL")
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN subject SET NOT NULL")
    op.execute("ALTER TABLE outbox_messages DROP COLUMN context")
