"""One answer per submission: `Idempotency-Key` on the API's creating POSTs, one-time tokens on HTML forms.

A client that sends a creating request twice (a retry after a timeout, a double click, the back
button and "resubmit") must not create two rows. Both kinds of request go through one middleware:

- **API**: every POST under `/api/` that creates something (`covers()`: status 201, or a handler
  marked `opt={"idempotent": True}`) accepts an `Idempotency-Key` header (1–200 characters). The
  same key with the same request (method, path with query, body) within 24 hours answers the
  first response again (same status and body, plus `Idempotent-Replayed: true`); the same key with
  another request is a 422 naming the header; while the first is still being processed, 409.
- **HTML**: create forms carry a hidden `_form_token` (`form_token()` in the templates, a new
  random value each time the form is shown). The first POST with a token consumes it; the same
  submission again answers what the first one answered (usually the 303 to the created object),
  and an edited resubmission of a used token is a 409 page saying the form was already submitted,
  with a link to what it created. A second submit that arrives while the first is in flight (a
  double click) waits for it rather than failing.

PostgreSQL guards it. The key's row (`idempotency_keys`, primary key caller + key) is written in
the request's own database session, so it commits in the same transaction as the rows the request
creates (`CommitBeforeResponseMiddleware` commits that session before a 2xx/3xx leaves): a request
that fails leaves no key behind, and a key that exists always has its response stored. Two requests
with one key are serialized by a transaction-scoped advisory lock on (caller, key) taken before the
claim; if a handler rolls back its session (which releases the lock and drops the claim) the final
write notices that another request took the key meanwhile, rolls this one back and answers theirs.

Keys are per caller: the signed-in user, or the client address for anonymous calls (`/register`),
so two callers' keys never meet. Rows older than 24 hours are ignored (a new request takes the key
over) and deleted by the `idempotency.purge` job.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType, ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send
from markupsafe import Markup
from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, Table, Text, delete, select, tuple_
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from service.config import Settings
from service.db.base import Base
from service.lib import clock
from service.lib.errors import Conflict, DomainError, ValidationFailed
from service.lib.jobs import JobSpec

log = logging.getLogger("service.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
FORM_FIELD = "_form_token"
MAX_KEY_LENGTH = 200
LIFETIME = timedelta(hours=24)
# A double click's second request waits this long for the first before answering 409.
FORM_WAIT_SECONDS = 10.0
# Namespace of the two-int advisory locks taken here (distinct from the one-bigint locks elsewhere).
LOCK_NAMESPACE = 0x1DE0
# Response headers worth answering again; never Set-Cookie (a session token is not stored).
KEPT_HEADERS = ("location", "hx-redirect", "hx-location", "hx-refresh", "hx-trigger", "hx-retarget", "hx-reswap")


class IdempotencyKey(Base):
    """A used key and the response it got. Visible only once the request that used it committed."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    # "user:<uuid>" or "addr:<client address>"
    caller: Mapped[str] = mapped_column(String(100), primary_key=True)
    # "api:<Idempotency-Key>" or "form:<_form_token>"
    key: Mapped[str] = mapped_column(String(210), primary_key=True)
    # Which request holds the key: lets the final write tell its own claim from another's.
    claim: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    # The response; NULL only while its request runs (never visible to others, it commits with it).
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=sql_text("now()"))


TABLE = cast(Table, IdempotencyKey.__table__)


class RequestInProgress(Conflict):
    code = "idempotency-in-progress"
    title = "Request in progress"


class FormAlreadySubmitted(Conflict):
    code = "form-already-submitted"
    title = "Form already submitted"


def covers(handler: Any) -> bool:
    """Whether an API handler creates something: a POST answering 201, or one marked idempotent."""
    if not isinstance(handler, HTTPRouteHandler) or "POST" not in handler.http_methods:
        return False
    return bool(handler.opt.get("idempotent", handler.status_code == 201))


def form_token() -> Markup:
    """The hidden one-time token of a create form (a Jinja global): a fresh random value per render."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FORM_FIELD, secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Submission:
    caller: str
    key: str
    method: str
    path: str
    body_sha256: str
    from_form: bool

    def same_request(self, row: Any) -> bool:
        return (row.method, row.path, row.body_sha256) == (self.method, self.path, self.body_sha256)


def _caller(scope: Scope) -> str:
    principal = scope.get("user")
    if principal is not None:
        return f"user:{principal.user_id}"
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


async def _body_digest(request: Request[Any, Any, Any]) -> str:
    """sha256 of the body; of the fields for forms, since a multipart boundary differs on every send."""
    digest = hashlib.sha256()
    content_type, _ = request.content_type
    if content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
        form = await request.form()
        for name, value in form.multi_items():
            digest.update(b"\x00f" + name.encode())
            if isinstance(value, UploadFile):
                content = await value.read()
                await value.seek(0)
                digest.update(b"\x00u" + (value.filename or "").encode() + b"\x00" + hashlib.sha256(content).digest())
            else:
                digest.update(b"\x00v" + str(value).encode())
    else:
        digest.update(await request.body())
    return digest.hexdigest()


def _check_key(value: str, field: str) -> str:
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not value.strip() or not value.isprintable():
        raise ValidationFailed.single(field, f"must be 1 to {MAX_KEY_LENGTH} printable characters")
    return value


class IdempotencyMiddleware:
    """Claims the key before the handler runs and stores the handler's answer with its writes.

    Sits inside `CommitBeforeResponseMiddleware`: the answer is buffered and stored in the
    request's session first, then the start of the response goes out through the outer
    middleware, which commits the creation and the key together (or answers 503 if it cannot).
    A plain ASGI layer: anything but a POST passes straight through.
    """

    def __init__(self, database_config: SQLAlchemyAsyncConfig, app: ASGIApp) -> None:
        self.app = app
        self.database_config = database_config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send, self.app)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive)
        try:
            submission = await self._submission(request)
        except Exception as exc:  # a bad key, or a body too large or malformed to read: a 4xx
            await self._send_error(request, exc, send)
            return
        if submission is None:
            await next_app(scope, receive, send)
            return
        session = self._session(scope)
        claim = uuid.uuid4()
        try:
            existing = await self._claim(session, submission, claim)
            answer = self._answer(existing, submission) if existing is not None else None
        except Exception as exc:
            await session.rollback()
            await self._send_error(request, exc, send)
            return
        if answer is not None:
            log.info("%s %s answered from its key (%s)", submission.method, submission.path, type(answer).__name__)
            await self._send_answer(request, answer, send)
            return
        await next_app(scope, receive, self._recorder(request, session, submission, claim, send))

    # -- which requests -------------------------------------------------------------------------------
    async def _submission(self, request: Request[Any, Any, Any]) -> Submission | None:
        scope = request.scope
        path = scope["path"]
        if path.startswith("/api/"):
            raw = request.headers.get(HEADER.lower())
            if raw is None or not covers(scope.get("route_handler")):
                return None
            key = "api:" + _check_key(raw, HEADER)
            from_form = False
        else:
            content_type, _ = request.content_type
            if content_type not in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
                return None
            token = (await request.form()).get(FORM_FIELD)
            if not token or isinstance(token, UploadFile):
                return None
            key = "form:" + _check_key(str(token), FORM_FIELD)
            from_form = True
        query = scope.get("query_string", b"").decode("latin-1")
        return Submission(
            caller=_caller(scope),
            key=key,
            method=scope["method"],
            path=path + (f"?{query}" if query else ""),
            body_sha256=await _body_digest(request),
            from_form=from_form,
        )

    def _session(self, scope: Scope) -> AsyncSession:
        """The request's session, the one advanced-alchemy gives the handler (created here if first)."""
        return self.database_config.provide_session(scope["app"].state, scope)

    # -- the database half ----------------------------------------------------------------------------
    async def _claim(self, session: AsyncSession, submission: Submission, claim: uuid.UUID) -> Any | None:
        """Take the key (None) or return the row of the request that took it first."""
        wait = FORM_WAIT_SECONDS if submission.from_form else 0.0
        if not await self._lock(session, submission, wait):
            raise _in_progress(submission)
        table = TABLE
        now = clock.now()
        statement = insert(table).values(
            caller=submission.caller,
            key=submission.key,
            claim=claim,
            method=submission.method,
            path=submission.path,
            body_sha256=submission.body_sha256,
            created_at=now,
        )
        take = statement.on_conflict_do_update(
            index_elements=[table.c.caller, table.c.key],
            set_={
                name: statement.excluded[name]
                for name in ("claim", "method", "path", "body_sha256", "status", "headers", "body", "created_at")
            },
            where=table.c.created_at < now - LIFETIME,  # an expired key is free again
        ).returning(table.c.claim)
        if await session.scalar(take) is not None:
            return None
        return await self._row(session, submission)

    async def _lock(self, session: AsyncSession, submission: Submission, wait: float) -> bool:
        """A transaction-scoped advisory lock on (caller, key): one request per key at a time."""
        statement = sql_text("SELECT pg_try_advisory_xact_lock(:namespace, hashtext(:name))").bindparams(
            namespace=LOCK_NAMESPACE, name=f"{submission.caller} {submission.key}"
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        pause = 0.02
        while not await session.scalar(statement):
            if loop.time() + pause > deadline:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.25)
        return True

    async def _row(self, session: AsyncSession, submission: Submission) -> Any | None:
        table = TABLE
        result = await session.execute(
            select(table).where(table.c.caller == submission.caller, table.c.key == submission.key)
        )
        return result.first()

    async def _record(
        self,
        session: AsyncSession,
        submission: Submission,
        claim: uuid.UUID,
        start: HTTPResponseStartEvent,
        body: bytes,
    ) -> bool:
        """Store the answer with the request's writes. False: another request holds the key."""
        table = TABLE
        headers = {}
        for name, value in start.get("headers", []):
            decoded = name.decode("latin-1").lower()
            if decoded == "content-type" or decoded in KEPT_HEADERS:
                headers[decoded] = value.decode("latin-1")
        values = {
            "status": start["status"],
            "headers": headers,
            "body": body,
        }
        statement = insert(table).values(
            caller=submission.caller,
            key=submission.key,
            claim=claim,
            method=submission.method,
            path=submission.path,
            body_sha256=submission.body_sha256,
            created_at=clock.now(),
            **values,
        )
        # The claim is normally still there (UPDATE); a handler that rolled back dropped it (INSERT
        # again), unless another request took the key meanwhile (its claim differs: nothing returned).
        store = statement.on_conflict_do_update(
            index_elements=[table.c.caller, table.c.key],
            set_={name: statement.excluded[name] for name in values},
            where=table.c.claim == statement.excluded.claim,
        ).returning(table.c.claim)
        return await session.scalar(store) is not None

    # -- answers ------------------------------------------------------------------------------------------
    def _answer(self, row: Any, submission: Submission) -> Response[Any] | DomainError:
        """What a request gets when another one already used its key."""
        if not submission.same_request(row):
            if submission.from_form:
                location = (row.headers or {}).get("location")
                return FormAlreadySubmitted(
                    "This form was already submitted; it was not sent again. "
                    "Open what it created, or fill in a new form.",
                    extra={"location": location} if location and location.startswith("/") else None,
                )
            return ValidationFailed.single(
                HEADER, "was already used for a different request (method, path or body) in the last 24 hours"
            )
        if row.status is None:
            return _in_progress(submission)
        headers = dict(row.headers or {})
        media_type = headers.pop("content-type", None)
        headers[REPLAYED_HEADER] = "true"
        return Response(content=row.body or b"", status_code=row.status, headers=headers, media_type=media_type)

    def _recorder(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        submission: Submission,
        claim: uuid.UUID,
        send: Send,
    ) -> Send:
        start: HTTPResponseStartEvent | None = None
        chunks: list[bytes] = []

        async def record_then_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            if 200 <= start["status"] < 400:  # what is committed; anything else rolls back, key included
                try:
                    if not await self._record(session, submission, claim, start, body):
                        await session.rollback()  # lost the key to another request: drop this one's writes
                        row = await self._row(session, submission)
                        answer = self._answer(row, submission) if row else _in_progress(submission)
                        await self._send_answer(request, answer, send)
                        return
                except Exception as exc:
                    await session.rollback()
                    await self._send_error(request, exc, send)
                    return
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return record_then_send

    async def _send_answer(
        self, request: Request[Any, Any, Any], answer: Response[Any] | DomainError, send: Send
    ) -> None:
        if isinstance(answer, DomainError):
            await self._send_error(request, answer, send)
            return
        await answer.to_asgi_response(app=None, request=request)(request.scope, request.receive, send)

    async def _send_error(self, request: Request[Any, Any, Any], exc: Exception, send: Send) -> None:
        from service.lib.web import exception_handler

        response = exception_handler(request, exc)
        await response.to_asgi_response(app=None, request=request)(request.scope, request.receive, send)


def _in_progress(submission: Submission) -> RequestInProgress:
    if submission.from_form:
        return RequestInProgress(
            "This form is still being processed. Reload the page in a moment.", headers={"Retry-After": "1"}
        )
    return RequestInProgress(
        f"A request with this {HEADER} is still being processed. Retry in a moment.", headers={"Retry-After": "1"}
    )


# -- the timed job ----------------------------------------------------------------------------------------
PURGE_BATCH = 5000


async def purge_expired(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Delete keys older than 24 hours, in batches (each its own short transaction)."""
    table = TABLE
    removed = 0
    while True:
        async with sessionmaker.begin() as session:
            expired = (
                select(table.c.caller, table.c.key)
                .where(table.c.created_at < clock.now() - LIFETIME)
                .limit(PURGE_BATCH)
                .with_for_update(skip_locked=True)
            )
            result = await session.execute(delete(table).where(tuple_(table.c.caller, table.c.key).in_(expired)))
            count = int(getattr(result, "rowcount", 0) or 0)
        removed += count
        if count < PURGE_BATCH:
            return removed


JOBS = [JobSpec("idempotency.purge", purge_expired, 3600)]
