"""registration attempts: registrations per client address, for the hourly registration limit

Revision ID: 8002
Revises: 8001
Create Date: 2026-11-30 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8002"
down_revision: str | Sequence[str] | None = "8001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration_attempts",
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_attempts")),
    )
    op.create_index("ix_registration_attempts_ip_at", "registration_attempts", ["ip", "attempted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_registration_attempts_ip_at", table_name="registration_attempts")
    op.drop_table("registration_attempts")
