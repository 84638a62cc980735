"""Mail contexts survive the trip through JSON with the types the templates format."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.notify.service import decode_context, encode_context, render_mail, render_stored

aware = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=9))]))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(),
    aware,
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False),
)
keys = st.text(min_size=1).filter(lambda k: not k.startswith("$"))
contexts = st.dictionaries(
    keys,
    st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3)),
    max_size=6,
)


@given(contexts)
def test_a_context_comes_back_equal_after_json(context):
    stored = json.loads(json.dumps(encode_context(context)))
    assert decode_context(stored) == context


def test_types_are_kept_not_stringified():
    moment = datetime(2026, 5, 20, 1, 0, tzinfo=UTC)
    back = decode_context(
        json.loads(json.dumps(encode_context({"a": moment, "d": date(2026, 1, 2), "m": Decimal("1.5")})))
    )
    assert back == {"a": moment, "d": date(2026, 1, 2), "m": Decimal("1.5")}
    assert isinstance(back["a"], datetime) and isinstance(back["m"], Decimal)
    assert encode_context({"id": uuid.UUID(int=1)}) == {"id": "00000000-0000-0000-0000-000000000001"}


@pytest.mark.parametrize("bad", [object(), datetime(2026, 1, 1), {1, 2}, {"$date": "2026-01-01"}])
def test_what_cannot_be_stored_fails_when_queued(bad):
    with pytest.raises(TypeError):
        encode_context({"x": bad})


def test_a_mail_rendered_later_reads_exactly_as_one_rendered_now():
    context = {
        "user_name": "담당자",
        "organization_name": "행복나눔 협동조합",
        "other_name": "은평구청",
        "fair_name": "2026 공공구매 온라인상담회",
        "starts_at": datetime(2026, 5, 20, 1, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 5, 20, 1, 30, tzinfo=UTC),
        "room_url": "https://meet.example/abc",
        "base_url": "http://127.0.0.1:8000",
    }
    stored = json.loads(json.dumps({"values": encode_context(context), "tz": "Asia/Seoul"}))
    for locale in ("ko", "en"):
        assert render_stored("meeting_booked", locale, stored) == render_mail("meeting_booked", locale, context)
