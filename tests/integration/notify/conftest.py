"""A real SMTP server in the test process (aiosmtpd), and settings pointing at it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from service.config import Settings, load_settings


@dataclass
class Inbox:
    """What the SMTP server received, in order.

    The guard: every message must have been looked at by the test (through `raw`, `messages`,
    `to()` or `clear()`) before it ends. A mail that arrives after the test's last look, or
    one the test never looked for, fails the test at teardown (see `unexpected()`).
    """

    _raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    _looked_at: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._raw.append(bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    @property
    def raw(self) -> list[bytes]:
        self._looked_at = len(self._raw)
        return self._raw

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for raw in self.raw]  # type: ignore[misc]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        self._raw.clear()
        self.envelopes.clear()
        self._looked_at = 0

    def unexpected(self) -> list[str]:
        """Subjects of the mails that arrived after the test last looked at the inbox."""
        late = self._raw[self._looked_at :]
        return [str(message_from_bytes(raw, policy=policy.default)["Subject"]) for raw in late]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """Start, stop and start again on the same port (the outage tests)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
    unexpected = server.inbox.unexpected()
    if unexpected:
        pytest.fail(f"unexpected mail the test never looked at: {unexpected}")


@pytest.fixture
def smtp_settings(smtp: SmtpServer, tmp_path: Path) -> Settings:
    return load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "BASE_URL": "http://127.0.0.1:8000",
            "SCHEDULER_ENABLED": "0",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "MAIL_FROM": "공공구매 상담·매칭 <noreply@procure-match.local>",
            "REGISTRATION_LIMIT_PER_HOUR": "100000",
        }
    )
