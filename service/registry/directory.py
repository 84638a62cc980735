"""The firm directory: Korean free text over name, description and keywords (pg_trgm), and filters.

A query word matches a firm when it is a substring of the firm's text or, for typos,
when its trigram word-similarity reaches WORD_SIMILARITY. Every word must match. The text
is the stored, trigram-indexed column `search_text`. Relevance sums, per word, 1 for a
verbatim match else the word similarity; results are ordered by relevance, then name and
id, so pages are stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.lib.errors import ValidationFailed
from service.registry import taxonomy
from service.registry.districts import BY_CODE
from service.registry.models import FirmType, Organization, OrganizationKind, OrganizationStatus

WORD_SIMILARITY = 0.3
MAX_QUERY_WORDS = 8


@dataclass(frozen=True)
class DirectoryQuery:
    q: str | None = None
    category: str | None = None
    district: str | None = None
    firm_type: str | None = None


def search_text() -> Any:
    return Organization.search_text


def category_filter_codes(code: str) -> list[str]:
    """A group code matches its leaves (and itself); a leaf matches itself."""
    if code not in taxonomy.BY_CODE:
        raise ValidationFailed.single("category", "unknown category code")
    return [code, *taxonomy.leaves_of(code)] if taxonomy.BY_CODE[code].parent_code is None else [code]


def build_query(query: DirectoryQuery) -> tuple[Select[tuple[Organization]], Any]:
    """The filtered statement and its relevance expression (validated input only)."""
    statement = select(Organization).where(
        Organization.kind == OrganizationKind.FIRM, Organization.status == OrganizationStatus.VERIFIED
    )
    relevance: Any = literal(0.0)
    if query.category:
        statement = statement.where(Organization.category_codes.overlap(category_filter_codes(query.category)))
    if query.district:
        if query.district not in BY_CODE:
            raise ValidationFailed.single("district", "unknown district code")
        statement = statement.where(Organization.district == query.district)
    if query.firm_type:
        if query.firm_type not in {t.value for t in FirmType}:
            raise ValidationFailed.single("firm_type", "unknown firm type")
        statement = statement.where(Organization.firm_types.contains([query.firm_type]))
    words = (query.q or "").lower().split()[:MAX_QUERY_WORDS]
    if words:
        haystack = search_text()
        conditions = []
        scores = []
        for word in words:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            verbatim = haystack.like(f"%{escaped}%")
            conditions.append(or_(verbatim, haystack.op("%>")(word)))
            # A verbatim match scores 1 without computing the (costly) similarity; typos score below it.
            scores.append(case((verbatim, literal(1.0)), else_=func.word_similarity(word, haystack)))
        statement = statement.where(and_(*conditions))
        relevance = sum(scores[1:], scores[0])
    return statement, relevance


class DirectoryService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(self, query: DirectoryQuery, offset: int, limit: int) -> tuple[list[Organization], int]:
        statement, relevance = build_query(query)
        # `%>` uses this threshold; SET LOCAL keeps it to this transaction. asyncpg prepares
        # statements, and a generic plan cannot see the LIKE pattern (so no trigram index):
        # force a plan per search.
        await self.session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = {WORD_SIMILARITY}"))
        await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # One pass: the window count rides along with the page, so the match conditions are
        # evaluated once (a separate COUNT doubled the cost of every search).
        ordered = statement.add_columns(func.count().over().label("total")).order_by(
            relevance.desc(), Organization.name, Organization.id
        )
        rows = (await self.session.execute(ordered.offset(offset).limit(limit))).all()
        if rows:
            return [row[0] for row in rows], int(rows[0][1])
        total = 0
        if offset:
            total = int(await self.session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
        return [], total
