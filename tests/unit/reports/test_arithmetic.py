"""The pure arithmetic of the figures, against independently computed values."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from service.contracts.targets import TargetRow, target_totals
from service.lib.amounts import CHEONWON, EOK, achievement_rate, change_rate, format_units, in_units, percent
from service.reports.arithmetic import GroupRow, total_of, year_over_year

amounts = st.integers(0, 10**13)


def half_up(value: Fraction, places: int) -> Fraction:
    scale = 10**places
    scaled = value * scale
    floor = scaled.numerator // scaled.denominator
    return Fraction(floor + (1 if scaled - floor >= Fraction(1, 2) else 0), scale)


class TestRates:
    @given(actual=amounts, target=st.integers(1, 10**13))
    def test_achievement_is_actual_over_target_rounded_half_up(self, actual: int, target: int) -> None:
        rate = achievement_rate(actual, target)
        assert rate is not None
        assert Fraction(str(rate)) == half_up(Fraction(actual, target), 4)

    def test_no_target_no_rate(self) -> None:
        assert achievement_rate(5, 0) is None
        assert change_rate(5, 0) is None

    def test_the_2021_report(self) -> None:
        rate = achievement_rate(184_700_000_000, 170_000_000_000)
        assert rate == 1.0865
        assert percent(rate) == "109%"

    @given(current=amounts, previous=st.integers(1, 10**13))
    def test_change_rate(self, current: int, previous: int) -> None:
        rate = change_rate(current, previous)
        assert rate is not None
        exact = Fraction(current - previous, previous)
        rounded = half_up(abs(exact), 4)  # half away from zero, like Decimal's ROUND_HALF_UP
        assert Fraction(str(rate)) == (rounded if exact >= 0 else -rounded)


class TestUnits:
    @given(amount=amounts)
    def test_cheonwon_rounds_half_up(self, amount: int) -> None:
        expected = amount // 1000 + (1 if amount % 1000 >= 500 else 0)
        assert in_units(amount, CHEONWON) == Decimal(expected)

    def test_report_figures(self) -> None:
        assert format_units(787_076_000, CHEONWON, "천원") == "787,076천원"
        assert format_units(184_700_000_000, EOK, "억원") == "1,847억원"
        assert format_units(10_150_000_000, EOK, "억원", 1) == "101.5억원"


rows = st.lists(
    st.builds(
        GroupRow,
        key=st.one_of(st.none(), st.text(max_size=3)),
        label=st.text(max_size=5),
        contracts=st.integers(0, 1000),
        amount_krw=amounts,
    ),
    max_size=20,
    unique_by=lambda r: r.key,
)


class TestGrouping:
    @given(rows)
    def test_total_is_the_sum(self, items: list[GroupRow]) -> None:
        contracts, amount = total_of(items)
        assert contracts == sum(r.contracts for r in items)
        assert amount == sum(r.amount_krw for r in items)

    @given(current=rows, previous=rows)
    def test_year_over_year_keeps_every_key_and_amount(self, current: list[GroupRow], previous: list[GroupRow]) -> None:
        out = year_over_year(current, previous)
        assert {r.key for r in out} == {r.key for r in current} | {r.key for r in previous}
        assert sum(r.amount_krw for r in out) == sum(r.amount_krw for r in current)
        assert sum(r.previous_amount_krw for r in out) == sum(r.amount_krw for r in previous)
        before = {r.key: r.amount_krw for r in previous}
        for row in out:
            assert row.change_rate == change_rate(row.amount_krw, before.get(row.key, 0))

    @given(
        st.lists(
            st.builds(
                TargetRow,
                agency_id=st.just("a"),
                name=st.just("n"),
                target_krw=amounts,
                contracts_krw=amounts,
                purchases_krw=amounts,
            ),
            max_size=20,
        )
    )
    def test_target_totals(self, items: list[TargetRow]) -> None:
        total = target_totals(items)
        assert total.target_krw == sum(r.target_krw for r in items)
        assert total.actual_krw == sum(r.contracts_krw + r.purchases_krw for r in items)
        assert total.achievement_rate == achievement_rate(total.actual_krw, total.target_krw)
