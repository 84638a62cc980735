"""The unexpected-mail guard of the SMTP fixture can fail a test."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from tests.integration.notify.conftest import SmtpServer


async def _send(server: SmtpServer, subject: str) -> None:
    email = EmailMessage()
    email["From"] = "noreply@procure-match.local"
    email["To"] = "someone@example.org"
    email["Subject"] = subject
    email.set_content("body")
    await aiosmtplib.send(email, hostname="127.0.0.1", port=server.port)


async def test_a_mail_the_test_never_looked_at_is_reported_and_one_it_read_is_not():
    server = SmtpServer()
    server.start()
    try:
        await _send(server, "first")
        assert server.inbox.unexpected() == ["first"]
        assert [m["Subject"] for m in server.inbox.messages] == ["first"]
        assert server.inbox.unexpected() == []
        await _send(server, "second")  # arrives after the last look
        assert server.inbox.unexpected() == ["second"]
        server.inbox.clear()
        assert server.inbox.unexpected() == []
    finally:
        server.stop()
