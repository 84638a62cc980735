"""Mail notices: the mails of a meeting event owed as one row (`mail_notices`), expanded later.

A first-come booking records one notice in its transaction (one INSERT, nothing loaded) instead of
loading both parties and queueing every mail; the dispatcher takes pending notices a batch at a time
(`take_notices`: one transaction, `FOR UPDATE SKIP LOCKED` on the notice and `FOR SHARE` on its
meeting, so several dispatchers never expand one notice twice, and a cancel or move that holds the
meeting's lock is waited for on the next pass instead of raced), builds the mails from the meeting
as it is then, and deletes the notices it expanded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

BOOKED = "booked"

_RECORD = sql_text(
    "INSERT INTO mail_notices (meeting_id, kind, sequence, actor_id) VALUES (:meeting, :kind, :sequence, :actor)"
    " ON CONFLICT DO NOTHING"
)

# The notice row is locked for update (one dispatcher expands it), its meeting for share (a cancel
# or move of the meeting waits until the expansion commits, and one in progress makes us skip the
# notice this pass): nothing here ever waits, so it cannot deadlock with them.
_TAKE = sql_text(
    """
    SELECT n.meeting_id
      FROM mail_notices n JOIN meetings m ON m.id = n.meeting_id
     WHERE n.kind = :kind
     ORDER BY n.created_at, n.meeting_id
     LIMIT :limit
       FOR UPDATE OF n SKIP LOCKED
       FOR SHARE OF m SKIP LOCKED
    """
)

_DELETE = sql_text("DELETE FROM mail_notices WHERE kind = :kind AND meeting_id = ANY(:meetings)").bindparams(
    bindparam("meetings", type_=ARRAY(UUID(as_uuid=True)))
)

_DROP = sql_text("DELETE FROM mail_notices WHERE kind = :kind AND meeting_id = :meeting RETURNING meeting_id")


async def record_notice(
    session: AsyncSession, meeting_id: uuid.UUID, kind: str, sequence: int, actor_id: uuid.UUID | None
) -> None:
    """Owe the mails of `kind` for the meeting, in the caller's transaction (once: a repeated event
    while the notice is pending adds nothing)."""
    await session.execute(_RECORD, {"meeting": meeting_id, "kind": kind, "sequence": sequence, "actor": actor_id})


async def take_notices(session: AsyncSession, kind: str, limit: int) -> list[uuid.UUID]:
    """Lock up to `limit` pending notices of `kind` (oldest first) for this transaction; their meetings' ids."""
    rows = await session.execute(_TAKE, {"kind": kind, "limit": limit})
    return [row.meeting_id for row in rows]


async def delete_notices(session: AsyncSession, kind: str, meeting_ids: Sequence[uuid.UUID]) -> None:
    if meeting_ids:
        await session.execute(_DELETE, {"kind": kind, "meetings": list(meeting_ids)})


async def drop_notice(session: AsyncSession, meeting_id: uuid.UUID, kind: str) -> bool:
    """Delete the meeting's pending notice of `kind`; whether there was one (nobody was mailed yet)."""
    return (await session.execute(_DROP, {"kind": kind, "meeting": meeting_id})).first() is not None
