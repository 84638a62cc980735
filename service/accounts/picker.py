"""The organization picker: find verified organizations by name, business number or district.

Every long list of organizations on a page (a fair's participants, a contract's parties) is a
search box whose results come from here, at most MAX_RESULTS at a time. Each result carries what
tells two same-named organizations apart (business number, district) and whether anyone can sign
in for it (an organization without an active user account is marked on the page).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Exists, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import User
from service.registry.business_number import display
from service.registry.districts import BY_CODE, district_name
from service.registry.models import Organization, OrganizationKind, OrganizationStatus

MAX_RESULTS = 20
MAX_WORDS = 6


@dataclass(frozen=True)
class PickerOption:
    id: uuid.UUID
    name: str
    kind: str
    business_number: str
    district: str
    has_account: bool


@dataclass(frozen=True)
class PickerResults:
    options: list[PickerOption]
    total: int


def parse_kind(raw: str | None) -> OrganizationKind | None:
    """`agency`/`firm`; anything else means both kinds."""
    return OrganizationKind(raw) if raw in {k.value for k in OrganizationKind} else None


def parse_ids(raw: list[str]) -> list[uuid.UUID]:
    """The valid ids among form or query values (at most 100; malformed ones are dropped)."""
    found = []
    for value in raw[:100]:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found


def word_condition(word: str) -> ColumnElement[bool]:
    """One query word: part of the name, of the business number (hyphens ignored) or of a district's name."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    conditions = [Organization.name.ilike(f"%{escaped}%")]
    digits = word.replace("-", "")
    if digits.isdigit():
        conditions.append(Organization.business_number.like(f"%{digits}%"))
    lowered = word.lower()
    districts = [
        code
        for code, district in BY_CODE.items()
        if lowered in district.name_ko or lowered in district.name_en.lower() or lowered == code
    ]
    if districts:
        conditions.append(Organization.district.in_(districts))
    return or_(*conditions)


def has_account_sql() -> Exists:
    return exists().where(User.organization_id == Organization.id, User.is_active.is_(True))


def picker_query(
    q: str, kind: OrganizationKind | None, exclude: Collection[uuid.UUID]
) -> Select[tuple[Organization, bool, int]]:
    statement = select(Organization, has_account_sql().label("has_account"), func.count().over().label("total")).where(
        Organization.status == OrganizationStatus.VERIFIED
    )
    if kind is not None:
        statement = statement.where(Organization.kind == kind)
    if exclude:
        statement = statement.where(Organization.id.not_in(list(exclude)))
    words = q.split()[:MAX_WORDS]
    if words:
        statement = statement.where(and_(*(word_condition(w) for w in words)))
    return statement.order_by(Organization.kind, Organization.name, Organization.district, Organization.id)


def option_of(organization: Organization, has_account: bool, locale: str) -> PickerOption:
    return PickerOption(
        id=organization.id,
        name=organization.name,
        kind=organization.kind.value,
        business_number=display(organization.business_number) if organization.business_number else "",
        district=district_name(organization.district, locale, organization.region_name),
        has_account=has_account,
    )


class OrganizationPicker:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(
        self,
        q: str | None,
        kind: OrganizationKind | None = None,
        *,
        exclude: Collection[uuid.UUID] = (),
        locale: str = "ko",
    ) -> PickerResults:
        """Verified organizations matching every word of `q` (all of them when empty), at most MAX_RESULTS."""
        rows = (await self.session.execute(picker_query((q or "").strip(), kind, exclude).limit(MAX_RESULTS))).all()
        options = [option_of(row[0], bool(row[1]), locale) for row in rows]
        return PickerResults(options=options, total=int(rows[0][2]) if rows else 0)

    async def chosen(self, ids: Collection[uuid.UUID], locale: str = "ko") -> list[PickerOption]:
        """The organizations already chosen on a form (shown checked above new results)."""
        if not ids:
            return []
        rows = (
            await self.session.execute(
                select(Organization, has_account_sql())
                .where(Organization.id.in_(list(ids)))
                .order_by(Organization.name)
            )
        ).all()
        return [option_of(row[0], bool(row[1]), locale) for row in rows]
