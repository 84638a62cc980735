"""Reading the links out of account mails."""

from __future__ import annotations

import re
from email.message import EmailMessage

TOKEN = re.compile(r"token=([A-Za-z0-9_\-]+)")


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def token_in(message: EmailMessage) -> str:
    found = TOKEN.search(body(message))
    assert found, body(message)
    return found.group(1)
