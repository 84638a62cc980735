"""notify `auth_changed` when a token, user or organization changes what a caller is

Every application process caches callers (token hash → user, role, organization status) for a
few seconds and drops its cache on a notification on the channel `auth_changed`. These triggers
send it from the database itself, so every path that revokes a token, deactivates or removes a
user, changes a role or an organization's status (including plain SQL and code written later)
ends the cached caller at once. pg_notify folds identical notifications of one transaction into one.

Revision ID: 2101
Revises: 1701
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2101"
down_revision: str | Sequence[str] | None = "1701"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the columns a cached caller carries (an UPDATE changing none of them stays silent)
WATCHED = {
    "auth_tokens": ("revoked_at", "expires_at", "user_id", "token_hash"),
    "users": ("email", "name", "role", "organization_id", "locale", "is_active"),
    "organizations": ("kind", "status", "name"),
}


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION notify_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('auth_changed', '');
            RETURN NULL;
        END $$
        """
    )
    for table, columns in WATCHED.items():
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {table}_auth_changed_update AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION notify_auth_changed()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_auth_changed_delete AFTER DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed()"
        )


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_auth_changed_update ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_auth_changed_delete ON {table}")
    op.execute("DROP FUNCTION IF EXISTS notify_auth_changed()")
