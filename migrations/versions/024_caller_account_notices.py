"""notify `auth_changed` also when what `GET /api/v1/me` shows of a user or organization changes

The cached caller (migration 022) now carries the caller's account as `GET /api/v1/me` shows it: the
user's mail preferences and the organization's profile. The update triggers watch those columns too,
so an edit of either ends every process's cached copy at once. Columns nobody caches (counters such as
`confirmed_sales_krw`, search text, `updated_at`, a session's `last_seen_at`) stay silent.

Revision ID: 2401
Revises: 2301
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2401"
down_revision: str | Sequence[str] | None = "2301"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = {
    "users": ("email", "name", "role", "organization_id", "locale", "is_active"),
    "organizations": ("kind", "status", "name"),
}
AFTER = {
    "users": (*BEFORE["users"], "mail_reminders", "mail_followups", "mail_digest"),
    "organizations": (
        *BEFORE["organizations"],
        "status_reason",
        "district",
        "region_name",
        "phone",
        "email",
        "agency_type",
        "annual_target_krw",
        "business_number",
        "firm_types",
        "certification_number",
        "certified_until",
        "category_codes",
        "capacity_krw",
        "employees",
        "vulnerable_employee_ratio",
        "description",
        "keywords",
        "website",
    ),
}


def watch(watched: dict[str, tuple[str, ...]]) -> None:
    for table, columns in watched.items():
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(f"DROP TRIGGER IF EXISTS {table}_auth_changed_update ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_auth_changed_update AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION notify_auth_changed()"
        )


def upgrade() -> None:
    watch(AFTER)


def downgrade() -> None:
    watch(BEFORE)
