"""Display names of the report groups in the interface language."""

from __future__ import annotations

from service.lib.i18n import gettext
from service.lib.labels import pick_label
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
        return pick_label(AGENCY_TYPES, key, locale)
    if group_by == "firm_type":
        return pick_label(FIRM_TYPES, key, locale)
    if group_by == "district":
        return district_name(key, locale)
    if group_by == "category":
        return category_name(key, locale)
    return key  # month: "2021-07"


def agency_type_label(code: str, locale: str) -> str:
    return pick_label(AGENCY_TYPES, code, locale)


def firm_type_label(code: str, locale: str) -> str:
    return pick_label(FIRM_TYPES, code, locale)
