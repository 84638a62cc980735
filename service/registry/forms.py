"""Organization profile forms (HTML) → the same OrganizationIn the API takes."""

from __future__ import annotations

from service.lib.pages import FormReader
from service.registry.schemas import OrganizationIn


def organization_from_form(reader: FormReader, kind: str) -> OrganizationIn:
    keywords = reader.text("keywords")
    data = OrganizationIn(
        name=reader.text("name"),
        district=reader.text("district"),
        region_name=reader.text("region_name"),
        phone=reader.text("phone"),
        email=reader.text("email"),
    )
    if kind == "agency":
        data.agency_type = reader.text("agency_type")
        data.annual_target_krw = reader.integer("annual_target_krw")
        return data
    data.business_number = reader.text("business_number")
    data.firm_types = reader.many("firm_types")
    data.certification_number = reader.text("certification_number")
    data.certified_until = reader.day("certified_until")
    codes = reader.many("category_codes")
    data.category_codes = [c.strip() for v in codes for c in v.split(",") if c.strip()] if codes else None
    data.capacity_krw = reader.integer("capacity_krw")
    data.employees = reader.integer("employees")
    data.vulnerable_employee_ratio = reader.decimal("vulnerable_employee_ratio")
    data.description = reader.text("description")
    data.keywords = [k.strip() for k in keywords.split(",")] if keywords else None
    data.website = reader.text("website")
    return data
