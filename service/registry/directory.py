"""The firm directory: Korean free text over name, description and keywords (pg_trgm), and filters.

Every query word must match. A word matches a firm when it is a substring of the firm's
text (the stored, trigram-indexed column `search_text`). When the words so find fewer than
TYPO_BELOW firms, the search runs again tolerating typos: a word of MIN_TYPO_CHARS or more
characters then also matches when its Hangul-letter spelling (hangul.to_jamo) is word-similar,
at a threshold of TYPO_THRESHOLDS, to the spelling of the firm's name and keywords (`search_jamo`,
trigram-indexed). So a broad query never pays for similarity over thousands of firms, and a
one-letter slip inside a compound name ('나늠인쇄' for '은평나눔인쇄협동조합') is still found.
Relevance sums, per word, 1 for a verbatim match else the letter word-similarity plus a small
bonus for the word's syllables that the name holds (_name_bonus); results are ordered
by relevance, then name and id, so pages are stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, false, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.audit import record_audit
from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.errors import ValidationFailed
from service.registry import taxonomy
from service.registry.business_number import display
from service.registry.certification import CERTIFIED_TYPES, PRELIMINARY, SOCIAL, effective_firm_types
from service.registry.districts import BY_CODE, district_name
from service.registry.hangul import to_jamo
from service.registry.importer import export_csv
from service.registry.models import FirmType, Organization, OrganizationKind, OrganizationStatus
from service.registry.service import can_see_contact

# On letter spellings. A one-letter slip in a 4-syllable word inside a compound name scores
# about 0.45, a slip at the start of a name or a missing syllable 0.6 or more. The typo pass
# tries the strict threshold first and loosens only while fewer than TYPO_BELOW firms match:
# a strict pass keeps '은평크린' to the 은평클린 firms instead of every 은평 firm (0.5), and the
# cost of ranking stays bounded by how many firms really look alike.
TYPO_THRESHOLDS = (0.55, 0.4)
NAME_BONUS = 0.15
TYPO_MAX = 0.99  # a typo never outranks a verbatim match (1)
MIN_TYPO_CHARS = 3
TYPO_BELOW = 20
MAX_QUERY_WORDS = 8
EXPORT_LIMIT = 50_000


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


def query_words(query: DirectoryQuery) -> list[str]:
    return (query.q or "").lower().split()[:MAX_QUERY_WORDS]


def counts_as_any_sql(firm_types: Iterable[str], on_day: date) -> Any:
    """SQL: the organization counts as at least one of `firm_types` today (uses the GIN index)."""
    wanted = list(dict.fromkeys(firm_types))
    plain = [t for t in wanted if t not in CERTIFIED_TYPES]
    conditions: list[Any] = [Organization.firm_types.overlap(plain)] if plain else []
    if SOCIAL in wanted:
        conditions.append(and_(Organization.firm_types.contains([SOCIAL]), Organization.certified_until >= on_day))
    if PRELIMINARY in wanted:
        conditions.append(
            and_(
                Organization.firm_types.contains([PRELIMINARY]),
                or_(Organization.certified_until.is_(None), Organization.certified_until >= on_day),
            )
        )
    return or_(*conditions) if conditions else false()


def build_query(query: DirectoryQuery, typos: bool = False) -> tuple[Select[tuple[Organization]], Any]:
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
        # A social enterprise whose certification expired is not listed as one.
        statement = statement.where(counts_as_any_sql([query.firm_type], today()))
    words = query_words(query)
    if words:
        haystack = search_text()
        conditions = []
        scores = []
        for word in words:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            verbatim = haystack.like(f"%{escaped}%")
            if typos and len(word) >= MIN_TYPO_CHARS:
                spelled, letters = to_jamo(word), Organization.search_jamo
                conditions.append(or_(verbatim, letters.op("%>")(spelled)))
                # A verbatim match scores 1 without computing the similarity; typos score below it.
                scores.append(
                    case(
                        (verbatim, literal(1.0)),
                        else_=func.least(func.word_similarity(spelled, letters) + _name_bonus(word), TYPO_MAX),
                    )
                )
            else:
                conditions.append(verbatim)
        statement = statement.where(and_(*conditions))
        if scores:
            relevance = sum(scores[1:], scores[0])
    return statement, relevance


def _name_bonus(word: str) -> Any:
    """Up to NAME_BONUS for the share of the word's syllables found in the firm's name.

    Letter similarity alone ties '나늠인쇄' between 나눔인쇄 and 이음인쇄 (both share the same
    trigrams of 인쇄, and the shorter extent wins); the name holding 나 as well breaks the tie.
    """
    syllables = list(dict.fromkeys(word))
    name = func.lower(Organization.name)
    hits = [case((func.strpos(name, syllable) > 0, literal(1.0)), else_=literal(0.0)) for syllable in syllables]
    return sum(hits[1:], hits[0]) * (NAME_BONUS / len(syllables))


def export_row(firm: Organization, on_day: date, *, contact: bool) -> dict[str, Any]:
    """One firm as a row of the directory export, under the Korean column headers."""
    return {
        "상호": firm.name,
        "사업자등록번호": display(firm.business_number) if firm.business_number else "",
        "자치구": district_name(firm.district, "ko"),
        # Only the types that count today: an expired certification is not listed.
        "기업유형": "; ".join(effective_firm_types(firm.firm_types, firm.certified_until, on_day)),
        "품목분류": "; ".join(firm.category_codes),
        "소개": firm.description,
        "키워드": "; ".join(firm.keywords),
        "전화번호": firm.phone if contact else "",
        "이메일": firm.email if contact else "",
        "웹사이트": firm.website if contact else "",
    }


class DirectoryService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(self, query: DirectoryQuery, offset: int, limit: int) -> tuple[list[Organization], int]:
        # asyncpg prepares statements, and a generic plan cannot see the LIKE pattern (so no
        # trigram index): force a plan per search. SET LOCAL keeps settings to this transaction.
        await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        firms, total = await self._page(query, offset, limit, typos=False)
        if total >= TYPO_BELOW or not any(len(w) >= MIN_TYPO_CHARS for w in query_words(query)):
            return firms, total
        for threshold in TYPO_THRESHOLDS:
            # `%>` uses this threshold.
            await self.session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = {threshold}"))
            firms, total = await self._page(query, offset, limit, typos=True)
            if total >= TYPO_BELOW:
                break
        return firms, total

    async def _page(
        self, query: DirectoryQuery, offset: int, limit: int, *, typos: bool
    ) -> tuple[list[Organization], int]:
        statement, relevance = build_query(query, typos)
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

    async def export(self, viewer: Principal, query: DirectoryQuery) -> bytes:
        """The directory with `query`'s filters as CSV (UTF-8 with BOM), up to EXPORT_LIMIT firms.

        Contact columns stay empty where `viewer` may not see them. Like every export, it is
        audited: who, when, which filters, how many rows (and how many with contacts).
        """
        firms, _ = await self.search(query, 0, EXPORT_LIMIT)
        on_day = today()
        contacts = [can_see_contact(viewer, firm.id) for firm in firms]
        rows = [export_row(firm, on_day, contact=contact) for firm, contact in zip(firms, contacts, strict=True)]
        await record_audit(
            self.session,
            actor_id=viewer.user_id,
            action="export.firms_csv",
            target_type="export",
            target_id=None,
            changes={
                "filters": {k: v for k, v in vars(query).items() if v is not None},
                "rows": len(rows),
                "rows_with_contacts": sum(contacts),
            },
        )
        return export_csv(rows)
