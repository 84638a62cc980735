"""The outbox's write side: render a mail from its templates and queue it, idempotently.

Rows are written in the caller's transaction (services flush, never commit), so a mail
exists exactly when the change that caused it committed. The unique dedupe key makes a
repeated event harmless: the second INSERT does nothing.
"""

from __future__ import annotations

import base64
import enum
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import SUPPORTED_LOCALES
from service.fairs.calendar import InviteData, meeting_invite
from service.lib import i18n
from service.lib.clock import now
from service.lib.errors import Conflict, NotFound
from service.notify.models import OutboxMessage, OutboxStatus
from service.notify.preferences import kind_of, templates_of

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
class InviteAttachment:
    """An .ics invite queued as its recipe: what it says (`InviteData`, stamp included) and its METHOD.

    The dispatcher renders it when it sends the mail (`stored_attachment`), so the transaction that
    queues a booking's mails never runs icalendar; the bytes are those `meeting_invite` gives now.
    """

    invite: InviteData
    method: Literal["REQUEST", "CANCEL"] = "REQUEST"

    @property
    def filename(self) -> str:
        return "cancel.ics" if self.method == "CANCEL" else "invite.ics"

    @property
    def content_type(self) -> str:
        return f"text/calendar; method={self.method}"

    def as_json(self) -> dict[str, Any]:
        recipe = {**self.invite.as_json(), "method": self.method}
        return {"filename": self.filename, "content_type": self.content_type, "invite": recipe}


def _invite_bytes(recipe: dict[str, Any]) -> bytes:
    fields = dict(recipe)
    method = fields.pop("method", "REQUEST")
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unknown invite method {method!r}")
    return meeting_invite(InviteData.from_json(fields), "CANCEL" if method == "CANCEL" else "REQUEST")


def stored_attachment(stored: dict[str, Any], rendered: dict[str, bytes] | None = None) -> Attachment:
    """An outbox row's attachment as the file it sends, whichever form was queued: bytes (`base64`,
    rows written before invites were recipes) or an invite recipe (`invite`), rendered here.

    `rendered` remembers invites already rendered, by recipe: one booking mails everyone of both
    sides the same invite, which a dispatcher batch then renders once.
    """
    filename, content_type = str(stored["filename"]), str(stored["content_type"])
    recipe = stored.get("invite")
    if recipe is None:
        return Attachment(filename, content_type, base64.b64decode(stored["base64"]))
    key = json.dumps(recipe, sort_keys=True, ensure_ascii=False)
    data = rendered.get(key) if rendered is not None else None
    if data is None:
        data = _invite_bytes(recipe)
        if rendered is not None:
            rendered[key] = data
    return Attachment(filename, content_type, data)


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
        auto_reload=False,  # templates ship with the code: no stat() per render
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


def _encode_scalar(value: Any) -> Any:
    """A value that is not a container, as JSON; `TypeError` for a type mails cannot store."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return encode_context(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in a mail context")
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be stored in a mail context")


def encode_context(value: Any) -> Any:
    """A template context as JSON, keeping the types templates format (datetimes, dates, decimals).

    Raises TypeError for anything else, at enqueue time, so a context that cannot be stored fails
    in the transaction that queued it rather than when the mail is sent.
    """
    if isinstance(value, list | tuple):
        return [encode_context(item) for item in value]
    if isinstance(value, dict):
        if any(str(key).startswith("$") for key in value):
            raise TypeError("mail context keys may not start with '$' (reserved for typed values)")
        return {str(key): encode_context(item) for key, item in value.items()}
    return _encode_scalar(value)


def decode_context(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_context(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, raw),) = value.items()
            if key == "$datetime":
                return datetime.fromisoformat(raw)
            if key == "$date":
                return date.fromisoformat(raw)
            if key == "$decimal":
                return Decimal(raw)
        return {key: decode_context(item) for key, item in value.items()}
    return value


def render_stored(template: str, locale: str, context: dict[str, Any]) -> RenderedMail:
    """Render a queued row from the context `enqueue` stored."""
    return render_mail(template, locale, decode_context(context["values"]), context.get("tz", "Asia/Seoul"))


@dataclass(frozen=True)
class Mail:
    """One mail to queue: rendered later from `template` and `context` (see `enqueue`)."""

    dedupe_key: str
    recipient: str
    locale: str
    template: str
    context: dict[str, Any]
    due_at: datetime | None = None
    attachments: Sequence[Attachment | InviteAttachment] = ()
    tz: str = "Asia/Seoul"

    def as_row(self, moment: datetime) -> dict[str, Any]:
        _environment().get_template(f"emails/{self.template}.txt")  # an unknown template fails now, not at sending
        due_at = self.due_at or moment
        if due_at.tzinfo is None:
            raise TypeError("due_at must be timezone-aware")
        return {
            "id": str(uuid.uuid4()),
            "dedupe_key": self.dedupe_key,
            "recipient": self.recipient,
            "locale": self.locale,
            "template": self.template,
            "context": {"values": encode_context(self.context), "tz": self.tz},
            "attachments": [a.as_json() for a in self.attachments],
            "due_at": due_at.isoformat(),
            "kind": kind_of(self.template),
        }


# All the mails of one event in one constant statement: one round trip however many there are,
# compiled once per process (the PostgreSQL dialect's `insert().on_conflict_do_nothing()` is
# never cached by SQLAlchemy 2.0, and compiling it per mail cost more than the mail).
# An optional mail (`kind`, see service.notify.preferences) to a user who turned its kind off is
# not queued at all.
_ENQUEUE = sql_text(
    """
    INSERT INTO outbox_messages (id, dedupe_key, recipient, locale, template, context, attachments, due_at, status)
    SELECT r.id, r.dedupe_key, r.recipient, r.locale, r.template, r.context, r.attachments, r.due_at, 'queued'
      FROM jsonb_to_recordset(:rows) AS r(id uuid, dedupe_key text, recipient text, locale text, template text,
                                          context jsonb, attachments jsonb, due_at timestamptz, kind text)
     WHERE r.kind IS NULL
        OR NOT EXISTS (SELECT 1 FROM users u
                        WHERE u.email = r.recipient::citext
                          AND ((r.kind = 'reminders' AND NOT u.mail_reminders)
                            OR (r.kind = 'followups' AND NOT u.mail_followups)
                            OR (r.kind = 'digest' AND NOT u.mail_digest)))
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
    """
).bindparams(bindparam("rows", type_=JSONB))


async def enqueue_many(session: AsyncSession, mails: Iterable[Mail]) -> int:
    """Queue mails in the caller's transaction; return how many were new (dedupe keys not seen before).

    Mails are rendered when they are sent (service.notify.dispatcher), from the context stored as
    JSON: queueing costs one INSERT, and a reminder shows the names as they are when it goes out.
    """
    moment = now()
    rows = [mail.as_row(moment) for mail in mails]
    if not rows:
        return 0
    return len((await session.execute(_ENQUEUE, {"rows": rows})).all())


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


async def cancel_optional(session: AsyncSession, recipient: str, kinds: Iterable[str]) -> int:
    """Cancel the queued mails of optional `kinds` to `recipient` (who just turned them off)."""
    templates = [t for kind in kinds for t in templates_of(kind)]
    if not templates:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.recipient == recipient,
            OutboxMessage.template.in_(templates),
            OutboxMessage.status == OutboxStatus.QUEUED,
        )
        .values(status=OutboxStatus.CANCELLED, updated_at=func.now())
        .returning(OutboxMessage.id)
    )
    return len(result.all())


ONE_TIME_SECRET = re.compile(r"token=[A-Za-z0-9_\-]{16,}")


def mask_secrets(text: str) -> str:
    """`token=<secret>` of one-time links shown as `token=…`."""
    return ONE_TIME_SECRET.sub("token=…", text)


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

    async def latest(
        self, status: OutboxStatus | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[Sequence[OutboxMessage], int]:
        """A page of messages, newest first, and how many there are (of `status` when given)."""
        conditions = [OutboxMessage.status == status] if status is not None else []
        query = select(OutboxMessage).where(*conditions).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
        total = await self.session.scalar(select(func.count()).select_from(OutboxMessage).where(*conditions)) or 0
        return (await self.session.scalars(query.offset(offset).limit(limit))).all(), total

    async def troubled(self, limit: int = 10) -> tuple[list[OutboxMessage], int]:
        """Mails that failed, or are queued again after a failed attempt (retrying), newest first, and their number."""
        condition = or_(
            OutboxMessage.status == OutboxStatus.FAILED,
            and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.attempts > 0),
        )
        total = await self.session.scalar(select(func.count()).select_from(OutboxMessage).where(condition)) or 0
        rows = await self.session.scalars(
            select(OutboxMessage).where(condition).order_by(OutboxMessage.updated_at.desc()).limit(limit)
        )
        return list(rows), int(total)

    async def get(self, message_id: uuid.UUID) -> OutboxMessage:
        message = await self.session.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound("No such message.")
        return message

    @staticmethod
    def content(message: OutboxMessage) -> RenderedMail:
        """What the mail says (as sent, or still queued as it would be rendered now), with the secret
        of any one-time link masked: staff reading the queue must not be able to open someone's
        password reset, email change or invitation."""
        if message.subject is not None and message.text is not None and message.html is not None:
            mail = RenderedMail(subject=message.subject, text=message.text, html=message.html)
        else:
            assert message.context is not None  # guaranteed by ck_outbox_messages_renderable
            mail = render_stored(message.template, message.locale, message.context)
        return RenderedMail(subject=mail.subject, text=mask_secrets(mail.text), html=mask_secrets(mail.html))

    @staticmethod
    def titles(messages: Iterable[OutboxMessage]) -> dict[uuid.UUID, str | None]:
        """The subject each message shows in a list: as sent, or as the queued mail would read now
        (in its recipient's language); None for one that cannot render (the reason it failed)."""
        out: dict[uuid.UUID, str | None] = {}
        for message in messages:
            try:
                out[message.id] = message.subject or OutboxService.content(message).subject
            except Exception:  # a broken template or context: listed without a subject
                out[message.id] = None
        return out

    async def retry(self, message_id: uuid.UUID) -> OutboxMessage:
        """Queue a failed or cancelled message again, now, with a fresh attempt budget."""
        message = await self.get(message_id)
        if not message.can_retry:
            raise Conflict(f"Only failed or cancelled messages can be retried; this one is {message.status.value}.")
        message.status = OutboxStatus.QUEUED
        message.attempts = 0
        message.due_at = now()
        message.lease_until = None
        await self.session.flush()
        return message

    async def cancel(self, message_id: uuid.UUID) -> OutboxMessage:
        message = await self.get(message_id)
        if not message.can_cancel:
            raise Conflict(f"Only queued or failed messages can be cancelled; this one is {message.status.value}.")
        message.status = OutboxStatus.CANCELLED
        await self.session.flush()
        return message
