"""home visits: when each user last opened their home, so it can mark what is new since

Revision ID: 9002
Revises: 8004
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9002"
down_revision: str | Sequence[str] | None = "8004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("last_home_visit_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "last_home_visit_at")
