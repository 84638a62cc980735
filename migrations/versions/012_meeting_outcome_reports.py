"""meetings: each side's outcome report kept apart (agency_outcome, firm_outcome, staff_outcome)

A firm reporting no_show and the agency then held used to flip `status` silently. Now each
report has its column; `status` follows the reports (staff's settles a disagreement), and a
disagreement shows as disputed. Existing reports are recovered from the meeting history
(held/no_show events, by the reporting user's organization, or staff).

Revision ID: 8003
Revises: 8002
Create Date: 2026-11-30 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "8003"
down_revision: str | Sequence[str] | None = "8002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOME = postgresql.ENUM("held", "no_show", name="meeting_outcome", create_type=False)


def _latest_report(side: str) -> str:
    """The last held/no_show history event of the meeting by `side` (agency, firm or staff)."""
    who = "e.by_staff" if side == "staff" else f"NOT e.by_staff AND u.organization_id = m.{side}_id"
    return f"""
        UPDATE meetings m SET {side}_outcome = (
            SELECT e.kind::meeting_outcome
              FROM meeting_events e LEFT JOIN users u ON u.id = e.actor_id
             WHERE e.meeting_id = m.id AND e.kind IN ('held', 'no_show') AND {who}
             ORDER BY e.at DESC LIMIT 1)
         WHERE m.status IN ('held', 'no_show')
    """


def upgrade() -> None:
    postgresql.ENUM("held", "no_show", name="meeting_outcome").create(op.get_bind(), checkfirst=True)
    for side in ("agency", "firm", "staff"):
        op.add_column("meetings", sa.Column(f"{side}_outcome", OUTCOME, nullable=True))
        op.execute(_latest_report(side))


def downgrade() -> None:
    for side in ("agency", "firm", "staff"):
        op.drop_column("meetings", f"{side}_outcome")
    op.execute("DROP TYPE IF EXISTS meeting_outcome")
