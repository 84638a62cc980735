"""Who is calling, cheaply: one prepared statement, and a short in-process cache kept honest by
PostgreSQL LISTEN/NOTIFY.

Every signed-in request needs its caller (token hash → user, role, organization status). The lookup
is one statement in autocommit on a pool connection (the driver's SQL, kept prepared per
connection; no ORM session, no transaction). Its result is kept for `TTL_SECONDS` at most: a bound
on what a lost notification could cost, not what keeps the cache honest (the notifications and the
barrier below do). At 5 s every cached caller came back for a refetch every 5 s, together: in a
booking burst with 600 firms that cost a quarter of the throughput (same-run wrk, 1,298 → 1,619/s).
The same statement reads the caller's account as `GET /api/v1/me` shows it (the user's mail
preferences, the organization's profile), so that request costs no further round trip (`account`).

What keeps the cache honest, across instances: triggers (migrations 022 and 024) send a notification
on the channel `auth_changed` whenever a token is revoked or deleted, or a user's or organization's
fields the caller carries change (whichever code path does it, including plain SQL). Each process listens
on one dedicated connection and drops its whole cache on any notification. A cache hit is only
trusted after a *barrier*: a `SELECT 1` on the listening connection sent after the request arrived.
PostgreSQL delivers every notification committed before that statement ahead of its answer, so a
revocation committed before a request was sent is always seen by that request (concurrent requests
share one barrier round trip). Without a live listening connection the cache is not used at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from service.accounts.service import hash_token
from service.db.engine import connect_raw
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import Unauthorized
from service.registry.models import AgencyType, Organization, OrganizationKind, OrganizationStatus

log = logging.getLogger("service.accounts.callers")

CHANNEL = "auth_changed"
TTL_SECONDS = 30.0
MAX_ENTRIES = 50_000
BARRIER_TIMEOUT_SECONDS = 2.0

# The user and organization columns after the token's: the Principal's first, then the account's.
ACCOUNT_COLUMNS = """
       u.id, u.email, u.name, u.role::text, u.organization_id, u.locale, o.kind::text, o.status::text, o.name,
       u.mail_reminders, u.mail_followups, u.mail_digest,
       o.id, o.status_reason, o.district, o.region_name, o.phone, o.email, o.agency_type::text,
       o.annual_target_krw, o.business_number, o.firm_types, o.certification_number, o.certified_until,
       o.category_codes, o.capacity_krw, o.employees, o.vulnerable_employee_ratio, o.description,
       o.keywords, o.website, o.created_at
"""

CALLER_SQL = f"""
SELECT t.id, t.expires_at, {ACCOUNT_COLUMNS}
  FROM auth_tokens t
  JOIN users u ON u.id = t.user_id
  LEFT JOIN organizations o ON o.id = u.organization_id
 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.is_active
"""

ACCOUNT_SQL = f"""
SELECT {ACCOUNT_COLUMNS}
  FROM users u
  LEFT JOIN organizations o ON o.id = u.organization_id
 WHERE u.id = $1 AND u.is_active
"""

ORGANIZATION_FIELDS = (
    "id",
    "status_reason",
    "district",
    "region_name",
    "phone",
    "email",
    "agency_type",
    "annual_target_krw",
    "business_number",
    "firm_types",
    "certification_number",
    "certified_until",
    "category_codes",
    "capacity_krw",
    "employees",
    "vulnerable_employee_ratio",
    "description",
    "keywords",
    "website",
    "created_at",
)


@dataclass(frozen=True)
class CallerAccount:
    """The caller's account as `GET /api/v1/me` shows it; `organization` is a detached copy, for
    reading only."""

    user_id: uuid.UUID
    email: str
    name: str
    role: str
    organization_id: uuid.UUID | None
    locale: str
    mail_reminders: bool
    mail_followups: bool
    mail_digest: bool
    organization: Organization | None


def account_from_row(row: Any) -> CallerAccount:
    """The account from the ACCOUNT_COLUMNS part of a row (without the token's two columns)."""
    user_id, email, name, role, org_id, locale, kind, status, org_name, reminders, followups, digest = row[:12]
    organization = None
    if row[12] is not None:
        fields: dict[str, Any] = dict(zip(ORGANIZATION_FIELDS, row[12:], strict=True))
        agency_type = fields.pop("agency_type")
        organization = Organization(
            kind=OrganizationKind(kind),
            status=OrganizationStatus(status),
            name=org_name,
            agency_type=AgencyType(agency_type) if agency_type else None,
            **fields,
        )
    return CallerAccount(user_id, email, name, role, org_id, locale, reminders, followups, digest, organization)


@dataclass(frozen=True)
class Entry:
    principal: Principal
    expires_at: datetime
    cached_at: float
    row: Any  # the whole row, the account's columns included

    @cached_property
    def unsettled(self) -> Principal:
        """The principal as given without the barrier round: its write must check it."""
        return replace(self.principal, settled=False)


def principal_from_row(row: Any) -> tuple[Principal, datetime]:
    token_id, expires_at, user_id, email, name, role, org_id, locale, kind, status, org_name = row[:11]
    principal = Principal(
        user_id=user_id,
        email=email,
        name=name,
        role=role,
        organization_id=org_id,
        organization_kind=kind,
        organization_status=status,
        organization_name=org_name,
        locale=locale,
        token_id=token_id,
    )
    return principal, expires_at


class Barrier:
    """`wait()` returns once a `SELECT 1`, sent on `conn` after the call, has been answered.

    Each waiter has its own future (a request that is cancelled cancels only its own), settled by
    the round that follows its call; one timeout per round, not one per waiter.
    """

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.waiters: list[asyncio.Future[None]] | None = None  # the next round's
        self.running = False
        self.task: asyncio.Task[None] | None = None  # held: the loop keeps only a weak reference

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if self.waiters is None:
            self.waiters = [waiter]
            if not self.running:
                self.running = True
                self.task = loop.create_task(self.run())
        else:
            self.waiters.append(waiter)
        await waiter

    async def run(self) -> None:
        try:
            while self.waiters is not None:
                waiting, self.waiters = self.waiters, None
                outcome: Exception | None = None
                try:
                    # a listening connection that stopped answering must not hold requests: they ask the database
                    await asyncio.wait_for(self.conn.fetchval("SELECT 1"), BARRIER_TIMEOUT_SECONDS)
                except Exception as exc:  # the waiters fall back to the database
                    outcome = exc
                for waiter in waiting:
                    if not waiter.done():
                        if outcome is None:
                            waiter.set_result(None)
                        else:
                            waiter.set_exception(outcome)
        finally:
            self.running = False


class CallerCache:
    """The caller lookup of every request; `start()` (application start-up) turns the cache on."""

    def __init__(self, engine: AsyncEngine, database_url: str, ttl: float = TTL_SECONDS) -> None:
        self.reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.database_url = database_url
        self.ttl = ttl
        self.entries: dict[bytes, Entry] = {}
        self.by_token: dict[uuid.UUID, Entry] = {}  # the same entries, by the token's id
        self.accounts: dict[uuid.UUID, tuple[Entry, CallerAccount]] = {}  # built from an entry's row
        self.listener: asyncpg.Connection | None = None
        self.barrier: Barrier | None = None
        self.reconnect: asyncio.Task[None] | None = None
        self.closing = False
        self.generation = 0  # bumped whenever the cache is dropped
        self.hits = 0
        self.misses = 0

    # -- listening ------------------------------------------------------------------
    async def start(self) -> None:
        try:
            await self.listen()
        except Exception:  # the database is not there yet: keep trying, serve uncached meanwhile
            log.warning("caller cache: cannot listen yet, retrying", exc_info=True)
            self.schedule_reconnect()

    async def listen(self) -> None:
        conn = await connect_raw(self.database_url)
        try:
            await conn.add_listener(CHANNEL, self.on_notify)
        except BaseException:  # failed or cancelled (closing): the connection is not left open
            conn.terminate()
            raise
        conn.add_termination_listener(self.on_lost)
        self.drop()
        self.listener, self.barrier = conn, Barrier(conn)

    def drop(self) -> None:
        self.generation += 1
        self.entries.clear()
        self.by_token.clear()
        self.accounts.clear()

    def on_notify(self, *_: Any) -> None:
        self.drop()

    def on_lost(self, *_: Any) -> None:
        self.listener = self.barrier = None
        self.drop()
        if not self.closing:
            self.schedule_reconnect()

    def schedule_reconnect(self) -> None:
        if self.reconnect is None or self.reconnect.done():
            self.reconnect = asyncio.get_running_loop().create_task(self.keep_trying())

    async def keep_trying(self) -> None:
        while not self.closing and self.listener is None:
            await asyncio.sleep(1.0)
            with contextlib.suppress(Exception):
                await self.listen()

    async def close(self) -> None:
        self.closing = True
        if self.reconnect is not None:
            self.reconnect.cancel()
            await asyncio.wait([self.reconnect])  # a connection it was opening is closed before the loop ends
        listener, self.listener, self.barrier = self.listener, None, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close(timeout=2)

    # -- lookup -----------------------------------------------------------------------
    async def principal(self, raw_token: str, *, settle: bool = True) -> Principal | None:
        """The caller of `raw_token`, None for an unknown, revoked or expired token.

        A cached caller is current once the barrier round confirms that every change committed
        before this call has been notified (`settle`). A request whose write checks the caller in
        its own statement (`identity.deps.WRITE_CHECKS_CALLER`) passes `settle=False`: a change
        the cache has not heard of yet is caught by that statement instead, one round trip fewer.
        """
        key = hash_token(raw_token)
        loop = asyncio.get_running_loop()
        entry = self.entries.get(key)
        barrier = self.barrier
        if entry is not None and barrier is not None and loop.time() - entry.cached_at < self.ttl:
            try:
                if settle:
                    await barrier.wait()
            except Exception:  # the listening connection failed: ask the database
                entry = None
            if entry is not None and self.entries.get(key) is entry:
                if entry.expires_at > now():
                    self.hits += 1
                    return entry.principal if settle else entry.unsettled
                return None
        self.misses += 1
        started, generation = loop.time(), self.generation
        listening = self.barrier is not None
        row = await self.fetch(key)
        if row is None:
            return None
        principal, expires_at = principal_from_row(row)
        if expires_at <= now():
            return None
        # Only what was read while listening, with no notification since, may be kept: a change
        # committed after the read notifies before or after this point, never unseen.
        if listening and self.barrier is not None and generation == self.generation:
            if len(self.entries) >= MAX_ENTRIES:
                self.drop()
            self.entries[key] = self.by_token[principal.token_id] = Entry(principal, expires_at, started, row)
        return principal

    async def account(self, caller: Principal) -> CallerAccount:
        """The caller's account: from the entry that identified this very caller while it is still
        cached (no notification since: it is as fresh as the caller check of this request), else one
        statement. Unauthorized when the user is gone or deactivated."""
        entry = self.by_token.get(caller.token_id)
        if entry is not None and entry.principal is caller:
            known = self.accounts.get(caller.token_id)
            if known is not None and known[0] is entry:
                return known[1]
            account = account_from_row(entry.row[2:])
            self.accounts[caller.token_id] = (entry, account)
            return account
        async with self.reader.connect() as conn:
            row = (await conn.exec_driver_sql(ACCOUNT_SQL, (caller.user_id,))).first()
        if row is None:
            raise Unauthorized("Sign in first.")
        return account_from_row(row)

    async def fetch(self, key: bytes) -> Any:
        # The driver's SQL through SQLAlchemy: nothing to compile, the adapter keeps it prepared per
        # connection, autocommit sends no BEGIN; a lost connection becomes SQLAlchemy's error (503)
        # and is dropped from the pool.
        async with self.reader.connect() as conn:
            return (await conn.exec_driver_sql(CALLER_SQL, (key,))).first()
