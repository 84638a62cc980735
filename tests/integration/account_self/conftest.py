"""The in-process SMTP server of the notify tests, and clients from chosen addresses served in the
test's own event loop (so concurrent requests really interleave on the database)."""

import pytest

from service.notify.dispatcher import drain
from tests.factories import register
from tests.integration.accounts.test_abuse import from_address  # noqa: F401
from tests.integration.notify.conftest import smtp, smtp_settings  # noqa: F401


@pytest.fixture
def enroll(client, sessionmaker, settings, request):
    """`await enroll(payload)`: register through the API, and send and set aside the registration's
    address confirmation, so a test's inbox holds only what it is about."""

    inbox = request.getfixturevalue("smtp").inbox

    async def register_quietly(payload):
        account = await register(client, payload)
        await drain(sessionmaker, settings)  # the test module's settings: those of the SMTP server
        inbox.clear()
        return account

    return register_quietly
