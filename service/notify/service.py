"""The outbox's write side: render a mail from its templates and queue it, idempotently.

Rows are written in the caller's transaction (services flush, never commit), so a mail
exists exactly when the change that caused it committed. The unique dedupe key makes a
repeated event harmless: the second INSERT does nothing.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import SUPPORTED_LOCALES
from service.lib import i18n
from service.lib.clock import now
from service.lib.errors import Conflict, NotFound
from service.notify.models import OutboxMessage, OutboxStatus

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    def as_json(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "base64": base64.b64encode(self.data).decode("ascii"),
        }


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _translator(locale: str) -> Callable[..., str]:
    def translate(message: str, **values: Any) -> str:
        text = i18n.gettext(message, locale)
        return text % values if values else text

    return translate


def render_mail(kind: str, locale: str, context: dict[str, Any], tz: str = "Asia/Seoul") -> RenderedMail:
    """Render `templates/emails/<kind>.{subject.txt,txt,html}` in the recipient's language."""
    locale = locale if locale in SUPPORTED_LOCALES else "ko"
    env = _environment()
    values = {
        **context,
        "_": _translator(locale),
        "locale": locale,
        "moment": lambda value: i18n.format_moment(value, tz=tz, locale=locale),
        "day": lambda value: i18n.format_day(value, locale=locale),
        "krw": lambda value: i18n.format_krw(value, locale=locale),
    }
    subject = env.get_template(f"emails/{kind}.subject.txt").render(values)
    text = env.get_template(f"emails/{kind}.txt").render(values)
    html = env.get_template(f"emails/{kind}.html").render(values)
    # A header never spans lines; templates may end with a newline.
    return RenderedMail(subject=" ".join(subject.split()), text=text, html=html)


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    recipient: str,
    locale: str,
    template: str,
    context: dict[str, Any],
    due_at: datetime | None = None,
    attachments: Sequence[Attachment] = (),
    tz: str = "Asia/Seoul",
) -> bool:
    """Queue one mail; return False when a mail with this dedupe key already exists."""
    mail = render_mail(template, locale, context, tz)
    statement = (
        insert(OutboxMessage)
        .values(
            id=uuid.uuid4(),
            dedupe_key=dedupe_key,
            recipient=recipient,
            locale=locale,
            template=template,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            attachments=[a.as_json() for a in attachments],
            due_at=due_at or now(),
            status=OutboxStatus.QUEUED,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    inserted = (await session.execute(statement)).scalar_one_or_none()
    return inserted is not None


async def cancel_pending(session: AsyncSession, prefix: str) -> int:
    """Cancel the queued mails whose dedupe key starts with `prefix` (e.g. a meeting's reminders)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key.like(escaped + "%", escape="\\"))
        .where(OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.CANCELLED, updated_at=func.now())
        .returning(OutboxMessage.id)
    )
    return len(result.all())


class OutboxService:
    """Staff operations on the outbox: counts, the latest rows, retry and cancel."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        counts = {status.value: 0 for status in OutboxStatus}
        for status, count in rows.all():
            counts[OutboxStatus(status).value] = int(count)
        return counts

    async def latest(self, status: OutboxStatus | None = None, limit: int = 100) -> Sequence[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).limit(limit)
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        return (await self.session.scalars(query)).all()

    async def get(self, message_id: uuid.UUID) -> OutboxMessage:
        message = await self.session.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound("No such message.")
        return message

    async def retry(self, message_id: uuid.UUID) -> OutboxMessage:
        """Queue a failed or cancelled message again, now, with a fresh attempt budget."""
        message = await self.get(message_id)
        if message.status not in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
            raise Conflict(f"Only failed or cancelled messages can be retried; this one is {message.status.value}.")
        message.status = OutboxStatus.QUEUED
        message.attempts = 0
        message.due_at = now()
        message.lease_until = None
        await self.session.flush()
        return message

    async def cancel(self, message_id: uuid.UUID) -> OutboxMessage:
        message = await self.get(message_id)
        if message.status not in (OutboxStatus.QUEUED, OutboxStatus.FAILED):
            raise Conflict(f"Only queued or failed messages can be cancelled; this one is {message.status.value}.")
        message.status = OutboxStatus.CANCELLED
        await self.session.flush()
        return message


def recipients_of(users: Iterable[Any]) -> list[tuple[str, str, str, uuid.UUID]]:
    """(email, name, locale, user id) of active users, in a stable order."""
    return sorted(
        ((u.email, u.name, u.locale or "ko", u.id) for u in users if u.is_active),
        key=lambda item: item[0],
    )
