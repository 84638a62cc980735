"""The staff mail page: counts, latest rows with errors, retry and cancel, one message."""

from __future__ import annotations

import re

from service.notify.dispatcher import drain
from service.notify.models import OutboxStatus
from tests.factories import agency_payload, create_staff, register
from tests.factories_notify import set_outbox
from tests.integration.notify.test_dispatcher import queue, rows


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


class TestMailPage:
    async def test_only_staff_see_the_mail_page(self, client):
        account = await register(client, agency_payload())
        response = await client.get("/staff/mail", headers=account.headers)
        assert response.status_code == 403

    async def test_counts_errors_and_a_local_mailbox_message(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        await queue(sessionmaker, 3)
        await drain(sessionmaker, settings)  # no SMTP configured: the local mailbox
        first, _second, third = await rows(sessionmaker)
        await set_outbox(
            sessionmaker, third.id, status=OutboxStatus.FAILED, last_error="SMTPRecipientsRefused: 550 no such user"
        )
        page = await client.get("/staff/mail", headers=staff.headers)
        assert page.status_code == 200
        assert '<span id="count-sent">2</span>' in page.text
        assert '<span id="count-failed">1</span>' in page.text
        assert "550 no such user" in page.text
        assert "SMTP 서버가 설정되지 않아" in page.text

        failed_only = await client.get("/staff/mail?status=failed", headers=staff.headers)
        assert third.recipient in failed_only.text and first.recipient not in failed_only.text

        shown = await client.get(f"/staff/mail/{first.id}", headers=staff.headers)
        assert shown.status_code == 200
        assert f"&lt;{first.id.hex}@procure-match&gt;" in shown.text
        assert "Message-ID: &lt;" in shown.text  # the .eml file as written
        assert "지원센터가 은평구청을(를) 승인했습니다" in shown.text

    async def test_retry_and_cancel_buttons(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        await queue(sessionmaker, 2)
        failed, queued = await rows(sessionmaker)
        await set_outbox(sessionmaker, failed.id, status=OutboxStatus.FAILED, attempts=8, last_error="boom")
        page = await client.get("/staff/mail", headers=staff.headers)
        token = csrf_from(page.text)
        assert f'action="/staff/mail/{failed.id}/retry"' in page.text
        assert f'action="/staff/mail/{queued.id}/retry"' not in page.text

        refused = await client.post(f"/staff/mail/{failed.id}/retry", headers=staff.headers, data={})
        assert refused.status_code == 403  # no CSRF token

        retried = await client.post(
            f"/staff/mail/{failed.id}/retry", headers=staff.headers, data={"_csrf_token": token}, follow_redirects=False
        )
        assert retried.status_code == 303
        cancelled = await client.post(
            f"/staff/mail/{queued.id}/cancel",
            headers=staff.headers,
            data={"_csrf_token": token},
            follow_redirects=False,
        )
        assert cancelled.status_code == 303
        after = {r.id: r for r in await rows(sessionmaker)}
        assert (after[failed.id].status, after[failed.id].attempts) == (OutboxStatus.QUEUED, 0)
        assert after[queued.id].status == OutboxStatus.CANCELLED

        again = await client.post(
            f"/staff/mail/{queued.id}/cancel",
            headers=staff.headers,
            data={"_csrf_token": token},
            follow_redirects=False,
        )
        assert again.status_code == 409


async def test_queued_mails_are_listed_by_the_subject_they_will_have(client, sessionmaker, settings):
    """A queued mail has no stored subject yet: the queue and the staff home show the subject it
    would be sent with (Korean), never its template's name; one that cannot render says so."""
    staff = await create_staff(client, sessionmaker, settings)
    await queue(sessionmaker, 2)
    broken, _ = await rows(sessionmaker)
    await set_outbox(sessionmaker, broken.id, context={"values": {}, "tz": "Asia/Seoul"}, status=OutboxStatus.FAILED)
    page = (await client.get("/staff/mail", headers=staff.headers)).text
    assert "[공공구매 상담·매칭] 은평구청 승인 완료" in page
    assert "organization_verified" not in page
    assert "(내용을 만들 수 없는 메일)" in page
    home = (await client.get("/", headers=staff.headers)).text
    assert "(내용을 만들 수 없는 메일)" in home and "organization_verified" not in home
