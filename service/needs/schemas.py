"""Request and response shapes of purchase needs."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec

from service.lib.bounds import BoundedList
from service.needs.models import Need


class NeedIn(msgspec.Struct, kw_only=True):
    title: str | None = None
    description: str | None = None
    category_codes: BoundedList[str] | None = None
    budget_krw: int | None = None
    budget_min_krw: int | None = None
    quantity: int | None = None
    needed_by: date | None = None
    delivery_district: str | None = None
    preferred_firm_types: BoundedList[str] | None = None


class AwardIn(msgspec.Struct, kw_only=True):
    firm_id: uuid.UUID | None = None


class ReasonOut(msgspec.Struct, kw_only=True):
    factor: str
    points: float
    detail: str


class NeedOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: uuid.UUID
    agency_id: uuid.UUID
    title: str
    description: str
    category_codes: list[str]
    budget_krw: int
    budget_min_krw: int | None
    quantity: int | None
    needed_by: date
    delivery_district: str | None
    preferred_firm_types: list[str]
    status: str
    awarded_firm_id: uuid.UUID | None
    direct_contract_eligible: bool
    created_at: datetime
    score: float | None = None
    reasons: list[ReasonOut] | None = None


def need_out(need: Need, direct_contract_limit_krw: int) -> NeedOut:
    return NeedOut(
        id=need.id,
        agency_id=need.agency_id,
        title=need.title,
        description=need.description,
        category_codes=list(need.category_codes),
        budget_krw=need.budget_krw,
        budget_min_krw=need.budget_min_krw,
        quantity=need.quantity,
        needed_by=need.needed_by,
        delivery_district=need.delivery_district,
        preferred_firm_types=list(need.preferred_firm_types),
        status=need.status.value,
        awarded_firm_id=need.awarded_firm_id,
        direct_contract_eligible=need.budget_krw <= direct_contract_limit_krw,
        created_at=need.created_at,
    )
