"""사업자등록번호 (business registration number): normalisation and the NTS checksum.

The check digit d10 satisfies: s = Σ dᵢ·wᵢ (i=1..9, w = 1,3,7,1,3,7,1,3,5) + ⌊d9·5/10⌋,
d10 = (10 − s mod 10) mod 10.
"""

from __future__ import annotations

WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


class InvalidBusinessNumber(ValueError):
    pass


def check_digit(body: str) -> int:
    """The check digit for a 9-digit body."""
    if len(body) != 9 or not body.isdigit():
        raise InvalidBusinessNumber("the body must be 9 digits")
    digits = [int(c) for c in body]
    total = sum(d * w for d, w in zip(digits, WEIGHTS, strict=True)) + (digits[8] * 5) // 10
    return (10 - total % 10) % 10


def normalize(raw: str) -> str:
    """Strip hyphens and spaces; return the 10 digits or raise InvalidBusinessNumber."""
    digits = "".join(ch for ch in raw if ch not in "- \t")
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise InvalidBusinessNumber("must be 10 digits (hyphens and spaces allowed)")
    if check_digit(digits[:9]) != int(digits[9]):
        raise InvalidBusinessNumber("the check digit does not match (국세청 checksum)")
    return digits


def is_valid(raw: str) -> bool:
    try:
        normalize(raw)
    except InvalidBusinessNumber:
        return False
    return True


def display(digits: str) -> str:
    """123-45-67890."""
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
