"""Purchase-need rules: verified agencies post and manage their needs; who may see which."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.principal import Principal
from service.lib.clock import today
from service.lib.errors import Conflict, FieldErrors, Forbidden, NotFound
from service.needs.models import Need, NeedStatus
from service.needs.schemas import NeedIn
from service.registry import taxonomy
from service.registry.districts import BY_CODE
from service.registry.models import FirmType, Organization
from service.registry.validation import MAX_KRW


def clean_need(data: NeedIn, errors: FieldErrors, *, partial: bool) -> dict[str, Any]:
    """Validate and normalise the fields given (all required ones too unless `partial`); each field's
    rule is in NEED_FIELD_RULES, applied in form order."""
    given = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not None}
    out: dict[str, Any] = {}
    for field in ("title", "category_codes", "budget_krw", "needed_by"):
        if not partial and field not in given:
            errors.add(field, "required")
    for field, rule in NEED_FIELD_RULES:
        if field in given:
            out[field], problem = rule(given[field])
            if problem is not None:
                errors.add(field, problem)
    return out


def _title(value: str) -> tuple[str, str | None]:
    title = value.strip()
    return title, None if 2 <= len(title) <= 200 else "must be 2 to 200 characters"


def _description(value: str) -> tuple[str, str | None]:
    return value.strip(), None if len(value) <= 5000 else "must be at most 5,000 characters"


def _category_codes(value: list[str]) -> tuple[list[str], str | None]:
    codes = list(dict.fromkeys(value))
    unknown = [c for c in codes if c not in taxonomy.BY_CODE or taxonomy.BY_CODE[c].parent_code is None]
    if not codes:
        return codes, "at least one category is required"
    return codes, f"unknown category code(s): {', '.join(unknown)}" if unknown else None


def _budget(value: int) -> tuple[int, str | None]:
    return value, None if 0 < value <= MAX_KRW else "must be a positive amount up to 10,000,000,000,000 원"


def _budget_min(value: int) -> tuple[int, str | None]:
    return value, None if 0 <= value <= MAX_KRW else "must be an amount from 0 to 10,000,000,000,000 원"


def check_budget_range(low: int | None, high: int | None, errors: FieldErrors) -> None:
    """A budget range's lower bound may not exceed its upper bound (`budget_krw`)."""
    if low is not None and high is not None and low > high and not errors.has("budget_min_krw"):
        errors.add("budget_min_krw", "must not be more than the budget's upper amount")


def _quantity(value: int) -> tuple[int, str | None]:
    return value, None if value > 0 else "must be positive"


def _needed_by(value: date) -> tuple[date, str | None]:
    return value, "must not be in the past" if value < today() else None


def _delivery_district(value: str) -> tuple[str, str | None]:
    return value, None if value in BY_CODE else "unknown district code"


def _preferred_firm_types(value: list[str]) -> tuple[list[str], str | None]:
    bad = [t for t in value if t not in {x.value for x in FirmType}]
    return list(dict.fromkeys(value)), f"unknown firm type(s): {', '.join(bad)}" if bad else None


NEED_FIELD_RULES: tuple[tuple[str, Callable[[Any], tuple[Any, str | None]]], ...] = (
    ("title", _title),
    ("description", _description),
    ("category_codes", _category_codes),
    ("budget_min_krw", _budget_min),
    ("budget_krw", _budget),
    ("quantity", _quantity),
    ("needed_by", _needed_by),
    ("delivery_district", _delivery_district),
    ("preferred_firm_types", _preferred_firm_types),
)


class NeedService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, actor: Principal, data: NeedIn, form_errors: FieldErrors | None = None) -> Need:
        """A verified agency posts a need; `form_errors` (what a form could not read) are reported together
        with every rule's error."""
        if form_errors:
            fields = clean_need(data, form_errors, partial=False)
            check_budget_range(fields.get("budget_min_krw"), fields.get("budget_krw"), form_errors)
            form_errors.raise_if_any()
        if not actor.is_agency:
            raise Forbidden("Only agencies post purchase needs.")
        actor.require_verified()
        errors = FieldErrors()
        fields = clean_need(data, errors, partial=False)
        check_budget_range(fields.get("budget_min_krw"), fields.get("budget_krw"), errors)
        errors.raise_if_any()
        need = Need(agency_id=actor.organization_id, created_by=actor.user_id, **fields)
        self.session.add(need)
        await self.session.flush()
        return need

    async def get_for(self, actor: Principal, need_id: uuid.UUID) -> Need:
        """The need if the caller may see it: its agency, staff, or a verified firm while it is open."""
        need = await self.session.get(Need, need_id)
        if need is None:
            raise NotFound("No such need.")
        if actor.is_staff or actor.owns(need.agency_id):
            return need
        actor.require_verified()
        if actor.is_firm and need.status == NeedStatus.OPEN:
            return need
        raise NotFound("No such need.")

    async def get_own(self, actor: Principal, need_id: uuid.UUID) -> Need:
        need = await self.session.get(Need, need_id)
        if need is None or not (actor.is_staff or actor.owns(need.agency_id)):
            raise NotFound("No such need.")
        if not actor.is_staff:
            actor.require_verified()
        return need

    async def update(self, actor: Principal, need_id: uuid.UUID, data: NeedIn) -> Need:
        need = await self.get_own(actor, need_id)
        if need.status != NeedStatus.OPEN:
            raise Conflict("Only open needs can be edited.")
        errors = FieldErrors()
        fields = clean_need(data, errors, partial=True)
        check_budget_range(
            fields.get("budget_min_krw", need.budget_min_krw), fields.get("budget_krw", need.budget_krw), errors
        )
        errors.raise_if_any()
        for key, value in fields.items():
            setattr(need, key, value)
        await self.session.flush()
        return need

    async def close(self, actor: Principal, need_id: uuid.UUID) -> Need:
        need = await self.get_own(actor, need_id)
        if need.status != NeedStatus.OPEN:
            raise Conflict(f"The need is already {need.status.value}.")
        need.status = NeedStatus.CLOSED
        await self.session.flush()
        return need

    async def award(self, actor: Principal, need_id: uuid.UUID, firm_id: uuid.UUID | None) -> Need:
        need = await self.get_own(actor, need_id)
        if need.status == NeedStatus.AWARDED:
            raise Conflict("The need is already awarded.")
        if firm_id is not None:
            firm = await self.session.get(Organization, firm_id)
            if firm is None or firm.kind != "firm":
                raise NotFound("No such firm.")
        need.status = NeedStatus.AWARDED
        need.awarded_firm_id = firm_id
        await self.session.flush()
        return need

    async def list_own(self, actor: Principal, status: str | None, offset: int, limit: int) -> tuple[list[Need], int]:
        statement = select(Need)
        if not actor.is_staff:
            statement = statement.where(Need.agency_id == actor.organization_id)
        if status:
            statement = statement.where(Need.status == status)
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = await self.session.scalars(
            statement.order_by(Need.created_at.desc(), Need.id).offset(offset).limit(limit)
        )
        return list(rows), int(total or 0)

    async def open_budget_krw(self, agency_id: uuid.UUID) -> int:
        """The summed budgets of an agency's open needs."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(Need.budget_krw), 0)).where(
                Need.agency_id == agency_id, Need.status == NeedStatus.OPEN
            )
        )
        return int(total or 0)
