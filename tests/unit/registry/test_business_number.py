"""사업자등록번호 checksum: known numbers and the one-valid-check-digit property."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.registry import business_number


@pytest.mark.parametrize("raw", ["123-45-67891", "1234567891", " 220-81-62517 "])
def test_known_valid(raw):
    assert business_number.is_valid(raw)


@pytest.mark.parametrize("raw", ["123-45-67890", "220-81-62518", "12345678", "abc-de-fghij", "１２３４５６７８９１"])
def test_known_invalid(raw):
    assert not business_number.is_valid(raw)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_check_digit_is_valid_for_any_body(body):
    valid = [d for d in range(10) if business_number.is_valid(body + str(d))]
    assert valid == [business_number.check_digit(body)]


def test_display_round_trips():
    assert business_number.display(business_number.normalize("123 45 67891")) == "123-45-67891"
