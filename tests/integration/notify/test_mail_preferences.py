"""Mail preferences (issue 15 item 5's switches, item 7): optional mails honour each user's choice,
mails that carry obligations always go, and every member of an organization gets its mails once."""

from __future__ import annotations

from email import message_from_bytes, policy

from icalendar import Calendar
from sqlalchemy import select, update

from service.accounts.models import User
from service.accounts.preferences import MailPreferenceService
from service.fairs.models import Meeting
from service.lib.clock import today
from service.lib.events import publish
from service.notify.dispatcher import drain
from service.notify.models import OutboxStatus
from service.notify.notices import BOOKED, record_notice
from service.notify.subscribers import expand_notices
from service.notify.sweeps import warn_expiring_certifications
from service.registry.events import OrganizationVerified
from service.registry.models import Organization
from tests.factories import PASSWORD, agency_payload, firm_payload, register
from tests.factories_notify import meeting, organization, outbox
from tests.integration.accounts.test_pages import csrf_from

AGENCY = [("a1@eunpyeong.go.kr", "ko"), ("a2@eunpyeong.go.kr", "en")]
FIRM = [("f1@mapo.coop", "ko"), ("f2@mapo.coop", "ko"), ("f3@mapo.coop", "en")]


async def _switch(sessionmaker, email: str, **changes: bool) -> None:
    async with sessionmaker.begin() as session:
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None
        await MailPreferenceService(session).update(user.id, changes)


class TestPatchMe:
    async def test_switches_are_saved_and_shown_by_get_me(self, client):
        account = await register(client, agency_payload())
        response = await client.patch(
            "/api/v1/me", json={"mail_preferences": {"reminders": False}}, headers=account.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["mail_preferences"] == {"reminders": False, "followups": True, "digest": True}
        me = (await client.get("/api/v1/me", headers=account.headers)).json()
        assert me["mail_preferences"] == {"reminders": False, "followups": True, "digest": True}
        response = await client.patch(
            "/api/v1/me", json={"mail_preferences": {"reminders": True, "digest": False}}, headers=account.headers
        )
        assert response.json()["mail_preferences"] == {"reminders": True, "followups": True, "digest": False}

    async def test_obligations_cannot_be_turned_off_and_nothing_is_half_written(self, client):
        account = await register(client, agency_payload())
        body = {"mail_preferences": {"reminders": False, "bookings": False, "digest": "no"}}
        response = await client.patch("/api/v1/me", json=body, headers=account.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert set(fields) == {"mail_preferences.bookings", "mail_preferences.digest"}
        assert "obligations" in fields["mail_preferences.bookings"]
        me = (await client.get("/api/v1/me", headers=account.headers)).json()
        assert me["mail_preferences"]["reminders"] is True  # the valid switch of a refused body is not saved

        for bad in ({"mail_preferences": [True]}, {"mail_preferences": "off"}):
            response = await client.patch("/api/v1/me", json=bad, headers=account.headers)
            assert response.status_code in (400, 422), response.text

    async def test_needs_a_signed_in_caller(self, client):
        response = await client.patch("/api/v1/me", json={"mail_preferences": {"digest": False}})
        assert response.status_code == 401


class TestOrganizationMails:
    async def test_every_member_gets_an_obligation_once_and_optional_mails_only_if_wanted(
        self, sessionmaker, smtp, smtp_settings
    ):
        async with sessionmaker.begin() as session:
            m = await meeting(session, agency_users=AGENCY, firm_users=FIRM)
            meeting_id = m.id
        await _switch(sessionmaker, "a2@eunpyeong.go.kr", reminders=False, followups=False, digest=False)
        await _switch(sessionmaker, "f1@mapo.coop", followups=False)
        async with sessionmaker.begin() as session:
            m = await session.get(Meeting, meeting_id)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails

        async with sessionmaker() as session:
            booked = await outbox(session, f"meeting:{meeting_id.hex}:booked")
            reminders = await outbox(session, f"reminder:{meeting_id.hex}:")
            followups = await outbox(session, f"followup:{meeting_id.hex}:")
        everyone = sorted(e for e, _ in AGENCY + FIRM)
        assert sorted(r.recipient for r in booked) == everyone  # the confirmation cannot be turned off
        wants_reminders = sorted(set(everyone) - {"a2@eunpyeong.go.kr"})
        assert sorted({r.recipient for r in reminders}) == wants_reminders
        assert len(reminders) == 2 * len(wants_reminders)  # 24 h and 1 h
        wants_followups = sorted(set(everyone) - {"a2@eunpyeong.go.kr", "f1@mapo.coop"})
        assert sorted({r.recipient for r in followups}) == wants_followups

        await drain(sessionmaker, smtp_settings)
        messages = smtp.inbox.messages
        assert sorted(msg["To"] for msg in messages) == everyone  # each member exactly once
        for message in messages:
            [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
            event = next(iter(Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")))
            attendees = [str(a).removeprefix("mailto:") for a in event["ATTENDEE"]]
            assert sorted(attendees) == everyone  # both parties' members, each once, opted out or not

    async def test_turning_a_kind_off_stops_what_is_already_queued_for_that_user_only(self, sessionmaker):
        async with sessionmaker.begin() as session:
            m = await meeting(session, agency_users=AGENCY, firm_users=FIRM)
            await record_notice(session, m.id, BOOKED, m.sequence, None)
            await expand_notices(session)  # the booking's notice → its mails
            meeting_id = m.id
        await _switch(sessionmaker, "f2@mapo.coop", reminders=False)
        async with sessionmaker() as session:
            reminders = await outbox(session, f"reminder:{meeting_id.hex}:")
            followups = await outbox(session, f"followup:{meeting_id.hex}:")
        cancelled = {r.recipient for r in reminders if r.status == OutboxStatus.CANCELLED}
        assert cancelled == {"f2@mapo.coop"}
        assert sum(r.status == OutboxStatus.QUEUED for r in reminders) == 2 * 4
        assert all(r.status == OutboxStatus.QUEUED for r in followups)  # another kind: untouched

    async def test_sweep_reminders_and_verification_follow_each_members_choice(self, sessionmaker, smtp, smtp_settings):
        async with sessionmaker.begin() as session:
            firm = await organization(session, "firm", "마포방역협동조합", FIRM)
            firm.certified_until = today()
            await session.execute(update(User).where(User.email == "f3@mapo.coop").values(mail_reminders=False))
            await session.execute(update(User).where(User.organization_id == firm.id).values(mail_digest=False))
            firm_id = firm.id
        async with sessionmaker.begin() as session:
            firm = await session.get(Organization, firm_id)
            await warn_expiring_certifications(session, smtp_settings)
            await publish(session, OrganizationVerified(firm))
        async with sessionmaker() as session:
            warnings = await outbox(session, "certification:")
            verified = await outbox(session, "organization_verified:")
        assert sorted(w.recipient for w in warnings) == ["f1@mapo.coop", "f2@mapo.coop"]
        assert sorted(v.recipient for v in verified) == sorted(e for e, _ in FIRM)
        await drain(sessionmaker, smtp_settings)
        received = [message_from_bytes(raw, policy=policy.default)["To"] for raw in smtp.inbox.raw]
        assert sorted(received) == sorted(["f1@mapo.coop", "f2@mapo.coop"] + [e for e, _ in FIRM])


class TestNotificationsPage:
    async def _sign_in(self, client, account) -> str:
        token = csrf_from((await client.get("/login")).text)
        response = await client.post(
            "/login", data={"email": account.email, "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
        )
        assert response.status_code in (302, 303), response.text
        return csrf_from((await client.get("/me/notifications")).text)

    async def test_a_firm_member_turns_the_digest_off_and_keeps_reminders(self, client):
        account = await register(client, firm_payload())
        client.cookies.clear()
        token = await self._sign_in(client, account)
        page = (await client.get("/me/notifications")).text
        assert "주간 구매 수요 소식" in page and "상담 알림" in page and "항상 받는 메일" in page
        assert page.count('type="checkbox"') == 3 and page.count(" checked") == 3

        response = await client.post(
            "/me/notifications", data={"reminders": "on", "_csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 303 and response.headers["location"] == "/me/notifications?saved=1"
        page = (await client.get("/me/notifications?saved=1")).text
        assert 'class="notice ok" role="status"' in page
        assert page.count(" checked") == 1
        me = (await client.get("/api/v1/me", headers=account.headers)).json()
        assert me["mail_preferences"] == {"reminders": True, "followups": False, "digest": False}

    async def test_an_agency_member_has_no_digest_switch_and_keeps_its_value(self, client):
        account = await register(client, agency_payload())
        client.cookies.clear()
        token = await self._sign_in(client, account)
        page = (await client.get("/me/notifications")).text
        assert "주간 구매 수요 소식" not in page and page.count('type="checkbox"') == 2
        response = await client.post("/me/notifications", data={"_csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303
        me = (await client.get("/api/v1/me", headers=account.headers)).json()
        assert me["mail_preferences"] == {"reminders": False, "followups": False, "digest": True}
