"""The outbox's send side: claim due rows under a lease, send each, record the outcome.

Claiming is a short transaction (`FOR UPDATE SKIP LOCKED`, status `sending`, a lease), so
any number of dispatchers in any number of processes share the queue without sending a
row twice; a row whose dispatcher died returns to the queue when its lease runs out. The
send happens outside any transaction, each message under its own timeout, so one slow or
broken message never blocks the rest. Every message carries `Message-ID: <row hex@procure-match>`,
so a resend after a crash is recognisable.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings, SmtpSettings
from service.lib.clock import now
from service.notify.service import Attachment, render_stored, stored_attachment
from service.notify.subscribers import expand_notices

log = logging.getLogger("service.notify")

MESSAGE_ID_DOMAIN = "procure-match"


@dataclass(frozen=True)
class DispatchPolicy:
    batch_size: int = 50
    lease: timedelta = timedelta(minutes=2)
    send_timeout: float = 30.0
    concurrency: int = 10
    max_attempts: int = 8
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=2)
    notice_batch_size: int = 20  # booking notices expanded per transaction (service.notify.notices)
    notice_batches: int = 10  # at most this many such transactions per tick; the rest wait for the next


@dataclass
class DispatchResult:
    expanded: int = 0  # booking notices expanded into mails
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClaimedMessage:
    id: uuid.UUID
    recipient: str
    template: str
    locale: str
    context: dict[str, Any] | None
    subject: str | None
    text: str | None
    html: str | None
    attachments: list[dict[str, Any]]
    attempts: int
    lease_until: datetime
    files: tuple[Attachment, ...] | None = None  # the attachments as sent, once `rendered`

    def rendered(self, invites: dict[str, bytes] | None = None) -> ClaimedMessage:
        """The message with its subject, bodies and attached files, rendered now from the stored context
        and attachments (invite recipes: through `invites`, those the batch has rendered already)."""
        files = tuple(stored_attachment(a, invites) for a in self.attachments)
        if self.subject is not None and self.text is not None and self.html is not None:
            return replace(self, files=files)
        assert self.context is not None  # guaranteed by ck_outbox_messages_renderable
        mail = render_stored(self.template, self.locale, self.context)
        return replace(self, subject=mail.subject, text=mail.text, html=mail.html, files=files)


def message_id(row_id: uuid.UUID) -> str:
    """Hex only: Python's email package truncates Message-IDs containing ':', so every message could
    end up with the same ID."""
    return f"<{row_id.hex}@{MESSAGE_ID_DOMAIN}>"


def backoff(attempts: int, policy: DispatchPolicy, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full-range jitter between 50% and 100% of the step, capped."""
    step = min(policy.backoff_base * (1 << min(max(attempts - 1, 0), 30)), policy.backoff_cap)
    factor: float = 0.5 + 0.5 * (rng or random).random()
    return step * factor


class MailPolicy(EmailPolicy):
    """The SMTP policy, except that a non-ASCII Subject is folded by `email.header.Header`.

    The modern folder drops the space that falls between two RFC 2047 encoded words, so a long
    Korean subject arrives as "은평구청승인" (seen with CPython 3.11); Header keeps every space
    inside an encoded word.
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "subject" and not str(value).isascii():
            encoded = Header(str(value), "utf-8", header_name=name).encode(linesep=self.linesep)
            return f"{name}: {encoded}{self.linesep}"
        folded: str = super().fold(name, value)
        return folded

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject" and not str(value).isascii():
            return self.fold(name, value).encode("ascii")
        folded: bytes = super().fold_binary(name, value)
        return folded


# 7-bit output (base64 bodies, encoded headers): any relay accepts it, 8BITMIME or not.
MAIL_POLICY = MailPolicy(linesep="\r\n", cte_type="7bit")


def build_email(message: ClaimedMessage, mail_from: str, sent_at: datetime) -> EmailMessage:
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = mail_from
    email["To"] = message.recipient
    assert message.subject is not None
    assert message.text is not None
    assert message.html is not None
    email["Subject"] = message.subject
    email["Date"] = format_datetime(sent_at)
    email["Message-ID"] = message_id(message.id)
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    files = message.files if message.files is not None else [stored_attachment(a) for a in message.attachments]
    for attachment in files:
        main, _, rest = attachment.content_type.partition("/")
        sub, *param_parts = [part.strip() for part in rest.split(";")]
        params = dict(part.split("=", 1) for part in param_parts if "=" in part)
        email.add_attachment(attachment.data, maintype=main, subtype=sub, filename=attachment.filename, params=params)
    return email


CLAIM = text(
    """
    UPDATE outbox_messages AS o
       SET status = 'sending', lease_until = :lease_until, attempts = o.attempts + 1, updated_at = now()
     WHERE o.id IN (
           SELECT id FROM outbox_messages
            WHERE (status = 'queued' AND due_at <= :now) OR (status = 'sending' AND lease_until <= :now)
            ORDER BY due_at, id
            LIMIT :limit
              FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.recipient, o.template, o.locale, o.context, o.subject, o.text, o.html, o.attachments,
              o.attempts, o.lease_until
    """
)

# Each outcome is recorded only if the row still carries our lease: a row whose lease ran out
# and that another dispatcher reclaimed belongs to that dispatcher now.
MARK_SENT = text(
    """
    UPDATE outbox_messages SET status = 'sent', sent_at = :at, lease_until = NULL, last_error = NULL,
           updated_at = now(), subject = :subject, text = :text, html = :html
     WHERE id = :id AND status = 'sending' AND lease_until = :lease_until
    """
)
MARK_RETRY = text(
    """
    UPDATE outbox_messages SET status = 'queued', due_at = :due_at, lease_until = NULL, last_error = :error,
           updated_at = now()
     WHERE id = :id AND status = 'sending' AND lease_until = :lease_until
    """
)
MARK_FAILED = text(
    """
    UPDATE outbox_messages SET status = 'failed', lease_until = NULL, last_error = :error, updated_at = now()
     WHERE id = :id AND status = 'sending' AND lease_until = :lease_until
    """
)


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], policy: DispatchPolicy, moment: datetime
) -> list[ClaimedMessage]:
    async with sessionmaker.begin() as session:
        rows = await session.execute(
            CLAIM, {"now": moment, "lease_until": moment + policy.lease, "limit": policy.batch_size}
        )
        return [ClaimedMessage(**row._asdict()) for row in rows]


async def _deliver_smtp(email: EmailMessage, smtp: SmtpSettings, timeout: float) -> None:
    await aiosmtplib.send(
        email.as_bytes(),
        sender=parseaddr(str(email["From"]))[1],
        recipients=[parseaddr(str(email["To"]))[1]],
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        use_tls=smtp.security == "tls",
        start_tls=smtp.security == "starttls",
        timeout=timeout,
    )


def mailbox_dir(settings: Settings) -> Path:
    return settings.app.data_dir / "mail"


def mailbox_path(settings: Settings, row_id: uuid.UUID) -> Path:
    return mailbox_dir(settings) / f"{row_id.hex}.eml"


def _write_mailbox(email: EmailMessage, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(email.as_bytes())
    os.replace(temporary, path)  # a reader never sees half a message


async def deliver(message: ClaimedMessage, settings: Settings, policy: DispatchPolicy) -> None:
    email = build_email(message, settings.smtp.mail_from, now())
    if settings.smtp.configured:
        await asyncio.wait_for(_deliver_smtp(email, settings.smtp, policy.send_timeout), policy.send_timeout + 5)
    else:
        await asyncio.to_thread(_write_mailbox, email, mailbox_path(settings, message.id))


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    message: ClaimedMessage,
    error: str | None,
    policy: DispatchPolicy,
    result: DispatchResult,
    permanent: bool = False,
) -> None:
    params: dict[str, Any] = {"id": message.id, "lease_until": message.lease_until}
    async with sessionmaker.begin() as session:
        if error is None:
            # What was sent is kept; a retry renders afresh (a corrected name or template goes out).
            content = {"subject": message.subject, "text": message.text, "html": message.html}
            await session.execute(MARK_SENT, {**params, **content, "at": now()})
            result.sent += 1
        elif permanent or message.attempts >= policy.max_attempts:
            await session.execute(MARK_FAILED, {**params, "error": error})
            result.failed += 1
            result.errors.append(error)
            log.warning("mail %s failed for good after %d attempts: %s", message.id, message.attempts, error)
        else:
            due = now() + backoff(message.attempts, policy)
            await session.execute(MARK_RETRY, {**params, "error": error, "due_at": due})
            result.retried += 1
            result.errors.append(error)


async def expand_pending(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, policy: DispatchPolicy
) -> int:
    """Expand pending booking notices into their mails, a batch per transaction, so that a booking's
    mails go out in the same tick; how many notices were expanded."""
    total = 0
    for _ in range(policy.notice_batches):
        async with sessionmaker.begin() as session:
            taken = await expand_notices(session, settings, policy.notice_batch_size)
        total += taken
        if taken < policy.notice_batch_size:
            break
    return total


async def dispatch_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    policy: DispatchPolicy | None = None,
) -> DispatchResult:
    """One dispatcher tick: expand pending booking notices into mails, claim a batch of due messages,
    send them concurrently, record outcomes."""
    policy = policy or DispatchPolicy()
    result = DispatchResult(expanded=await expand_pending(sessionmaker, settings, policy))
    claimed = await claim(sessionmaker, policy, now())
    result.claimed = len(claimed)
    if not claimed:
        return result
    gate = asyncio.Semaphore(policy.concurrency)
    invites: dict[str, bytes] = {}  # recipe → .ics: a booking's mails to both sides share one invite

    async def send_one(message: ClaimedMessage) -> None:
        async with gate:
            try:
                message = message.rendered(invites)
            except Exception as exc:  # a template that cannot render will not on a retry either
                await _record(sessionmaker, message, f"{type(exc).__name__}: {exc}"[:2000], policy, result, True)
                return
            try:
                await deliver(message, settings, policy)
                error = None
            except Exception as exc:  # any failure of one message is that message's outcome
                error = f"{type(exc).__name__}: {exc}"[:2000]
            # Record each outcome at once, in its own short transaction: a crash then resends at
            # most the messages actually in flight, not the whole batch.
            await _record(sessionmaker, message, error, policy, result)

    await asyncio.gather(*(send_one(m) for m in claimed))
    return result


async def drain(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, policy: DispatchPolicy | None = None
) -> DispatchResult:
    """Dispatch until nothing is due (CLI and tests); failed sends wait for their backoff."""
    total = DispatchResult()
    while True:
        step = await dispatch_due(sessionmaker, settings, policy)
        total.expanded += step.expanded
        if step.claimed == 0 and step.expanded == 0:
            return total
        total.claimed += step.claimed
        total.sent += step.sent
        total.retried += step.retried
        total.failed += step.failed
        total.errors += step.errors
