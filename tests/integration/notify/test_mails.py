"""What is sent: each kind of mail through a real SMTP server, parsed back."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import compat32

from icalendar import Calendar

from service.contracts.events import ContractReported
from service.fairs.events import (
    FairFinalized,
    FairScheduled,
    MeetingCancelled,
    MeetingMoved,
    MeetingRated,
    MeetingRequestAccepted,
    MeetingRequestCreated,
)
from service.lib import clock
from service.lib.events import publish
from service.matching.events import ShortlistInvited
from service.notify.dispatcher import drain
from service.notify.models import OutboxStatus
from service.notify.notices import BOOKED, record_notice
from service.notify.subscribers import expand_notices
from tests.factories import PASSWORD, agency_payload, create_staff, register, verify
from tests.factories_notify import ROOM, count_outbox, meeting, outbox


def _calendar(message):
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def _event(calendar):
    return next(c for c in calendar.walk() if c.name == "VEVENT")


class TestOrganizationMails:
    async def test_verification_mail_has_a_korean_subject_encoded_per_rfc_2047(
        self, client, sessionmaker, settings, smtp, smtp_settings
    ):
        staff = await create_staff(client, sessionmaker, settings)
        account = await register(client, agency_payload(name="은평구청"))
        await drain(sessionmaker, smtp_settings)
        smtp.inbox.clear()  # the registration's address confirmation (tests/integration/account_self)
        await verify(client, staff, account.organization_id)

        async with sessionmaker() as session:
            rows = await outbox(session, "organization_verified:")
        assert [r.recipient for r in rows] == [account.email]

        result = await drain(sessionmaker, smtp_settings)
        assert result.sent == 1
        [raw] = smtp.inbox.raw
        raw_subject = message_from_bytes(raw, policy=compat32)["Subject"]  # as on the wire, folded
        assert "=?utf-8?" in raw_subject.lower()  # encoded words, not raw 8-bit
        assert all(ord(ch) < 128 for ch in raw_subject)
        decoded = str(make_header(decode_header(raw_subject)))
        assert decoded.strip() == "[공공구매 상담·매칭] 은평구청 승인 완료"

        [message] = smtp.inbox.messages
        assert message["To"] == account.email
        assert message["Message-ID"] == f"<{rows[0].id.hex}@procure-match>"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "지원센터가 은평구청을(를) 승인했습니다" in text
        assert '<html lang="ko">' in html and "http://127.0.0.1:8000/" in html
        async with sessionmaker() as session:
            [row] = await outbox(session, "organization_verified:")
        assert row.status == OutboxStatus.SENT and row.sent_at is not None and row.attempts == 1

    async def test_rejection_mail_is_in_english_for_an_english_user_and_carries_the_reason(
        self, client, sessionmaker, settings, smtp, smtp_settings
    ):
        staff = await create_staff(client, sessionmaker, settings)
        payload = agency_payload(name="Test Office")
        payload["user"]["locale"] = "en"
        account = await register(client, payload)
        await drain(sessionmaker, smtp_settings)
        smtp.inbox.clear()  # the registration's address confirmation (tests/integration/account_self)
        response = await client.post(
            f"/api/v1/organizations/{account.organization_id}/reject",
            json={"reason": "사업자등록증 사본이 흐립니다"},
            headers=staff.headers,
        )
        assert response.status_code == 200, response.text

        await drain(sessionmaker, smtp_settings)
        [message] = smtp.inbox.to(account.email)
        assert message["Subject"] == "[procure-match] Test Office was not verified"
        text = message.get_body(("plain",)).get_content()
        assert "Reason: 사업자등록증 사본이 흐립니다" in text
        assert "사업자등록증 사본이 흐립니다" in message.get_body(("html",)).get_content()
        assert PASSWORD not in text


class TestMeetingMails:
    async def test_booking_mails_both_parties_with_an_ics_request(self, sessionmaker, smtp, smtp_settings):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            meeting_id, starts_at = m.id, m.starts_at

        await drain(sessionmaker, smtp_settings)
        messages = smtp.inbox.messages
        assert len(messages) == 2  # reminders are not due yet
        recipients = sorted(m["To"] for m in messages)
        assert recipients[0].startswith("buyer-") and recipients[1].startswith("ceo-")
        for message in messages:
            assert message["Subject"].startswith("[공공구매 상담·매칭] 상담 예약 확정: ")
            calendar = _calendar(message)
            assert str(calendar["METHOD"]) == "REQUEST"
            event = _event(calendar)
            assert str(event["UID"]) == f"meeting-{meeting_id.hex}@procure-match"
            assert int(event["SEQUENCE"]) == 0
            assert event.decoded("DTSTART") == starts_at
            assert str(event["LOCATION"]) == ROOM
            assert len(event["ATTENDEE"]) == 2
            assert ROOM in message.get_body(("plain",)).get_content()
        agency_mail = next(m for m in messages if m["To"].startswith("buyer-"))
        assert "마포방역협동조합" in agency_mail.get_body(("plain",)).get_content()  # names the other party

    async def test_the_same_event_twice_queues_each_mail_once(self, sessionmaker):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            first = await count_outbox(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            assert await count_outbox(session) == first == 2 + 4 + 8  # confirmations, 2 × 2 reminders, 2 × 4 follow-ups

    async def test_reminders_fire_24_hours_and_1_hour_before_with_the_room_link(
        self, sessionmaker, smtp, smtp_settings
    ):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            starts_at = m.starts_at
        await drain(sessionmaker, smtp_settings)
        smtp.inbox.clear()

        clock.set_now(starts_at - timedelta(hours=24, seconds=1))
        assert (await drain(sessionmaker, smtp_settings)).claimed == 0
        clock.set_now(starts_at - timedelta(hours=24))
        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.raw) == 2
        assert all(m["Subject"].startswith("[공공구매 상담·매칭] 내일 상담 안내") for m in smtp.inbox.messages)

        smtp.inbox.clear()
        clock.set_now(starts_at - timedelta(hours=1))
        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.raw) == 2
        for message in smtp.inbox.messages:
            assert message["Subject"].startswith("[공공구매 상담·매칭] 1시간 뒤 상담")
            assert ROOM in message.get_body(("plain",)).get_content()
            assert f'href="{ROOM}"' in message.get_body(("html",)).get_content()

    async def test_cancelling_cancels_pending_reminders_and_sends_an_ics_cancel(
        self, sessionmaker, smtp, smtp_settings
    ):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
        await drain(sessionmaker, smtp_settings)
        smtp.inbox.clear()

        async with sessionmaker.begin() as session:
            m = await session.merge(m)
            m.status = "cancelled"  # type: ignore[assignment]
            m.sequence += 1
            await session.flush()
            await publish(session, MeetingCancelled(m, None))
        async with sessionmaker() as session:
            reminders = await outbox(session, f"reminder:{m.id.hex}:")
        assert len(reminders) == 4 and {r.status for r in reminders} == {OutboxStatus.CANCELLED}
        async with sessionmaker() as session:
            follow_ups = await outbox(session, f"followup:{m.id.hex}:")
        assert len(follow_ups) == 8 and {r.status for r in follow_ups} == {OutboxStatus.CANCELLED}

        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.raw) == 2
        for message in smtp.inbox.messages:
            assert message["Subject"].startswith("[공공구매 상담·매칭] 상담 취소")
            calendar = _calendar(message)
            assert str(calendar["METHOD"]) == "CANCEL"
            assert int(_event(calendar)["SEQUENCE"]) == 1
            assert str(_event(calendar)["STATUS"]) == "CANCELLED"

        clock.set_now(m.starts_at - timedelta(hours=1))
        smtp.inbox.clear()
        await drain(sessionmaker, smtp_settings)
        assert smtp.inbox.raw == []  # no reminder for a cancelled meeting

    async def test_moving_replaces_the_reminders_and_sends_an_updated_invite(self, sessionmaker, smtp, smtp_settings):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
        await drain(sessionmaker, smtp_settings)
        smtp.inbox.clear()
        previous = m.starts_at
        new_start = previous + timedelta(days=1, hours=2)

        async with sessionmaker.begin() as session:
            m = await session.merge(m)
            m.starts_at, m.ends_at = new_start, new_start + timedelta(minutes=30)
            m.sequence += 1
            await session.flush()
            await publish(session, MeetingMoved(m, None, previous))
        async with sessionmaker() as session:
            reminders = await outbox(session, f"reminder:{m.id.hex}:")
        old = [r for r in reminders if r.status == OutboxStatus.CANCELLED]
        new = [r for r in reminders if r.status == OutboxStatus.QUEUED]
        assert len(old) == 4 and len(new) == 4
        assert sorted({r.due_at for r in new}) == [new_start - timedelta(hours=24), new_start - timedelta(hours=1)]

        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.raw) == 2
        for message in smtp.inbox.messages:
            assert message["Subject"].startswith("[공공구매 상담·매칭] 상담 일정 변경")
            event = _event(_calendar(message))
            assert int(event["SEQUENCE"]) == 1
            assert event.decoded("DTSTART") == new_start
            assert "변경 전" in message.get_body(("plain",)).get_content()

    async def test_a_meeting_booked_within_the_hour_gets_no_reminders(self, sessionmaker):
        async with sessionmaker.begin() as session:
            m = await meeting(session, starts_at=clock.now() + timedelta(minutes=50))
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            assert await outbox(session, f"reminder:{m.id.hex}:") == []
            assert len(await outbox(session, f"meeting:{m.id.hex}:")) == 2


class TestRequestMails:
    async def test_a_request_goes_to_the_agency_and_the_answer_to_the_firm(self, sessionmaker, smtp, smtp_settings):
        from service.fairs.models import MeetingRequest

        async with sessionmaker.begin() as session:
            m = await meeting(
                session, agency_users=[("buyer-req@eunpyeong.go.kr", "ko")], firm_users=[("ceo-req@mapo.coop", "en")]
            )
            request = MeetingRequest(
                fair_id=m.fair_id, firm_id=m.firm_id, agency_id=m.agency_id, priority=1, message="방역 견적 상담 희망"
            )
            session.add(request)
            await session.flush()
            await publish(session, MeetingRequestCreated(request))
            await publish(session, MeetingRequestCreated(request))  # deduplicated
            await publish(session, MeetingRequestAccepted(request))

        await drain(sessionmaker, smtp_settings)
        [received] = smtp.inbox.to("buyer-req@eunpyeong.go.kr")
        assert received["Subject"] == "[공공구매 상담·매칭] 상담 신청 도착: 마포방역협동조합"
        assert "방역 견적 상담 희망" in received.get_body(("plain",)).get_content()
        [accepted] = smtp.inbox.to("ceo-req@mapo.coop")
        assert accepted["Subject"] == "[procure-match] 은평구청 accepted your meeting request"
        assert "2026 공공구매 온라인상담회" in accepted.get_body(("html",)).get_content()


class TestFollowUps:
    async def test_rating_request_a_day_after_and_contract_questions_until_one_is_reported(
        self, sessionmaker, smtp, smtp_settings
    ):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
        clock.set_now(m.ends_at + timedelta(hours=23))
        await drain(sessionmaker, smtp_settings)  # confirmations and both reminders
        smtp.inbox.clear()

        clock.set_now(m.ends_at + timedelta(days=1))
        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.raw) == 2
        assert all(
            x["Subject"]
            == "[공공구매 상담·매칭] "
            + (
                "마포방역협동조합과(와)의 상담은 어떠셨나요?"
                if x["To"].startswith("buyer-")
                else "은평구청과(와)의 상담은 어떠셨나요?"
            )
            for x in smtp.inbox.messages
        )

        smtp.inbox.clear()
        clock.set_now(m.ends_at + timedelta(days=30))
        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.raw) == 2
        assert all("계약으로 이어졌나요" in x["Subject"] for x in smtp.inbox.messages)

        class Reported:  # the contracts domain's model, as far as notify cares
            meeting_id = m.id
            reported_side = "staff"

        async with sessionmaker.begin() as session:
            await publish(session, ContractReported(Reported(), None))
        async with sessionmaker() as session:
            left = await outbox(session, f"followup:{m.id.hex}:contract:", OutboxStatus.CANCELLED)
        assert len(left) == 4  # the 3- and 6-month questions of both parties
        smtp.inbox.clear()
        clock.set_now(m.ends_at + timedelta(days=200))
        await drain(sessionmaker, smtp_settings)
        assert smtp.inbox.raw == []


class TestScheduleMails:
    async def test_every_participant_learns_its_meetings_and_what_was_not_placed(
        self, sessionmaker, smtp, smtp_settings
    ):
        from service.fairs.models import Fair, MeetingRequest, RequestStatus

        async with sessionmaker.begin() as session:
            m = await meeting(
                session, agency_users=[("buyer-s@eunpyeong.go.kr", "ko")], firm_users=[("ceo-s@mapo.coop", "ko")]
            )
            left_out = MeetingRequest(
                fair_id=m.fair_id,
                firm_id=m.firm_id,
                agency_id=m.agency_id,
                priority=2,
                status=RequestStatus.UNSCHEDULED,
            )
            session.add(left_out)
            fair = await session.get(Fair, m.fair_id)
            fair.scheduled_at = clock.now()
            await session.flush()
            await publish(session, FairScheduled(fair, 1, (left_out.id,)))
            await publish(session, FairScheduled(fair, 1, (left_out.id,)))

        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.raw) == 2
        [firm_mail] = smtp.inbox.to("ceo-s@mapo.coop")
        assert (
            firm_mail["Subject"]
            == "[공공구매 상담·매칭] 2026 공공구매 온라인상담회 임시 상담 일정: 1건 (아직 확정 아님)"
        )
        text = firm_mail.get_body(("plain",)).get_content()
        assert "1건은 일정에 배정하지 못했습니다" in text


class TestContractMails:
    async def test_the_other_side_is_asked_to_confirm_a_reported_contract(self, sessionmaker, smtp, smtp_settings):
        import uuid
        from datetime import date
        from types import SimpleNamespace

        async with sessionmaker.begin() as session:
            m = await meeting(
                session, agency_users=[("buyer-c@eunpyeong.go.kr", "ko")], firm_users=[("ceo-c@mapo.coop", "ko")]
            )
            contract = SimpleNamespace(  # the contracts domain's Contract, as far as notify reads it
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
            await publish(session, ContractReported(contract, None))
            staff_recorded = SimpleNamespace(**{**vars(contract), "id": uuid.uuid4(), "reported_side": "staff"})
            await publish(session, ContractReported(staff_recorded, None))

        await drain(sessionmaker, smtp_settings)
        [message] = smtp.inbox.messages
        assert message["To"] == "buyer-c@eunpyeong.go.kr"
        assert message["Subject"] == "[공공구매 상담·매칭] 마포방역협동조합에서 계약을 등록했습니다. 확인해 주세요"
        text = message.get_body(("plain",)).get_content()
        assert "청사 방역 소독 용역" in text and "12,345,000원" in text and "계약일: 2026. 12. 10." in text


class TestInvitationMails:
    async def test_a_shortlisted_firm_is_invited_once(self, sessionmaker, smtp, smtp_settings):
        import uuid
        from datetime import date
        from types import SimpleNamespace

        from service.needs.models import Need

        async with sessionmaker.begin() as session:
            m = await meeting(session, firm_users=[("ceo-i@mapo.coop", "en")])
            need = Need(
                agency_id=m.agency_id, title="청사 방역 소독", budget_krw=30_000_000, needed_by=date(2027, 3, 1)
            )
            session.add(need)
            await session.flush()
            invitation = SimpleNamespace(id=uuid.uuid4(), firm_id=m.firm_id, message="견적 부탁드립니다")
            await publish(session, ShortlistInvited(invitation, need))
            await publish(session, ShortlistInvited(invitation, need))

        await drain(sessionmaker, smtp_settings)
        [message] = smtp.inbox.messages
        assert message["To"] == "ceo-i@mapo.coop"
        assert message["Subject"] == "[procure-match] 은평구청 invites you: 청사 방역 소독"
        text = message.get_body(("plain",)).get_content()
        assert "Budget: ₩30,000,000" in text and "견적 부탁드립니다" in text


class TestNoDeal:
    async def test_a_no_deal_rating_stops_the_contract_questions_but_not_other_mail(self, sessionmaker):
        from service.fairs.models import MeetingRating

        async with sessionmaker.begin() as session:
            m = await meeting(session)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            m.firm_rating = MeetingRating.COOPERATION_POSSIBLE
            await publish(session, MeetingRated(m, None))
            assert await outbox(session, f"followup:{m.id.hex}:contract:", OutboxStatus.CANCELLED) == []
            m.agency_rating = MeetingRating.INSUFFICIENT_INTEREST
            await publish(session, MeetingRated(m, None))
            assert len(await outbox(session, f"followup:{m.id.hex}:contract:", OutboxStatus.CANCELLED)) == 6
            assert len(await outbox(session, f"reminder:{m.id.hex}:", OutboxStatus.QUEUED)) == 4


class TestFinalAgenda:
    async def test_finalizing_sends_invites_and_queues_reminders_for_the_placed_meetings(
        self, sessionmaker, smtp, smtp_settings
    ):
        from service.fairs.models import Fair

        async with sessionmaker.begin() as session:
            m = await meeting(session)
            m.provisional = True
            await session.flush()
            fair = await session.get(Fair, m.fair_id)
            await publish(session, FairFinalized(fair, (m.id,)))
            assert await outbox(session, f"meeting:{m.id.hex}:") == []  # still provisional: nothing yet
            m.provisional = False
            await session.flush()
            await publish(session, FairFinalized(fair, (m.id,)))
            await publish(session, FairFinalized(fair, (m.id,)))
            assert len(await outbox(session, f"reminder:{m.id.hex}:")) == 4

        await drain(sessionmaker, smtp_settings)
        assert len(smtp.inbox.raw) == 2
        for message in smtp.inbox.messages:
            assert str(_calendar(message)["METHOD"]) == "REQUEST"


class TestProvisionalMeetings:
    async def test_provisional_meetings_get_no_invites_or_reminders(self, sessionmaker):
        async with sessionmaker.begin() as session:
            m = await meeting(session)
            m.provisional = True
            await session.flush()
            for event in (MeetingMoved(m, None, m.starts_at), MeetingCancelled(m, None)):
                await publish(session, event)
            assert await count_outbox(session) == 0


class TestPastMeetings:
    async def test_a_meeting_recorded_after_the_fact_gets_only_the_questions_still_ahead(self, sessionmaker):
        async with sessionmaker.begin() as session:
            m = await meeting(session, starts_at=clock.now() - timedelta(days=40))
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            assert await outbox(session, f"reminder:{m.id.hex}:") == []
            labels = {r.dedupe_key.split(":")[3] for r in await outbox(session, f"followup:{m.id.hex}:")}
            assert labels == {"3m", "6m"}
