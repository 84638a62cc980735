"""The pure matching score: bounds, monotonicity, reasons, and the fair-exposure rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from service.matching.scoring import DEFAULT_WEIGHTS, FAIR_MARGIN, FirmFacts, NeedFacts, bigrams, fair_order, score
from service.registry.districts import BY_CODE
from service.registry.models import FirmType
from service.registry.taxonomy import LEAVES

TODAY = date(2026, 11, 28)
leaf_codes = st.sampled_from([c.code for c in LEAVES])
districts = st.sampled_from(list(BY_CODE))
types = st.lists(st.sampled_from([t.value for t in FirmType]), min_size=1, max_size=3, unique=True)
words = st.text(alphabet="방역소독청소인쇄도시락행사교육 ", max_size=30)

needs = st.builds(
    NeedFacts,
    title=words,
    description=words,
    category_codes=st.lists(leaf_codes, min_size=1, max_size=3, unique=True).map(tuple),
    budget_krw=st.integers(1, 10**10),
    delivery_district=st.none() | districts,
    preferred_firm_types=st.lists(st.sampled_from([t.value for t in FirmType]), max_size=2, unique=True).map(tuple),
)
firms = st.builds(
    FirmFacts,
    name=words,
    description=words,
    keywords=st.lists(words, max_size=3).map(tuple),
    category_codes=st.lists(leaf_codes, min_size=1, max_size=3, unique=True).map(tuple),
    district=districts,
    firm_types=types.map(tuple),
    capacity_krw=st.none() | st.integers(0, 10**10),
    confirmed_contracts=st.integers(0, 500),
    certified_until=st.none() | st.dates(date(2020, 1, 1), date(2030, 12, 31)),
)


class TestScore:
    @given(needs, firms)
    def test_between_0_and_100_with_a_reason_per_factor(self, need, firm):
        result = score(need, firm, TODAY)
        assert 0 <= result.total <= 100
        assert [r.factor for r in result.reasons] == list(DEFAULT_WEIGHTS)
        for reason in result.reasons:
            assert 0 <= reason.points <= DEFAULT_WEIGHTS[reason.factor]
            assert reason.detail

    @given(needs, firms)
    def test_better_category_fit_never_lowers_the_score(self, need, firm):
        # Same firm, all else equal: no match < same group < same leaf.
        leaf = need.category_codes[0]
        other_group = next(c.code for c in LEAVES if c.code.split("-")[0] != leaf.split("-")[0])
        same_group = next((c.code for c in LEAVES if c.parent_code == leaf.split("-")[0] and c.code != leaf), leaf)
        need_one = replace(need, category_codes=(leaf,))
        none = score(need_one, replace(firm, category_codes=(other_group,)), TODAY).total
        group = score(need_one, replace(firm, category_codes=(same_group,)), TODAY).total
        exact = score(need_one, replace(firm, category_codes=(leaf,)), TODAY).total
        assert none <= group <= exact

    @given(needs, firms, st.integers(0, 400))
    def test_track_record_has_diminishing_returns(self, need, firm, n):
        points = [score(need, replace(firm, confirmed_contracts=k), TODAY).reasons[5].points for k in (n, n + 1, n + 2)]
        assert points[0] <= points[1] <= points[2]
        assert points[2] - points[1] <= points[1] - points[0] + 1e-9

    def test_reasons_in_the_callers_language(self):
        need = NeedFacts("청사 방역", "구청 청사 방역 소독", ("CLN-DIS",), 30_000_000, "eunpyeong", ())
        firm = FirmFacts(
            "은평클린",
            "방역 소독 전문",
            (),
            ("CLN-DIS",),
            "eunpyeong",
            ("social_enterprise",),
            100_000_000,
            3,
            date(2030, 1, 1),
        )
        ko = score(need, firm, TODAY, locale="ko")
        en = score(need, firm, TODAY, locale="en")
        assert ko.reasons[0].detail == "세부품목 일치: 방역·소독"
        assert en.reasons[0].detail == "Same category: Disinfection and pest control"
        assert "은평구" in ko.reasons[2].detail

    def test_expired_certification_is_not_treated_as_certified(self):
        need = NeedFacts("방역", "", ("CLN-DIS",), 1, None, ())
        firm = FirmFacts("x", "", (), ("CLN-DIS",), "mapo", ("social_enterprise",), None, 0, date(2025, 1, 1))
        assert score(need, firm, TODAY).reasons[6].points == 0


class TestFairExposure:
    @given(st.lists(st.tuples(st.floats(0, 100), st.integers(0, 50)), max_size=30))
    def test_never_lifts_a_clearly_worse_match_above_a_better_one(self, items):
        scored = [(f"f{i}", s, e) for i, (s, e) in enumerate(items)]
        order = fair_order(scored)
        by_id = {fid: s for fid, s, _ in scored}
        assert sorted(order) == sorted(fid for fid, _, _ in scored)
        for i, upper in enumerate(order):
            for lower in order[i + 1 :]:
                assert by_id[lower] - by_id[upper] <= FAIR_MARGIN

    def test_near_equal_matches_prefer_less_exposed_firms(self):
        order = fair_order([("busy", 80.0, 30), ("new", 79.0, 0), ("weak", 60.0, 0)])
        assert order == ["new", "busy", "weak"]


def _reference_bigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for raw in text.lower().split():
        word = "".join(ch for ch in raw if ch.isalnum())
        if len(word) == 1:
            grams.add(word)
        grams.update(word[i : i + 2] for i in range(len(word) - 1))
    return grams


@given(st.text(alphabet=st.sampled_from(list("청소방역 도시락/·-_, abcAB12\t\n()")) | st.characters(), max_size=60))
def test_fast_bigrams_equal_the_plain_definition(text):
    assert bigrams(text) == _reference_bigrams(text)


class TestExpiredCertification:
    """Only a certification in force makes a firm count as a (preliminary) social enterprise."""

    NEED = NeedFacts("청소 용역", "", ("CLN-DIS",), 1_000_000, None, ("social_enterprise",))
    FIRM = FirmFacts("푸른청소", "", (), ("CLN-DIS",), "mapo", ("social_enterprise",), None, 0, date(2027, 1, 1))

    @staticmethod
    def points(need: NeedFacts, firm: FirmFacts) -> float:
        return next(r.points for r in score(need, firm, TODAY).reasons if r.factor == "firm_type")

    def test_a_valid_certification_earns_the_preferred_type(self):
        assert self.points(self.NEED, self.FIRM) == DEFAULT_WEIGHTS["firm_type"]

    def test_an_expired_certification_earns_nothing(self):
        expired = replace(self.FIRM, certified_until=date(2026, 11, 27))
        assert self.points(self.NEED, expired) == 0
        assert self.points(self.NEED, replace(self.FIRM, certified_until=None)) == 0

    def test_an_expired_preliminary_designation_earns_nothing(self):
        need = replace(self.NEED, preferred_firm_types=("pre_social_enterprise",))
        firm = replace(self.FIRM, firm_types=("pre_social_enterprise",), certified_until=date(2026, 1, 1))
        assert self.points(need, firm) == 0
        assert self.points(need, replace(firm, certified_until=date(2026, 11, 28))) == DEFAULT_WEIGHTS["firm_type"]

    def test_another_preferred_type_still_counts(self):
        need = replace(self.NEED, preferred_firm_types=("social_enterprise", "cooperative"))
        firm = replace(self.FIRM, firm_types=("social_enterprise", "cooperative"), certified_until=date(2020, 1, 1))
        assert self.points(need, firm) == DEFAULT_WEIGHTS["firm_type"]
