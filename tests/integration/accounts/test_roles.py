import uuid

import pytest
from sqlalchemy import select

from service.identity.models import AuditEvent
from service.identity.principal import Principal
from service.lib.errors import NotFound
from service.registry.service import OrganizationService
from tests.factories import agency_payload, create_staff, firm_payload, register, verify


class TestVerification:
    async def test_staff_verifies_and_rejects_with_reason(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        agency = await register(client, agency_payload())
        firm = await register(client, firm_payload())
        ok = await client.post(f"/api/v1/organizations/{agency.organization_id}/verify", headers=staff.headers)
        assert ok.status_code == 200 and ok.json()["status"] == "verified"
        no_reason = await client.post(
            f"/api/v1/organizations/{firm.organization_id}/reject", json={"reason": " "}, headers=staff.headers
        )
        assert no_reason.status_code == 422
        rejected = await client.post(
            f"/api/v1/organizations/{firm.organization_id}/reject",
            json={"reason": "사업자등록증 사본이 흐립니다"},
            headers=staff.headers,
        )
        assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
        me = (await client.get("/api/v1/me", headers=firm.headers)).json()
        assert me["organization"]["status_reason"] == "사업자등록증 사본이 흐립니다"
        async with sessionmaker() as session:
            actions = set((await session.scalars(select(AuditEvent.action))).all())
        assert {"organization.verify", "organization.reject"} <= actions

    async def test_firm_cannot_verify(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        firm = await register(client, firm_payload())
        await verify(client, staff, firm.organization_id)
        other = await register(client, agency_payload())
        response = await client.post(f"/api/v1/organizations/{other.organization_id}/verify", headers=firm.headers)
        assert response.status_code == 403

    async def test_anonymous_cannot_verify(self, client):
        other = await register(client, agency_payload())
        response = await client.post(f"/api/v1/organizations/{other.organization_id}/verify")
        assert response.status_code == 401

    async def test_verify_unknown_is_404(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        response = await client.post(
            "/api/v1/organizations/00000000-0000-0000-0000-000000000000/verify", headers=staff.headers
        )
        assert response.status_code == 404


class TestOwnership:
    async def test_agency_edits_own_profile_even_unverified(self, client):
        agency = await register(client, agency_payload())
        response = await client.patch(
            f"/api/v1/agencies/{agency.organization_id}", json={"phone": "02-123-4567"}, headers=agency.headers
        )
        assert response.status_code == 200
        assert response.json()["phone"] == "02-123-4567"

    async def test_agency_cannot_edit_another_agency(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        a = await register(client, agency_payload())
        b = await register(client, agency_payload())
        await verify(client, staff, a.organization_id)
        response = await client.patch(
            f"/api/v1/agencies/{b.organization_id}", json={"name": "빼앗긴 이름"}, headers=a.headers
        )
        assert response.status_code == 404

    async def test_unverified_cannot_look_at_others(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        firm = await register(client, firm_payload())
        await verify(client, staff, firm.organization_id)
        pending_agency = await register(client, agency_payload())
        response = await client.get(f"/api/v1/firms/{firm.organization_id}", headers=pending_agency.headers)
        assert response.status_code == 403
        assert "verification" in response.json()["detail"]

    async def test_profile_change_is_audited_old_to_new(self, client, sessionmaker):
        agency = await register(client, agency_payload(name="옛이름구청"))
        await client.patch(
            f"/api/v1/agencies/{agency.organization_id}", json={"name": "새이름구청"}, headers=agency.headers
        )
        async with sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.update"))
        assert event is not None
        assert event.changes == {"name": {"old": "옛이름구청", "new": "새이름구청"}}
        assert str(event.actor_id) == agency.user_id

    async def test_bad_patch_writes_nothing(self, client):
        agency = await register(client, agency_payload())
        response = await client.patch(
            f"/api/v1/agencies/{agency.organization_id}",
            json={"name": "좋은 이름", "district": "atlantis"},
            headers=agency.headers,
        )
        assert response.status_code == 422
        me = (await client.get("/api/v1/me", headers=agency.headers)).json()
        assert me["organization"]["name"] != "좋은 이름"


class TestUnknownStatusAction:
    async def test_unknown_action_is_404_and_changes_nothing(self, client, sessionmaker, settings):
        """The list of status actions lives in the registry service; anything else is 404, not a 500."""
        staff = await create_staff(client, sessionmaker, settings)
        agency = await register(client, agency_payload())
        actor = Principal(
            uuid.UUID(staff.user_id), staff.email, "s", "staff", None, None, None, None, "ko", uuid.uuid4()
        )
        async with sessionmaker() as session:
            service = OrganizationService(session)
            org = await service.get(uuid.UUID(agency.organization_id))
            with pytest.raises(NotFound):
                await service.change_status(actor, org, "delete")
        me = (await client.get("/api/v1/me", headers=agency.headers)).json()
        assert me["organization"]["status"] == "pending"
