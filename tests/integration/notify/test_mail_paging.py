"""The staff mail page: 50 a page, the status filter kept in the page links."""

from __future__ import annotations

import re

from sqlalchemy import update

from service.notify.models import OutboxMessage, OutboxStatus
from tests.factories import create_staff
from tests.integration.notify.test_dispatcher import queue


def mail_rows(html: str) -> int:
    return len(re.findall(r'<tr [^>]*id="mail-', html))


class TestMailPaging:
    async def test_fifty_a_page_and_the_status_kept(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        await queue(sessionmaker, 63)
        async with sessionmaker.begin() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.dedupe_key.in_([f"test:{i}" for i in range(55)]))
                .values(status=OutboxStatus.FAILED, last_error="550")
            )
        first = await client.get("/staff/mail", headers=staff.headers)
        assert mail_rows(first.text) == 50 and 'href="?page=2"' in first.text
        second = await client.get("/staff/mail?page=2", headers=staff.headers)
        assert mail_rows(second.text) == 13
        failed = await client.get("/staff/mail?status=failed", headers=staff.headers)
        assert mail_rows(failed.text) == 50 and 'href="?status=failed&amp;page=2"' in failed.text
        failed_two = await client.get("/staff/mail?status=failed&page=2", headers=staff.headers)
        assert mail_rows(failed_two.text) == 5
