"""Every mail links to the exact item it is about (the meeting's agenda, the request inbox, the contract,
the need, the contract form for a meeting), under BASE_URL, in its body and its footer; never to `/`."""

from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace

from service.contracts.events import ContractReported
from service.fairs.events import MeetingRequestAccepted, MeetingRequestCreated
from service.fairs.models import MeetingRequest
from service.lib.events import publish
from service.matching.events import ShortlistInvited
from service.needs.models import Need
from service.notify.notices import BOOKED, record_notice
from service.notify.service import OutboxService
from service.notify.subscribers import expand_notices
from tests.factories_notify import meeting, outbox

BASE = "http://127.0.0.1:8000"  # the test settings' BASE_URL


async def rendered(sessionmaker, prefix):
    async with sessionmaker() as session:
        rows = await outbox(session, prefix)
    assert rows, f"no mail queued under {prefix}"
    return [(row, OutboxService.content(row)) for row in rows]


def links_to(mail, url):
    """The text body and the HTML body both carry `url`, and neither carries the bare home `BASE/`."""
    return url in mail.text and f'href="{url}"' in mail.html and f"{BASE}/\n" not in mail.text


class TestItemLinks:
    async def test_meeting_mails_link_to_the_agenda_and_contract_questions_to_the_contract_form(self, sessionmaker):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
        agenda = f"{BASE}/fairs/{m.fair_id}/agenda"
        for _, mail in await rendered(sessionmaker, f"meeting:{m.id.hex}:booked"):
            assert links_to(mail, agenda)
        for _, mail in await rendered(sessionmaker, f"followup:{m.id.hex}:rating:"):
            assert links_to(mail, f"{agenda}#meeting-{m.id}")  # the meeting's row, where it is rated
        for _, mail in await rendered(sessionmaker, f"followup:{m.id.hex}:contract:"):
            assert links_to(mail, f"{BASE}/contracts/new?meeting_id={m.id}")

    async def test_request_mails_link_to_the_fairs_request_inbox(self, sessionmaker):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            request = MeetingRequest(fair_id=m.fair_id, firm_id=m.firm_id, agency_id=m.agency_id, priority=1)
            session.add(request)
            await session.flush()
            await publish(session, MeetingRequestCreated(request))
            await publish(session, MeetingRequestAccepted(request))
        for kind in ("received", "accepted"):
            for _, mail in await rendered(sessionmaker, f"request:{request.id.hex}:{kind}"):
                assert links_to(mail, f"{BASE}/fairs/{m.fair_id}/requests")

    async def test_contract_and_invitation_mails_link_to_the_contract_and_the_need(self, sessionmaker):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            contract = SimpleNamespace(
                id=uuid.uuid4(),
                agency_id=m.agency_id,
                firm_id=m.firm_id,
                meeting_id=m.id,
                title="청사 방역 소독 용역",
                amount_krw=12_345_000,
                contract_date=date(2026, 12, 10),
                reported_side="firm",
            )
            await publish(session, ContractReported(contract, None))
            need = Need(agency_id=m.agency_id, title="청사 방역", budget_krw=30_000_000, needed_by=date(2027, 3, 1))
            session.add(need)
            await session.flush()
            invitation = SimpleNamespace(id=uuid.uuid4(), firm_id=m.firm_id, message="")
            await publish(session, ShortlistInvited(invitation, need))
        [(_, confirm)] = await rendered(sessionmaker, f"contract:{contract.id.hex}:confirm")
        assert links_to(confirm, f"{BASE}/contracts/{contract.id}")
        [(_, invited)] = await rendered(sessionmaker, f"invitation:{invitation.id.hex}")
        assert links_to(invited, f"{BASE}/needs/{need.id}")
