"""Contracts: reporting, confirmation by the other party, corrections with history, rules."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.contracts.events import ContractReported
from service.fairs.models import MeetingStatus
from service.identity.models import AuditEvent
from service.lib.events import subscribe, unsubscribe
from tests.factories import agency_payload, create_staff, register, verified_agency, verified_firm
from tests.factories_contracts import confirmed_contract, contract_payload, make_fair, make_meeting, report_contract

Client = AsyncTestClient[Litestar]
Maker = async_sessionmaker[AsyncSession]


async def _parties(client: Client, sessionmaker: Maker, settings: Settings) -> tuple[Any, Any, Any]:
    staff = await create_staff(client, sessionmaker, settings)
    return staff, await verified_agency(client, staff), await verified_firm(client, staff)


class TestReport:
    async def test_firm_reports_and_agency_confirms(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        body = await report_contract(client, firm, agency, firm)
        assert body["status"] == "reported"
        assert body["reported_side"] == "firm"
        assert body["channel"] == "other" and body["linked"] is False
        # the reporter cannot confirm its own report
        own = await client.post(f"/api/v1/contracts/{body['id']}/confirm", headers=firm.headers)
        assert own.status_code == 403
        ok = await client.post(f"/api/v1/contracts/{body['id']}/confirm", headers=agency.headers)
        assert ok.status_code == 200
        assert ok.json()["status"] == "confirmed"
        again = await client.post(f"/api/v1/contracts/{body['id']}/confirm", headers=agency.headers)
        assert again.status_code == 409

    async def test_staff_confirms_and_leaves_an_audit_row(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff, agency, firm = await _parties(client, sessionmaker, settings)
        body = await report_contract(client, agency, agency, firm)
        ok = await client.post(f"/api/v1/contracts/{body['id']}/confirm", headers=staff.headers)
        assert ok.status_code == 200
        async with sessionmaker() as session:
            actions = list(await session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "contract")))
        assert actions == ["contract.confirm"]

    async def test_publishes_contract_reported(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        seen: list[tuple[str, str]] = []

        @subscribe(ContractReported)
        async def remember(session: AsyncSession, event: ContractReported, settings: Settings) -> None:
            seen.append((str(event.contract.id), event.actor.email))

        try:
            _, agency, firm = await _parties(client, sessionmaker, settings)
            body = await report_contract(client, firm, agency, firm)
        finally:
            unsubscribe(ContractReported, remember)  # do not leak into later tests
        assert (body["id"], firm.email) in seen

    async def test_outsiders_cannot_report_or_see(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff, agency, firm = await _parties(client, sessionmaker, settings)
        other_firm = await verified_firm(client, staff)
        response = await client.post(
            "/api/v1/contracts", json=contract_payload(agency, firm), headers=other_firm.headers
        )
        assert response.status_code == 403
        body = await report_contract(client, firm, agency, firm)
        hidden = await client.get(f"/api/v1/contracts/{body['id']}", headers=other_firm.headers)
        assert hidden.status_code == 404
        confirm = await client.post(f"/api/v1/contracts/{body['id']}/confirm", headers=other_firm.headers)
        assert confirm.status_code == 404
        listed = await client.get("/api/v1/contracts", headers=other_firm.headers)
        assert listed.json()["total"] == 0
        assert (await client.get("/api/v1/contracts", headers=agency.headers)).json()["total"] == 1
        anonymous = await client.get("/api/v1/contracts")
        assert anonymous.status_code == 401

    async def test_unverified_organization_is_refused(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        _, _, firm = await _parties(client, sessionmaker, settings)
        pending = await register(client, agency_payload())
        response = await client.post("/api/v1/contracts", json=contract_payload(pending, firm), headers=pending.headers)
        assert response.status_code == 403

    async def test_bad_fields_are_all_reported(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        payload = contract_payload(
            agency,
            firm,
            amount_krw=10**13 + 1,
            contract_date="2999-01-01",
            title=" ",
            category_code="NOPE",
            channel="barter",
        )
        response = await client.post("/api/v1/contracts", json=payload, headers=firm.headers)
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"amount_krw", "contract_date", "title", "category_code", "channel"}
        for amount in (0, -5):
            bad = await client.post(
                "/api/v1/contracts", json=contract_payload(agency, firm, amount_krw=amount), headers=firm.headers
            )
            assert bad.status_code == 422
        top = await client.post(
            "/api/v1/contracts", json=contract_payload(agency, firm, amount_krw=10**13), headers=firm.headers
        )
        assert top.status_code == 201

    async def test_swapped_parties_are_rejected(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        staff, agency, firm = await _parties(client, sessionmaker, settings)
        payload = contract_payload(agency, firm, agency_id=firm.organization_id, firm_id=agency.organization_id)
        response = await client.post("/api/v1/contracts", json=payload, headers=staff.headers)
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"agency_id", "firm_id"}


class TestMeetingLink:
    async def test_meeting_makes_linked_fair_sales(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        fair_id = await make_fair(sessionmaker)
        meeting_id = await make_meeting(sessionmaker, agency, firm, fair_id=fair_id)
        body = await report_contract(client, agency, agency, firm, meeting_id=str(meeting_id))
        assert body["linked"] is True
        assert body["fair_id"] == str(fair_id)
        assert body["channel"] == "fair"

    async def test_meeting_of_other_parties_is_rejected(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff, agency, firm = await _parties(client, sessionmaker, settings)
        other_firm = await verified_firm(client, staff)
        meeting_id = await make_meeting(sessionmaker, agency, other_firm)
        response = await client.post(
            "/api/v1/contracts", json=contract_payload(agency, firm, meeting_id=str(meeting_id)), headers=staff.headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "meeting_id"

    async def test_cancelled_meeting_and_date_before_meeting(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        cancelled = await make_meeting(sessionmaker, agency, firm, status=MeetingStatus.CANCELLED)
        response = await client.post(
            "/api/v1/contracts", json=contract_payload(agency, firm, meeting_id=str(cancelled)), headers=firm.headers
        )
        assert response.status_code == 422
        held = await make_meeting(sessionmaker, agency, firm)
        early = await client.post(
            "/api/v1/contracts",
            json=contract_payload(agency, firm, meeting_id=str(held), contract_date="2021-06-01"),
            headers=firm.headers,
        )
        assert early.status_code == 422
        assert early.json()["errors"][0]["field"] == "contract_date"

    async def test_fair_channel_needs_a_meeting(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        response = await client.post(
            "/api/v1/contracts", json=contract_payload(agency, firm, channel="fair"), headers=firm.headers
        )
        assert response.status_code == 422


class TestCorrection:
    async def test_change_of_confirmed_contract_returns_to_reported_with_history(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        body = await confirmed_contract(client, agency, firm)
        assert body["status"] == "confirmed"
        patched = await client.patch(
            f"/api/v1/contracts/{body['id']}", json={"amount_krw": 15_000_000}, headers=firm.headers
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["status"] == "reported"
        assert patched.json()["amount_krw"] == 15_000_000
        assert patched.json()["confirmed_at"] is None
        history = (await client.get(f"/api/v1/contracts/{body['id']}/revisions", headers=agency.headers)).json()
        assert [h["action"] for h in history] == ["reported", "confirmed", "corrected"]
        assert history[2]["changes"]["amount_krw"] == {"old": 12_000_000, "new": 15_000_000}
        assert history[2]["changes"]["status"] == {"old": "confirmed", "new": "reported"}
        assert history[2]["actor_side"] == "firm"
        # the firm corrected it, so the agency confirms again
        assert (await client.post(f"/api/v1/contracts/{body['id']}/confirm", headers=firm.headers)).status_code == 403
        assert (await client.post(f"/api/v1/contracts/{body['id']}/confirm", headers=agency.headers)).status_code == 200

    async def test_no_change_keeps_confirmation(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        body = await confirmed_contract(client, agency, firm)
        same = await client.patch(
            f"/api/v1/contracts/{body['id']}", json={"title": body["title"]}, headers=firm.headers
        )
        assert same.json()["status"] == "confirmed"

    async def test_invalid_correction_changes_nothing(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        body = await confirmed_contract(client, agency, firm)
        bad = await client.patch(f"/api/v1/contracts/{body['id']}", json={"amount_krw": 0}, headers=agency.headers)
        assert bad.status_code == 422
        after = (await client.get(f"/api/v1/contracts/{body['id']}", headers=agency.headers)).json()
        assert after["status"] == "confirmed" and after["amount_krw"] == 12_000_000

    async def test_unlinking_a_meeting(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        _, agency, firm = await _parties(client, sessionmaker, settings)
        fair_id = await make_fair(sessionmaker)
        meeting_id = await make_meeting(sessionmaker, agency, firm, fair_id=fair_id)
        body = await report_contract(client, agency, agency, firm, meeting_id=str(meeting_id))
        patched = await client.patch(f"/api/v1/contracts/{body['id']}", json={"meeting_id": None}, headers=firm.headers)
        assert patched.status_code == 200, patched.text
        assert patched.json()["linked"] is False and patched.json()["fair_id"] is None
        assert patched.json()["channel"] == "other"


class TestConfirmedTotals:
    async def test_firm_totals_count_confirmed_only(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        import uuid

        from service.contracts.service import ContractService

        _, agency, firm = await _parties(client, sessionmaker, settings)
        await confirmed_contract(client, agency, firm, amount_krw=1_000)
        await confirmed_contract(client, agency, firm, amount_krw=2_500)
        await report_contract(client, firm, agency, firm, amount_krw=9_999)
        async with sessionmaker() as session:
            totals = await ContractService(session).firm_confirmed_totals(uuid.UUID(firm.organization_id))
        assert (totals.contracts, totals.amount_krw) == (2, 3_500)
