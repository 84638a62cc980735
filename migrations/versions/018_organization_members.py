"""organization members: a role (admin / member) per user, and invitations mailed as one-time links

Existing users of an organization become its admins (each registered their organization).

Revision ID: 1601
Revises: 1801
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "1601"
down_revision: str | Sequence[str] | None = "1801"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("member_role", sa.String(length=10), nullable=True))
    op.add_column("users", sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET member_role = 'admin', joined_at = created_at WHERE organization_id IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_users_member_role_known"), "users", "member_role IS NULL OR member_role IN ('admin', 'member')"
    )
    op.create_check_constraint(
        op.f("ck_users_member_role_with_organization"), "users", "(organization_id IS NULL) = (member_role IS NULL)"
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("email", postgresql.CITEXT(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("invited_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sends", sa.Integer(), server_default="1", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.UUID(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'member')", name=op.f("ck_invitations_role_known")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_invitations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_invitations_invited_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by"], ["users.id"], name=op.f("fk_invitations_accepted_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index("ix_invitations_organization_id", "invitations", ["organization_id"])
    op.create_index(
        "uq_invitations_open",
        "invitations",
        ["organization_id", "email"],
        unique=True,
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("invitations")
    op.drop_constraint(op.f("ck_users_member_role_with_organization"), "users", type_="check")
    op.drop_constraint(op.f("ck_users_member_role_known"), "users", type_="check")
    op.drop_column("users", "joined_at")
    op.drop_column("users", "member_role")
