"""accounts that look after themselves: one-time links (password reset, email change and
confirmation), password reset attempts, confirmed emails, sessions' last request

Revision ID: 1701
Revises: 2001
Create Date: 2026-11-30 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "1701"
down_revision: str | Sequence[str] | None = "2001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("auth_tokens", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "account_links",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("email", postgresql.CITEXT(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('password_reset', 'email_change', 'email_confirm')",
            name=op.f("ck_account_links_purpose_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
    )
    op.create_index("ix_account_links_user_purpose", "account_links", ["user_id", "purpose"], unique=False)
    op.create_table(
        "password_reset_attempts",
        sa.Column("email", postgresql.CITEXT(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_attempts")),
    )
    op.create_index(
        "ix_password_reset_attempts_email_at", "password_reset_attempts", ["email", "attempted_at"], unique=False
    )
    op.create_index("ix_password_reset_attempts_ip_at", "password_reset_attempts", ["ip", "attempted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_password_reset_attempts_ip_at", table_name="password_reset_attempts")
    op.drop_index("ix_password_reset_attempts_email_at", table_name="password_reset_attempts")
    op.drop_table("password_reset_attempts")
    op.drop_index("ix_account_links_user_purpose", table_name="account_links")
    op.drop_table("account_links")
    op.drop_column("auth_tokens", "last_seen_at")
    op.drop_column("users", "email_confirmed_at")
