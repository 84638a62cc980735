"""Field rules for organization profiles, shared by registration, profile edits and bulk import."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    profile = _ProfileCheck(given, errors, prefix, partial)
    profile.check_name_and_place()
    profile.check_contacts()
    if kind == OrganizationKind.AGENCY:
        profile.check_agency()
        return profile.out
    profile.check_firm_identity()  # business number, firm types, social-enterprise certification
    profile.check_firm_categories(known_categories)
    profile.check_firm_figures()
    profile.check_firm_texts()
    return profile.out


@dataclass
class _ProfileCheck:
    """One profile being cleaned: the fields given, the cleaned fields so far (`out`) and the errors.
    Each check adds its errors in the order the fields appear on the form."""

    given: dict[str, Any]
    errors: FieldErrors
    prefix: str
    partial: bool
    out: dict[str, Any] = field(default_factory=dict)

    def fail(self, name: str, message: str) -> None:
        self.errors.add(self.prefix + name, message)

    def has(self, name: str, *, required: bool = False) -> bool:
        """Whether the field was given; a required one missing on creation is an error."""
        if required and not self.partial and name not in self.given:
            self.fail(name, "required")
        return name in self.given

    def check_name_and_place(self) -> None:
        if self.has("name", required=True):
            name = str(self.given["name"]).strip()
            if not 2 <= len(name) <= 200:
                self.fail("name", "must be 2 to 200 characters")
            self.out["name"] = name
        if self.has("district", required=True):
            district = self.given["district"]
            if district not in BY_CODE:
                self.fail("district", "unknown district code (one of Seoul's 25 districts or 'other')")
            self.out["district"] = district
            self.out["region_name"] = None
            if district == OTHER.code:
                region = (self.given.get("region_name") or "").strip()
                if not region:
                    self.fail("region_name", "required when district is 'other'")
                self.out["region_name"] = region or None

    def check_contacts(self) -> None:
        if self.has("phone"):
            phone = self.given["phone"].strip()
            if phone and not PHONE_RE.match(phone):
                self.fail("phone", "not a phone number")
            self.out["phone"] = phone or None
        if self.has("email"):
            email = self.given["email"].strip()
            if email and not EMAIL_RE.match(email):
                self.fail("email", "not an email address")
            self.out["email"] = email or None
        if len(self.out.get("region_name") or "") > 100:
            self.fail("region_name", "must be at most 100 characters")
        if len(self.out.get("email") or "") > 254:
            self.fail("email", "must be at most 254 characters")

    def check_agency(self) -> None:
        # Optional for an agency (its 고유번호 has the same checksum); bulk import requires it.
        if self.has("business_number"):
            _business_number(self.given["business_number"], self.prefix, self.errors, self.out)
        if self.has("agency_type", required=True):
            if self.given["agency_type"] not in {t.value for t in AgencyType}:
                self.fail("agency_type", f"must be one of {', '.join(t.value for t in AgencyType)}")
            self.out["agency_type"] = self.given["agency_type"]
        if self.has("annual_target_krw"):
            _krw(self.given["annual_target_krw"], self.prefix + "annual_target_krw", self.errors)
            self.out["annual_target_krw"] = self.given["annual_target_krw"]

    def check_firm_identity(self) -> None:
        if self.has("business_number", required=True):
            _business_number(self.given["business_number"], self.prefix, self.errors, self.out)
        if self.has("firm_types", required=True):
            types = list(dict.fromkeys(self.given["firm_types"]))
            if not types:
                self.fail("firm_types", "at least one firm type is required")
            valid = {t.value for t in FirmType}
            bad = [t for t in types if t not in valid]
            if bad:
                self.fail("firm_types", f"unknown firm type(s): {', '.join(bad)}")
            self.out["firm_types"] = types
        self.check_certification()

    def check_certification(self) -> None:
        if self.has("certification_number"):
            number = self.given["certification_number"].strip() or None
            self.out["certification_number"] = number
            if number and len(number) > 60:
                self.fail("certification_number", "must be at most 60 characters")
        if self.has("certified_until"):
            self.out["certified_until"] = self.given["certified_until"]
        if FirmType.SOCIAL_ENTERPRISE.value in self.out.get("firm_types", []) and not self.partial:
            for name in ("certification_number", "certified_until"):
                if not self.out.get(name):
                    self.fail(name, "required for a certified social enterprise")

    def check_firm_categories(self, known_categories: set[str] | None) -> None:
        if not self.has("category_codes", required=True):
            return
        codes = list(dict.fromkeys(self.given["category_codes"]))
        if not codes:
            self.fail("category_codes", "at least one category is required")
        unknown = [c for c in codes if known_categories is not None and c not in known_categories]
        if unknown:
            self.fail("category_codes", f"unknown category code(s): {', '.join(unknown)}")
        self.out["category_codes"] = codes

    def check_firm_figures(self) -> None:
        if self.has("capacity_krw"):
            _krw(self.given["capacity_krw"], self.prefix + "capacity_krw", self.errors)
            self.out["capacity_krw"] = self.given["capacity_krw"]
        if self.has("employees"):
            if not 0 <= self.given["employees"] <= 1_000_000:
                self.fail("employees", "must be between 0 and 1,000,000")
            self.out["employees"] = self.given["employees"]
        if self.has("vulnerable_employee_ratio"):
            ratio = self.given["vulnerable_employee_ratio"]
            if not 0 <= ratio <= 1:
                self.fail("vulnerable_employee_ratio", "must be between 0 and 1")
            self.out["vulnerable_employee_ratio"] = round(ratio, 3)

    def check_firm_texts(self) -> None:
        if self.has("description", required=True):
            description = self.given["description"].strip()
            if len(description) > 5000:
                self.fail("description", "must be at most 5,000 characters")
            self.out["description"] = description
        if self.has("keywords"):
            keywords = [k.strip() for k in self.given["keywords"] if k.strip()]
            if len(keywords) > 30 or any(len(k) > 60 for k in keywords):
                self.fail("keywords", "at most 30 keywords of up to 60 characters")
            self.out["keywords"] = keywords
        if self.has("website"):
            website = self.given["website"].strip()
            if website and not re.match(r"^https?://[^\s]+$", website):
                self.fail("website", "must start with http:// or https://")
            elif len(website) > 300:
                self.fail("website", "must be at most 300 characters")
            self.out["website"] = website or None


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
