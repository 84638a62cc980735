"""Display names of the report groups in the interface language."""

from __future__ import annotations

from service.lib.i18n import gettext
from service.registry.districts import district_name
from service.registry.taxonomy import category_name

AGENCY_TYPES = {
    "seoul_city": ("서울시", "Seoul city"),
    "district_office": ("자치구", "District office"),
    "city_affiliate": ("투자·출연기관", "City affiliate"),
    "education": ("교육청·학교", "Education"),
    "central_government": ("중앙정부", "Central government"),
    "public_corporation": ("공기업", "Public corporation"),
    "other": ("기타", "Other"),
}
FIRM_TYPES = {
    "social_enterprise": ("사회적기업", "Social enterprise"),
    "pre_social_enterprise": ("예비사회적기업", "Pre-certified social enterprise"),
    "cooperative": ("협동조합", "Cooperative"),
    "social_cooperative": ("사회적협동조합", "Social cooperative"),
    "village_enterprise": ("마을기업", "Village enterprise"),
    "self_sufficiency": ("자활기업", "Self-sufficiency enterprise"),
    "social_venture": ("소셜벤처", "Social venture"),
}
CHANNELS = {
    "fair": ("상담회", "Consultation fair"),
    "daily_consultation": ("일상상담", "Everyday consultation"),
    "proposal": ("사업제안·정보제공", "Proposal / information"),
    "matching_contract": ("사회적가치 매칭계약", "Social-value matching contract"),
    "other": ("기타", "Other"),
}


def _pick(table: dict[str, tuple[str, str]], code: str, locale: str) -> str:
    names = table.get(code)
    if names is None:
        return code
    return names[0] if locale == "ko" else names[1]


def group_label(group_by: str, key: str | None, name: str | None, locale: str) -> str:
    """The label of a report row; `name` is what SQL found (fair, agency or firm name)."""
    if key is None:
        empty = {
            "fair": "Outside fairs",
            "category": "No category",
            "firm_type": "No firm type",
        }.get(group_by, "Unknown")
        return gettext(empty, locale)
    if group_by in ("fair", "agency", "firm"):
        return name or key
    if group_by == "agency_type":
        return _pick(AGENCY_TYPES, key, locale)
    if group_by == "firm_type":
        return _pick(FIRM_TYPES, key, locale)
    if group_by == "district":
        return district_name(key, locale)
    if group_by == "category":
        return category_name(key, locale)
    return key  # month: "2021-07"


def channel_label(code: str, locale: str) -> str:
    return _pick(CHANNELS, code, locale)


def agency_type_label(code: str, locale: str) -> str:
    return _pick(AGENCY_TYPES, code, locale)


def firm_type_label(code: str, locale: str) -> str:
    return _pick(FIRM_TYPES, code, locale)
