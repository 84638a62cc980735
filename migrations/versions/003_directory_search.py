"""directory search: trigram index over a firm's name, description and keywords; GIN on categories

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # array_to_string is only STABLE; an index expression must be IMMUTABLE, and for text[] it is.
    op.execute(
        """
        CREATE FUNCTION pm_search_text(name text, description text, keywords varchar[])
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT lower(coalesce(name, '') || ' ' || coalesce(description, '') || ' '
                           || coalesce(array_to_string(keywords, ' '), '')) $$
        """
    )
    op.execute(
        "CREATE INDEX ix_organizations_search_trgm ON organizations "
        "USING gin (pm_search_text(name, description, keywords) gin_trgm_ops) WHERE kind = 'firm'"
    )
    op.execute("CREATE INDEX ix_organizations_category_codes ON organizations USING gin (category_codes)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_organizations_category_codes")
    op.execute("DROP INDEX IF EXISTS ix_organizations_search_trgm")
    op.execute("DROP FUNCTION IF EXISTS pm_search_text(text, text, varchar[])")
