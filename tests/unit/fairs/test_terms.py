"""The fair's booking terms as a booking checks them, and the per-engine store that keeps them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import create_async_engine

from service.fairs.service import BookingRuleBroken
from service.fairs.terms import KEPT_PER_ENGINE, FairTerms, KeptTerms
from service.lib.errors import ValidationFailed

DAYS = [{"date": "2030-10-20", "start": "10:00", "end": "12:00", "breaks": []}]
OPENS = datetime(2030, 10, 1, tzinfo=UTC)
CLOSES = datetime(2030, 10, 10, tzinfo=UTC)
FIRST = datetime(2030, 10, 20, 1, 0, tzinfo=UTC)  # 10:00 in Seoul


def terms(mode: str = "first_come", days: object = DAYS) -> FairTerms:
    return FairTerms.from_row((mode, days, 30, OPENS, CLOSES, "1234"))


def test_the_row_may_give_the_days_as_json_text_or_decoded() -> None:
    assert terms(days=json.dumps(DAYS)).slots == terms().slots
    assert [s.starts_at for s in terms().slots.values()] == [FIRST + timedelta(minutes=30 * i) for i in range(4)]


@given(st.datetimes(min_value=datetime(2030, 9, 1), max_value=datetime(2030, 11, 1), timezones=st.just(UTC)))
def test_a_firm_books_only_inside_the_window(moment: datetime) -> None:
    outcome = terms().slot_for(FIRST, moment, on_behalf=False)
    if OPENS <= moment < CLOSES:
        assert outcome == terms().slots[FIRST]
    else:
        assert isinstance(outcome, BookingRuleBroken) and outcome.rule == "window"


@given(st.datetimes(min_value=datetime(2030, 9, 1), max_value=datetime(2030, 11, 1), timezones=st.just(UTC)))
def test_staff_on_behalf_are_bound_by_the_grid_only(moment: datetime) -> None:
    assert terms("requests").slot_for(FIRST, moment, on_behalf=True) == terms().slots[FIRST]


def test_a_request_fair_refuses_a_firm_and_a_start_off_the_grid_names_the_field() -> None:
    mode = terms("requests").slot_for(FIRST, OPENS, on_behalf=False)
    assert isinstance(mode, BookingRuleBroken) and mode.rule == "mode"
    off = terms().slot_for(FIRST + timedelta(minutes=10), OPENS, on_behalf=False)
    assert isinstance(off, ValidationFailed) and [e.field for e in off.errors] == ["start"]


def test_kept_terms_are_per_engine_bounded_and_forgotten() -> None:
    kept = KeptTerms()
    one, two = create_async_engine("postgresql+asyncpg://x/one"), create_async_engine("postgresql+asyncpg://x/two")
    fair = uuid.uuid4()
    kept.keep(one, fair, terms())
    assert kept.get(one, fair) == terms() and kept.get(two, fair) is None
    kept.forget(one, fair)
    assert kept.get(one, fair) is None
    fairs = [uuid.uuid4() for _ in range(KEPT_PER_ENGINE + 1)]
    for each in fairs:
        kept.keep(two, each, terms())
    still = [each for each in fairs if kept.get(two, each) is not None]
    assert fairs[-1] in still and len(still) <= KEPT_PER_ENGINE
