"""Who sees an organization's contact details and held changes (registry/service.py predicates)."""

from __future__ import annotations

import uuid

from service.identity.principal import Principal
from service.registry.models import Organization, OrganizationKind
from service.registry.service import can_see_contact, manages, shows_contact


def caller(role: str, org_id: uuid.UUID | None = None, status: str | None = "verified") -> Principal:
    return Principal(
        user_id=uuid.uuid4(),
        email="x@example.kr",
        name="x",
        role=role,
        organization_id=org_id,
        organization_kind=None if role == "staff" else role,
        organization_status=None if role == "staff" else status,
        organization_name="x",
        locale="ko",
        token_id=uuid.uuid4(),
    )


def organization(kind: OrganizationKind) -> Organization:
    return Organization(id=uuid.uuid4(), kind=kind, name="x")


class TestContact:
    def test_staff_the_firm_itself_and_verified_agencies_see_a_firms_contact(self) -> None:
        firm = organization(OrganizationKind.FIRM)
        assert can_see_contact(caller("staff"), firm.id)
        assert can_see_contact(caller("firm", firm.id), firm.id)
        assert can_see_contact(caller("agency", uuid.uuid4()), firm.id)

    def test_other_firms_and_unverified_agencies_do_not(self) -> None:
        firm = organization(OrganizationKind.FIRM)
        assert not can_see_contact(caller("firm", uuid.uuid4()), firm.id)
        assert not can_see_contact(caller("agency", uuid.uuid4(), status="pending"), firm.id)
        assert not shows_contact(caller("firm", uuid.uuid4()), firm)

    def test_an_agencys_contact_shows_to_every_viewer_of_its_profile(self) -> None:
        agency = organization(OrganizationKind.AGENCY)
        assert shows_contact(caller("firm", uuid.uuid4()), agency)
        assert shows_contact(caller("agency", uuid.uuid4(), status="pending"), agency)


class TestManages:
    def test_staff_and_members_manage_an_organization(self) -> None:
        org_id = uuid.uuid4()
        assert manages(caller("staff"), org_id)
        assert manages(caller("firm", org_id, status="pending"), org_id)

    def test_members_of_other_organizations_do_not(self) -> None:
        assert not manages(caller("agency", uuid.uuid4()), uuid.uuid4())
