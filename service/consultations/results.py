"""What the programs report reads of consultations: how many were held, month by month.

`held_per_month(session, year)` counts consultations whose status is `held`, by the month of their
start in Asia/Seoul (the center's calendar), months 1..12 always present.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# A range on starts_at (index ix_consultations_starts_at), then the Seoul month of each start.
HELD_PER_MONTH = text(
    "SELECT extract(month FROM starts_at AT TIME ZONE 'Asia/Seoul')::int AS month, count(*) AS n "
    "FROM consultations WHERE status = 'held' "
    "AND starts_at >= make_timestamptz(:year, 1, 1, 0, 0, 0, 'Asia/Seoul') "
    "AND starts_at < make_timestamptz(:year + 1, 1, 1, 0, 0, 0, 'Asia/Seoul') "
    "GROUP BY 1"
)


async def held_per_month(session: AsyncSession, year: int) -> dict[int, int]:
    """Consultations held in `year`, by month 1..12 (months without any are 0)."""
    counts = dict.fromkeys(range(1, 13), 0)
    for month, n in (await session.execute(HELD_PER_MONTH, {"year": year})).all():
        counts[int(month)] = int(n)
    return counts
