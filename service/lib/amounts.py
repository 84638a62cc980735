"""Amounts of money and rates for people, kept pure so that they can be checked against values computed
independently (hypothesis): rates, percentages and amounts in 천원 / 백만원 / 억원.

Amounts are integer 원 everywhere; conversion to larger units happens only for display and
rounds half up (the way the center's Excel sheets round), never truncates.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from service.lib.i18n import current_locale

CHEONWON = 1_000
BAEKMAN = 1_000_000
EOK = 100_000_000


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


def money(amount_krw: int, locale: str | None = None) -> str:
    """Amounts for people, in one unit wherever they are compared (a column, a chart): exact 천원,
    never rounded to 0.1억 (787,076,000 → '787,076천원'); English '₩787,076 thousand'."""
    if (locale or current_locale()) == "en":
        return f"₩{in_units(amount_krw, CHEONWON):,} thousand"
    return format_units(amount_krw, CHEONWON, "천원")
