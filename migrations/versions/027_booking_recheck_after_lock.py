"""book_meeting(): the slot read again once its lock is held; a caller whose organization is no
longer verified told so

Attempts that race for one free slot all pass the first read (nothing booked yet) and queue on the
slot's advisory lock. Each used to go on, once it held the lock, to lock the firm's row and try the
INSERT: both give the transaction an id, so each loser's end waited for a WAL flush while it still
held the slot's lock, and the losers of one slot took turns at flushing. Read again after the lock
(a new statement sees what the holder before committed), a loser answers `taken` having written
nothing: it ends without a flush, and the next in line gets the lock at once.

A caller the request took from its cache, whose organization was suspended (or otherwise left
`verified`) a moment ago on another instance, got `caller_changed` ("sign in again", 401), where a
request that began after the change is refused as unverified (403). The function now tells the
two apart: `caller_unverified` when the token is live and the user active but the organization
is not verified.

The function is 2601's with that one read added after `pg_advisory_xact_lock` and the caller's
refusal split in two.

Revision ID: 2701
Revises: 2601
Create Date: 2026-11-30 23:45:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "2701"
down_revision: str | Sequence[str] | None = "2601"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK = "    PERFORM pg_advisory_xact_lock(meeting_slot_key(p_agency, p_start));\n"
RECHECK = """    SELECT 'ex_meetings_agency_overlap' INTO detail
      FROM meetings m
     WHERE m.agency_id = p_agency AND m.during && tstzrange(p_start, p_end, '[)') AND m.status <> 'cancelled'
     LIMIT 1;
    IF FOUND THEN
        outcome := 'taken';
        RETURN;
    END IF;
"""

CHANGED = "        outcome := 'caller_changed';\n"
CHANGED_OR_UNVERIFIED = """        outcome := CASE WHEN EXISTS (
            SELECT 1
              FROM auth_tokens t
              JOIN users u ON u.id = t.user_id
              JOIN organizations o ON o.id = u.organization_id
             WHERE t.id = p_token AND t.user_id = p_user AND t.revoked_at IS NULL AND t.expires_at > now()
               AND u.is_active AND CAST(o.status AS text) <> 'verified'
        ) THEN 'caller_unverified' ELSE 'caller_changed' END;
"""


def _book_meeting_2601() -> str:
    """2601's definition, read from its migration (one text for both directions)."""
    path = Path(__file__).with_name("026_book_meeting_function.py")
    spec = importlib.util.spec_from_file_location("migration_2601", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.BOOK_MEETING
    assert text.count(LOCK) == 1, "2601's book_meeting takes the slot's lock once"
    assert text.count(CHANGED) == 1, "2601's book_meeting refuses a changed caller once"
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def book_meeting_2701() -> str:
    return _book_meeting_2601().replace(LOCK, LOCK + RECHECK).replace(CHANGED, CHANGED_OR_UNVERIFIED)


def upgrade() -> None:
    op.execute(book_meeting_2701())


def downgrade() -> None:
    op.execute(_book_meeting_2601())
