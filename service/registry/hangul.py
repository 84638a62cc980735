"""Hangul syllables spelled out as letters (자모), for typo-tolerant directory search.

A one-letter slip in Korean changes a whole syllable ('나눔' → '나늠'), so syllable
trigrams of a short compound word share almost nothing with the right word. Spelled out
letter by letter ('ㄴㅏㆍㄴㅜㅁ' vs 'ㄴㅏㆍㄴㅡㅁ') they differ by one letter, and pg_trgm's
trigrams see the likeness. A syllable with no final consonant gets the filler 'ㆍ' so that
every syllable is three letters long and a letter's place in its syllable is kept.

The same spelling is computed in PostgreSQL by pm_jamo() (migration 3001) for the stored
`search_jamo` column; to_jamo() must agree with it letter for letter (tested).
"""

from __future__ import annotations

INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
NO_FINAL = "ㆍ"
FIRST, LAST = 0xAC00, 0xD7A3


def to_jamo(text: str) -> str:
    """Each Hangul syllable as initial + medial + final (or ㆍ); other characters unchanged."""
    out: list[str] = []
    for char in text:
        code = ord(char)
        if FIRST <= code <= LAST:
            index = code - FIRST
            final = index % 28
            out.append(INITIALS[index // 588] + MEDIALS[index % 588 // 28] + (FINALS[final - 1] if final else NO_FINAL))
        else:
            out.append(char)
    return "".join(out)
