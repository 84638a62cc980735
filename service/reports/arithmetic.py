"""The arithmetic of the figures, kept pure so that it can be checked against sums computed
independently (hypothesis): totals, achievement and change rates, year-on-year rows, and
amounts in 천원 / 백만원 / 억원.

Amounts are integer 원 everywhere; conversion to larger units happens only for display and
rounds half up (the way the center's Excel sheets round), never truncates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CHEONWON = 1_000
BAEKMAN = 1_000_000
EOK = 100_000_000


@dataclass(frozen=True)
class GroupRow:
    """One row of a sales report: a group and the confirmed contracts in it."""

    key: str | None
    label: str
    contracts: int
    amount_krw: int


@dataclass(frozen=True)
class YearOverYearRow:
    key: str | None
    label: str
    contracts: int
    amount_krw: int
    previous_contracts: int
    previous_amount_krw: int
    change_rate: float | None


@dataclass(frozen=True)
class TargetRow:
    agency_id: str
    name: str
    target_krw: int
    contracts_krw: int
    purchases_krw: int

    @property
    def actual_krw(self) -> int:
        return self.contracts_krw + self.purchases_krw

    @property
    def achievement_rate(self) -> float | None:
        return achievement_rate(self.actual_krw, self.target_krw)


def total_of(rows: Iterable[GroupRow]) -> tuple[int, int]:
    """(contracts, amount) of rows that partition the contracts (every group_by but firm_type)."""
    contracts = amount = 0
    for row in rows:
        contracts += row.contracts
        amount += row.amount_krw
    return contracts, amount


def ratio(numerator: int, denominator: int, places: int = 4) -> float | None:
    """numerator ÷ denominator rounded half up to `places` decimals; None when undefined."""
    if denominator <= 0:
        return None
    quantum = Decimal(1).scaleb(-places)
    return float((Decimal(numerator) / Decimal(denominator)).quantize(quantum, rounding=ROUND_HALF_UP))


def achievement_rate(actual_krw: int, target_krw: int) -> float | None:
    """달성률 = actual ÷ target (1.0865 means 108.65%); None without a target."""
    return ratio(actual_krw, target_krw)


def change_rate(current: int, previous: int) -> float | None:
    """Year-on-year change (0.25 = +25%); None when there was nothing the year before."""
    if previous <= 0:
        return None
    return ratio(current - previous, previous)


def percent(rate: float | None, places: int = 0) -> str:
    """1.0865 → '109%' (half up); None → '–'."""
    if rate is None:
        return "–"
    quantum = Decimal(1).scaleb(-places)
    value = (Decimal(str(rate)) * 100).quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{value:,}%"


def in_units(amount_krw: int, unit: int, places: int = 0) -> Decimal:
    """원 → 천원 / 백만원 / 억원, rounded half up to `places` decimals."""
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(amount_krw) / Decimal(unit)).quantize(quantum, rounding=ROUND_HALF_UP)


def format_units(amount_krw: int, unit: int, suffix: str, places: int = 0) -> str:
    """787,076,000원 → '787,076천원'; 184,700,000,000 → '1,847억원'."""
    return f"{in_units(amount_krw, unit, places):,}{suffix}"


def year_over_year(current: Sequence[GroupRow], previous: Sequence[GroupRow]) -> list[YearOverYearRow]:
    """Rows of both years matched by key, in the current year's order, then keys only last year had."""
    before = {row.key: row for row in previous}
    out: list[YearOverYearRow] = []
    seen: set[str | None] = set()
    for row in current:
        old = before.get(row.key)
        seen.add(row.key)
        out.append(
            YearOverYearRow(
                key=row.key,
                label=row.label,
                contracts=row.contracts,
                amount_krw=row.amount_krw,
                previous_contracts=old.contracts if old else 0,
                previous_amount_krw=old.amount_krw if old else 0,
                change_rate=change_rate(row.amount_krw, old.amount_krw if old else 0),
            )
        )
    for old in previous:
        if old.key not in seen:
            out.append(
                YearOverYearRow(
                    key=old.key,
                    label=old.label,
                    contracts=0,
                    amount_krw=0,
                    previous_contracts=old.contracts,
                    previous_amount_krw=old.amount_krw,
                    change_rate=change_rate(0, old.amount_krw),
                )
            )
    return out


def target_totals(rows: Iterable[TargetRow]) -> TargetRow:
    """The all-agencies row of a targets report."""
    target = contracts = purchases = 0
    for row in rows:
        target += row.target_krw
        contracts += row.contracts_krw
        purchases += row.purchases_krw
    return TargetRow(agency_id="", name="", target_krw=target, contracts_krw=contracts, purchases_krw=purchases)
