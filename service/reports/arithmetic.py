"""The arithmetic of the sales figures, kept pure so that it can be checked against sums computed
independently (hypothesis): totals and year-on-year rows. Rates and units are in `service.lib.amounts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.lib.amounts import change_rate


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


def total_of(rows: Iterable[GroupRow]) -> tuple[int, int]:
    """(contracts, amount) of rows that partition the contracts (every group_by but firm_type)."""
    contracts = amount = 0
    for row in rows:
        contracts += row.contracts
        amount += row.amount_krw
    return contracts, amount


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
