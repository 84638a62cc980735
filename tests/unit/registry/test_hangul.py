"""Hangul letter spelling for typo-tolerant search."""

from hypothesis import given
from hypothesis import strategies as st

from service.registry.hangul import to_jamo


def test_syllables_are_spelled_in_three_letters():
    assert to_jamo("나눔인쇄") == "ㄴㅏㆍㄴㅜㅁㅇㅣㄴㅅㅙㆍ"
    assert to_jamo("값 abc 1") == "ㄱㅏㅄ abc 1"


def test_a_one_letter_typo_is_one_letter_apart():
    right, typo = to_jamo("나눔인쇄"), to_jamo("나늠인쇄")
    assert len(right) == len(typo) and sum(a != b for a, b in zip(right, typo, strict=True)) == 1


@given(st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), max_size=20))
def test_every_syllable_becomes_three_letters(text):
    assert len(to_jamo(text)) == 3 * len(text)
    assert not any(0xAC00 <= ord(ch) <= 0xD7A3 for ch in to_jamo(text))  # no syllable left
