"""JSON API of the registry: organization status (staff), firm and agency profiles."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.principal import Principal, require_principal, require_staff
from service.accounts.schemas import RejectIn
from service.lib.clock import today
from service.registry.models import OrganizationKind
from service.registry.schemas import OrganizationIn, OrganizationOut, organization_out
from service.registry.service import OrganizationService


def can_see_contact(viewer: Principal, organization_id: uuid.UUID) -> bool:
    """Contact details of a firm: only for verified agencies, staff and the firm itself."""
    return viewer.is_staff or viewer.owns(organization_id) or (viewer.is_agency and viewer.is_verified)


class OrganizationStatusController(Controller):
    path = "/api/v1/organizations"
    tags = ["registry"]

    @post("/{organization_id:uuid}/verify", status_code=200)
    async def verify_organization(
        self,
        organization_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Staff: mark an organization verified."""
        staff = require_staff(principal)
        service = OrganizationService(db_session)
        org = await service.change_status(staff, await service.get(organization_id), "verify")
        return organization_out(org, today=today())

    @post("/{organization_id:uuid}/reject", status_code=200)
    async def reject_organization(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[RejectIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Staff: reject an organization, with the reason its users will see."""
        staff = require_staff(principal)
        service = OrganizationService(db_session)
        org = await service.change_status(staff, await service.get(organization_id), "reject", data.reason)
        return organization_out(org, today=today())


class ProfileController(Controller):
    path = "/api/v1"
    tags = ["registry"]

    @get("/firms/{organization_id:uuid}")
    async def get_firm(
        self,
        organization_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """A firm's profile; contact details only for verified agencies and staff."""
        return await _get_profile(db_session, require_principal(principal), organization_id, OrganizationKind.FIRM)

    @get("/agencies/{organization_id:uuid}")
    async def get_agency(
        self,
        organization_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """An agency's profile."""
        return await _get_profile(db_session, require_principal(principal), organization_id, OrganizationKind.AGENCY)

    @patch("/firms/{organization_id:uuid}")
    async def update_firm(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Edit a firm's profile: its own users or staff. Every change is audited."""
        return await _update_profile(db_session, principal, organization_id, OrganizationKind.FIRM, data)

    @patch("/agencies/{organization_id:uuid}")
    async def update_agency(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationIn],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganizationOut:
        """Edit an agency's profile: its own users or staff. Every change is audited."""
        return await _update_profile(db_session, principal, organization_id, OrganizationKind.AGENCY, data)


async def _get_profile(
    session: AsyncSession, viewer: Principal, organization_id: uuid.UUID, kind: OrganizationKind
) -> OrganizationOut:
    org = await OrganizationService(session).get(organization_id, kind)
    own = viewer.is_staff or viewer.owns(org.id)
    if not own:
        viewer.require_verified()
        if not org.is_verified:
            from service.lib.errors import NotFound

            raise NotFound("No such organization.")
    return organization_out(org, today=today(), show_contact=can_see_contact(viewer, org.id) or kind == "agency")


async def _update_profile(
    session: AsyncSession,
    principal: Principal | None,
    organization_id: uuid.UUID,
    kind: OrganizationKind,
    data: OrganizationIn,
) -> OrganizationOut:
    caller = require_principal(principal)
    service = OrganizationService(session)
    org = await service.update_profile(caller, await service.get(organization_id, kind), data)
    return organization_out(org, today=today())


ROUTES = [OrganizationStatusController, ProfileController]
