"""idempotency keys: one answer per submission (API `Idempotency-Key`, HTML form tokens)

A key's row is written in the transaction of the request that uses it, with that request's
response, so it exists only if the creation committed (service/lib/idempotency.py). The primary
key (caller, key) is what makes a second request with the same key unable to create again.

Revision ID: 8001
Revises: 3001
Create Date: 2026-11-30 08:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8001"
down_revision: str | Sequence[str] | None = "3001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            caller varchar(100) NOT NULL,
            key varchar(210) NOT NULL,
            claim uuid NOT NULL,
            method varchar(10) NOT NULL,
            path text NOT NULL,
            body_sha256 varchar(64) NOT NULL,
            status integer,
            headers jsonb,
            body bytea,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_idempotency_keys PRIMARY KEY (caller, key)
        )
        """
    )
    op.execute("CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
