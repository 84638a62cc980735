"""Fixtures of the fault tests: a cuttable front for PostgreSQL and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories_ops import PgProxy
from tests.integration.notify.conftest import SmtpServer


@pytest.fixture
def proxy(server_url: str) -> Iterator[PgProxy]:
    front = PgProxy(server_url).start()
    yield front
    front.stop()


@pytest.fixture
def mail_server() -> Iterator[SmtpServer]:
    """aiosmtpd in this process; the tests count what it received themselves."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
