"""The matching score: pure, explainable, no I/O.

`score(need, firm, weights, locale)` returns points per factor and a 0–100 total. Each factor
earns between 0 and its weight; the weights add up to 100 (see DEFAULT_WEIGHTS for why).
Every factor says in one line, in the caller's language, why it earned what it did.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from service.registry.certification import effective_firm_types
from service.registry.districts import district_name, is_seoul
from service.registry.taxonomy import category_name, group_of

# Why these defaults: what the agency buys matters most (category 35, text 20 refine it); local
# delivery is a stated policy of district offices (15); preferred firm types and capacity are hard
# constraints for many purchases (10 each); track record and certification are tie-breakers that
# must not let large, established firms drown small ones (5 each).
DEFAULT_WEIGHTS: dict[str, float] = {
    "category": 35,
    "text": 20,
    "district": 15,
    "firm_type": 10,
    "capacity": 10,
    "track_record": 5,
    "certification": 5,
}
FACTORS = tuple(DEFAULT_WEIGHTS)
TRACK_RECORD_SATURATION = 20  # confirmed contracts at which the track-record factor is full


@dataclass(frozen=True)
class NeedFacts:
    title: str
    description: str
    category_codes: tuple[str, ...]
    budget_krw: int
    delivery_district: str | None
    preferred_firm_types: tuple[str, ...]


@dataclass(frozen=True)
class FirmFacts:
    name: str
    description: str
    keywords: tuple[str, ...]
    category_codes: tuple[str, ...]
    district: str
    firm_types: tuple[str, ...]
    capacity_krw: int | None
    confirmed_contracts: int
    certified_until: date | None


@dataclass(frozen=True)
class Reason:
    factor: str
    points: float
    detail: str


@dataclass(frozen=True)
class Score:
    total: float
    reasons: tuple[Reason, ...]


def _t(locale: str, ko: str, en: str) -> str:
    return ko if locale == "ko" else en


_NOT_WORD = re.compile(r"[^\w\s]|_")


@lru_cache(maxsize=8192)
def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of each word: robust for Korean, where words glue particles and compounds.

    Punctuation is dropped inside words ("청소/방역" is one word). Cached: a need's text is
    compared with every candidate, and a firm's text with every need that reaches it."""
    grams: set[str] = set()
    for word in _NOT_WORD.sub("", text.lower()).split():
        if len(word) == 1:
            grams.add(word)
        else:
            grams.update(map(str.__add__, word, word[1:]))
    return frozenset(grams)


def text_overlap(need_text: str, firm_text: str) -> float:
    """Share of the need's bigrams found in the firm's text (0..1)."""
    need = bigrams(need_text)
    if not need:
        return 0.0
    return len(need & bigrams(firm_text)) / len(need)


def _category(need: NeedFacts, firm: FirmFacts, weight: float, locale: str) -> Reason:
    leaf = [c for c in need.category_codes if c in firm.category_codes]
    if leaf:
        return Reason(
            "category", weight, _t(locale, "세부품목 일치: ", "Same category: ") + category_name(leaf[0], locale)
        )
    need_groups = {group_of(c) for c in need.category_codes}
    group = [c for c in firm.category_codes if group_of(c) in need_groups]
    if group:
        name = category_name(group_of(group[0]), locale)
        return Reason("category", weight * 0.55, _t(locale, "같은 분야: ", "Same field: ") + name)
    return Reason("category", 0.0, _t(locale, "품목 불일치", "Different category"))


def _text(need: NeedFacts, firm: FirmFacts, weight: float, locale: str) -> Reason:
    overlap = text_overlap(
        f"{need.title} {need.description}", f"{firm.name} {firm.description} {' '.join(firm.keywords)}"
    )
    points = round(weight * min(1.0, overlap * 1.5), 2)
    percent = round(overlap * 100)
    return Reason("text", points, _t(locale, f"설명 연관도 {percent}%", f"Description relevance {percent}%"))


def _district(need: NeedFacts, firm: FirmFacts, weight: float, locale: str) -> Reason:
    where = district_name(firm.district, locale)
    if need.delivery_district and firm.district == need.delivery_district:
        return Reason(
            "district", weight, _t(locale, f"납품 지역과 같은 자치구: {where}", f"Same district as delivery: {where}")
        )
    if is_seoul(firm.district):
        share = 0.55 if need.delivery_district else 0.7
        return Reason("district", weight * share, _t(locale, f"서울 소재: {where}", f"In Seoul: {where}"))
    return Reason("district", 0.0, _t(locale, "서울 외 지역", "Outside Seoul"))


def _firm_type(need: NeedFacts, firm: FirmFacts, today: date, weight: float, locale: str) -> Reason:
    if not need.preferred_firm_types:
        return Reason("firm_type", weight * 0.5, _t(locale, "선호 기업 유형 없음", "No preferred firm type"))
    # A social enterprise (or preliminary one) whose certification expired is not that type any more.
    if set(need.preferred_firm_types) & set(effective_firm_types(firm.firm_types, firm.certified_until, today)):
        return Reason("firm_type", weight, _t(locale, "선호 기업 유형", "Preferred firm type"))
    return Reason("firm_type", 0.0, _t(locale, "선호 유형 아님", "Not a preferred firm type"))


def _capacity(need: NeedFacts, firm: FirmFacts, weight: float, locale: str) -> Reason:
    if firm.capacity_krw is None:
        return Reason("capacity", weight * 0.5, _t(locale, "수행 규모 정보 없음", "Capacity not stated"))
    if need.budget_krw <= firm.capacity_krw:
        return Reason("capacity", weight, _t(locale, "예산이 수행 규모 안", "Budget within capacity"))
    share = firm.capacity_krw / need.budget_krw if need.budget_krw else 0.0
    return Reason("capacity", round(weight * share, 2), _t(locale, "예산이 수행 규모를 넘음", "Budget above capacity"))


def _track_record(need: NeedFacts, firm: FirmFacts, weight: float, locale: str) -> Reason:
    n = max(0, firm.confirmed_contracts)
    # Logarithmic: the first contracts count most, a long record adds little more.
    points = weight * min(1.0, math.log1p(n) / math.log1p(TRACK_RECORD_SATURATION))
    return Reason("track_record", round(points, 2), _t(locale, f"확인된 계약 {n}건", f"{n} confirmed contracts"))


def _certification(firm: FirmFacts, today: date, weight: float, locale: str) -> Reason:
    if "social_enterprise" not in firm.firm_types:
        return Reason("certification", weight * 0.5, _t(locale, "인증 대상 아님", "No certification claimed"))
    if firm.certified_until is not None and firm.certified_until >= today:
        return Reason(
            "certification", weight, _t(locale, "사회적기업 인증 유효", "Social-enterprise certification valid")
        )
    return Reason("certification", 0.0, _t(locale, "사회적기업 인증 만료", "Social-enterprise certification expired"))


def score(
    need: NeedFacts, firm: FirmFacts, today: date, weights: Mapping[str, float] = DEFAULT_WEIGHTS, locale: str = "ko"
) -> Score:
    w = {**DEFAULT_WEIGHTS, **weights}
    reasons = (
        _category(need, firm, w["category"], locale),
        _text(need, firm, w["text"], locale),
        _district(need, firm, w["district"], locale),
        _firm_type(need, firm, today, w["firm_type"], locale),
        _capacity(need, firm, w["capacity"], locale),
        _track_record(need, firm, w["track_record"], locale),
        _certification(firm, today, w["certification"], locale),
    )
    total_weight = sum(w[f] for f in FACTORS) or 1.0
    total = round(100 * sum(r.points for r in reasons) / total_weight, 1)
    return Score(total, reasons)


FAIR_MARGIN = 2.0  # points: matches closer than this count as equally good


def fair_order(scored: Iterable[tuple[str, float, int]], margin: float = FAIR_MARGIN) -> list[str]:
    """Rank (id, score, recent_exposure) best first, spreading opportunities.

    Scores are sorted descending and cut into runs that start at the best remaining score and
    hold every match within `margin` of it; inside a run, firms recommended or contracted less
    recently come first. A match is never placed above one that is better by more than `margin`.
    """
    ordered = sorted(scored, key=lambda item: (-item[1], item[0]))
    result: list[str] = []
    i = 0
    while i < len(ordered):
        anchor = ordered[i][1]
        j = i
        while j < len(ordered) and anchor - ordered[j][1] <= margin:
            j += 1
        run = sorted(ordered[i:j], key=lambda item: (item[2], -item[1], item[0]))
        result.extend(item[0] for item in run)
        i = j
    return result
