"""Which firm types count: a certified type only while its certification is in force.

`social_enterprise` (인증 사회적기업) needs a certification date on or after today; a
`pre_social_enterprise` (예비사회적기업) designation whose date has passed no longer counts
either (one without a date, which registration does not require, still does). Matching
(scoring, and its SQL first stage through directory.counts_as_any_sql) and the directory's
firm-type filter use these rules, so an
expired certification never earns the preferred-type points nor lists the firm under the type.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from service.registry.models import FirmType

SOCIAL = FirmType.SOCIAL_ENTERPRISE.value
PRELIMINARY = FirmType.PRE_SOCIAL_ENTERPRISE.value
CERTIFIED_TYPES = frozenset({SOCIAL, PRELIMINARY})


def counts_as(firm_type: str, firm_types: Iterable[str], certified_until: date | None, today: date) -> bool:
    """Whether a firm with these types and certification date counts as `firm_type` today."""
    if firm_type not in firm_types:
        return False
    if firm_type == SOCIAL:
        return certified_until is not None and certified_until >= today
    if firm_type == PRELIMINARY:
        return certified_until is None or certified_until >= today
    return True


def effective_firm_types(firm_types: Iterable[str], certified_until: date | None, today: date) -> list[str]:
    """The firm's types that count today (declared order kept)."""
    types = list(firm_types)
    return [t for t in types if counts_as(t, types, certified_until, today)]
