"""Field rules for organization profiles, shared by registration, profile edits and bulk import."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from service.lib.errors import FieldErrors
from service.registry import business_number
from service.registry.districts import BY_CODE, OTHER
from service.registry.models import AgencyType, FirmType, OrganizationKind
from service.registry.schemas import OrganizationIn

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9+()\- ]{7,20}$")
MAX_KRW = 10**13


def clean_profile(
    kind: OrganizationKind,
    data: OrganizationIn,
    errors: FieldErrors,
    *,
    prefix: str = "organization.",
    partial: bool = False,
    known_categories: set[str] | None = None,
) -> dict[str, Any]:
    """Validate and normalise profile fields. Returns only the fields that were given.

    With partial=False (creation) the required fields of the kind must be present.
    """
    given = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not None}
    out: dict[str, Any] = {}

    def need(field: str) -> None:
        if not partial and field not in given:
            errors.add(prefix + field, "required")

    need("name")
    if "name" in given:
        name = str(given["name"]).strip()
        if not 2 <= len(name) <= 200:
            errors.add(prefix + "name", "must be 2 to 200 characters")
        out["name"] = name

    need("district")
    if "district" in given:
        district = given["district"]
        if district not in BY_CODE:
            errors.add(prefix + "district", "unknown district code (one of Seoul's 25 자치구 or 'other')")
        out["district"] = district
        if district == OTHER.code:
            region = (given.get("region_name") or "").strip()
            if not region:
                errors.add(prefix + "region_name", "required when district is 'other'")
            out["region_name"] = region or None
        else:
            out["region_name"] = None

    if "phone" in given:
        phone = given["phone"].strip()
        if phone and not PHONE_RE.match(phone):
            errors.add(prefix + "phone", "not a phone number")
        out["phone"] = phone or None
    if "email" in given:
        email = given["email"].strip()
        if email and not EMAIL_RE.match(email):
            errors.add(prefix + "email", "not an email address")
        out["email"] = email or None

    if "region_name" in out and out["region_name"] and len(out["region_name"]) > 100:
        errors.add(prefix + "region_name", "must be at most 100 characters")
    if out.get("email") and len(out["email"]) > 254:
        errors.add(prefix + "email", "must be at most 254 characters")

    if kind == OrganizationKind.AGENCY:
        # Optional for an agency (its 고유번호 has the same checksum); bulk import requires it.
        if "business_number" in given:
            _business_number(given["business_number"], prefix, errors, out)
        need("agency_type")
        if "agency_type" in given:
            if given["agency_type"] not in {t.value for t in AgencyType}:
                errors.add(prefix + "agency_type", f"must be one of {', '.join(t.value for t in AgencyType)}")
            out["agency_type"] = given["agency_type"]
        if "annual_target_krw" in given:
            _krw(given["annual_target_krw"], prefix + "annual_target_krw", errors)
            out["annual_target_krw"] = given["annual_target_krw"]
        return out

    need("business_number")
    if "business_number" in given:
        _business_number(given["business_number"], prefix, errors, out)
    need("firm_types")
    if "firm_types" in given:
        types = list(dict.fromkeys(given["firm_types"]))
        valid = {t.value for t in FirmType}
        if not types:
            errors.add(prefix + "firm_types", "at least one firm type is required")
        bad = [t for t in types if t not in valid]
        if bad:
            errors.add(prefix + "firm_types", f"unknown firm type(s): {', '.join(bad)}")
        out["firm_types"] = types
    types_now = out.get("firm_types", [])
    if "certification_number" in given:
        out["certification_number"] = given["certification_number"].strip() or None
        if out["certification_number"] and len(out["certification_number"]) > 60:
            errors.add(prefix + "certification_number", "must be at most 60 characters")
    if "certified_until" in given:
        out["certified_until"] = given["certified_until"]
    if FirmType.SOCIAL_ENTERPRISE.value in types_now:
        if not out.get("certification_number") and not partial:
            errors.add(prefix + "certification_number", "required for a certified social enterprise")
        if not out.get("certified_until") and not partial:
            errors.add(prefix + "certified_until", "required for a certified social enterprise")
    need("category_codes")
    if "category_codes" in given:
        codes = list(dict.fromkeys(given["category_codes"]))
        if not codes:
            errors.add(prefix + "category_codes", "at least one category is required")
        if known_categories is not None:
            unknown = [c for c in codes if c not in known_categories]
            if unknown:
                errors.add(prefix + "category_codes", f"unknown category code(s): {', '.join(unknown)}")
        out["category_codes"] = codes
    for field in ("capacity_krw",):
        if field in given:
            _krw(given[field], prefix + field, errors)
            out[field] = given[field]
    if "employees" in given:
        if not 0 <= given["employees"] <= 1_000_000:
            errors.add(prefix + "employees", "must be between 0 and 1,000,000")
        out["employees"] = given["employees"]
    if "vulnerable_employee_ratio" in given:
        ratio = given["vulnerable_employee_ratio"]
        if not 0 <= ratio <= 1:
            errors.add(prefix + "vulnerable_employee_ratio", "must be between 0 and 1")
        out["vulnerable_employee_ratio"] = round(ratio, 3)
    need("description")
    if "description" in given:
        description = given["description"].strip()
        if len(description) > 5000:
            errors.add(prefix + "description", "must be at most 5,000 characters")
        out["description"] = description
    if "keywords" in given:
        keywords = [k.strip() for k in given["keywords"] if k.strip()]
        if len(keywords) > 30 or any(len(k) > 60 for k in keywords):
            errors.add(prefix + "keywords", "at most 30 keywords of up to 60 characters")
        out["keywords"] = keywords
    if "website" in given:
        website = given["website"].strip()
        if website and not re.match(r"^https?://[^\s]+$", website):
            errors.add(prefix + "website", "must start with http:// or https://")
        elif len(website) > 300:
            errors.add(prefix + "website", "must be at most 300 characters")
        out["website"] = website or None
    return out


def _business_number(raw: object, prefix: str, errors: FieldErrors, out: dict[str, Any]) -> None:
    try:
        out["business_number"] = business_number.normalize(str(raw))
    except business_number.InvalidBusinessNumber as exc:
        errors.add(prefix + "business_number", str(exc))


def _krw(value: int, field: str, errors: FieldErrors) -> None:
    if not 0 <= value <= MAX_KRW:
        errors.add(field, "must be between 0 and 10,000,000,000,000 원")


def is_certification_expired(certified_until: date | None, today: date) -> bool:
    return certified_until is not None and certified_until < today
