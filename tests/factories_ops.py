"""Builders for the security, authorization and browser tests: actors, CSRF pairs, the route table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from tests.factories import PASSWORD, Account, create_staff, verified_agency, verified_firm

ROOT = Path(__file__).resolve().parent.parent
ACTORS = ("anonymous", "firm_a", "firm_b", "agency_x", "agency_y", "staff")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def csrf_from(html: str) -> str:
    """The CSRF token of a page: a form's `_csrf_token`, else the htmx header every page carries."""
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html) or re.search(r'"x-csrftoken": "([^"]+)"', html)
    assert match, "page without a CSRF token"
    return match.group(1)


def route_table(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, path template) the app answers, without the automatic OPTIONS/HEAD handlers."""
    routes: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in ("OPTIONS", "HEAD"):
                    routes.add((method, route.path))
    return routes


def fill_path(template: str, values: dict[str, str]) -> str:
    """Replace `{name:type}` placeholders with values (by name), else a sample of the type."""
    import uuid

    def replace(match: re.Match[str]) -> str:
        name, _, kind = match.group(1).partition(":")
        if name in values:
            return values[name]
        samples = {"uuid": str(uuid.uuid4()), "int": "1", "float": "1.0", "date": "2026-11-28", "decimal": "1"}
        return samples.get(kind, "x")

    return re.sub(r"\{([^}]+)\}", replace, template)


@dataclass
class CsrfPair:
    """The CSRF cookie and the form/header token a page gave: a double-submit pair for an
    anonymous visitor; for a signed-in one the token is bound to the session it was served to."""

    cookie: str
    token: str

    def headers(self, session: str | None = None) -> dict[str, str]:
        cookie = f"csrftoken={self.cookie}" + (f"; pm_session={session}" if session else "")
        return {"x-csrftoken": self.token, "cookie": cookie}


async def csrf_pair(client: AsyncTestClient[Litestar], session: str | None = None) -> CsrfPair:
    """A pair from the sign-in page as an anonymous visitor, or from the home page as `session`."""
    if session:
        response = await client.get("/", headers={"cookie": f"pm_session={session}"})
    else:
        response = await client.get("/login")
    token = csrf_from(response.text)
    cookie = response.cookies.get("csrftoken") or client.cookies.get("csrftoken")
    assert cookie, "the CSRF cookie was not set"
    client.cookies.clear()
    return CsrfPair(cookie=cookie, token=token)


@dataclass
class World:
    """Five signed-in actors (all organizations verified) and the anonymous caller."""

    staff: Account
    firm_a: Account
    firm_b: Account
    agency_x: Account
    agency_y: Account
    extra: dict[str, str] = field(default_factory=dict)
    sessionmaker: async_sessionmaker[AsyncSession] | None = None

    def account(self, actor: str) -> Account | None:
        return None if actor == "anonymous" else getattr(self, actor)

    def bearer(self, actor: str) -> dict[str, str]:
        account = self.account(actor)
        return account.headers if account else {}

    def token(self, actor: str) -> str | None:
        account = self.account(actor)
        return account.token if account else None


async def build_world(
    client: AsyncTestClient[Litestar], sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> World:
    staff = await create_staff(client, sessionmaker, settings)
    world = World(
        staff=staff,
        firm_a=await verified_firm(client, staff),
        firm_b=await verified_firm(client, staff),
        agency_x=await verified_agency(client, staff),
        agency_y=await verified_agency(client, staff),
        sessionmaker=sessionmaker,
    )
    client.cookies.clear()
    return world


# -- a real server in a subprocess ------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crashed host or the OOM killer would: no shutdown hook runs."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


@contextmanager
def live_server(
    database_url: str, data_dir: Path, log_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """`procmatch serve` on a free port against `database_url`; stopped (SIGTERM, then kill) on exit."""
    with live_servers(database_url, data_dir, log_dir, [extra_env or {}]) as (server,):
        yield server


@contextmanager
def live_servers(
    database_url: str, data_dir: Path, log_dir: Path, envs: list[dict[str, str]]
) -> Iterator[list[LiveServer]]:
    """One `procmatch serve` per entry of `envs` (extra environment), all on one database,
    started together and all ready before the block runs; stopped (SIGTERM, then kill) on exit."""
    log_dir.mkdir(parents=True, exist_ok=True)
    servers: list[LiveServer] = []
    logs = []
    try:
        for extra_env in envs:
            port = free_port()
            logs.append((log_dir / f"server-{port}.log").open("wb"))
            servers.append(_start_server(database_url, data_dir, port, logs[-1], extra_env))
        _wait_ready(servers, deadline=time.monotonic() + 60)
        yield servers
    finally:
        _stop_servers(servers)
        for log in logs:
            log.close()


def _start_server(database_url: str, data_dir: Path, port: int, log: BinaryIO, extra_env: dict[str, str]) -> LiveServer:
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": "live-server-secret-key-0123456789",
        "BASE_URL": base,
        "SCHEDULER_ENABLED": "0",
        "LOG_FORMAT": "text",
        # every client of a test comes from 127.0.0.1 (the limit has its own tests)
        "REGISTRATION_LIMIT_PER_HOUR": "100000",
        **extra_env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return LiveServer(base, database_url, Path(log.name), process)


def _wait_ready(servers: list[LiveServer], deadline: float) -> None:
    waiting = list(servers)
    while waiting:
        server = waiting[0]
        assert server.process is not None
        if server.process.poll() is not None:
            raise AssertionError(f"server exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.base_url}/ready", timeout=1).status_code == 200:
                waiting.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"server not ready in 60 s:\n{server.log_tail()}")
        time.sleep(0.2)


def _stop_servers(servers: list[LiveServer]) -> None:
    for server in servers:
        assert server.process is not None
        server.process.terminate()
    for server in servers:
        assert server.process is not None
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


def make_staff(database_url: str, email: str | None = None, password: str = PASSWORD) -> str:
    """A staff account written straight into the database (as `procmatch create-staff` does)."""
    import asyncio
    import uuid

    from service.accounts.service import AccountService
    from service.config import AuthSettings
    from service.db.engine import make_engine, make_sessionmaker

    address = email or f"staff-{uuid.uuid4().hex[:6]}@center.kr"

    async def create() -> None:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine).begin() as session:
                await AccountService(session, AuthSettings(secret_key="unused-here-0123456789")).create_staff(
                    address, password, "센터 직원"
                )
        finally:
            await engine.dispose()

    asyncio.run(create())
    return address


class PgProxy:
    """A TCP front for the test PostgreSQL's unix socket that a test can cut and restore,
    to play a database outage without stopping the server every other test uses."""

    def __init__(self, server_url: str) -> None:
        from urllib.parse import parse_qs, urlsplit

        query = {k: v[-1] for k, v in parse_qs(urlsplit(server_url).query).items()}
        assert query.get("host", "").startswith("/"), "PgProxy needs the embedded (unix socket) server"
        self.socket_path = f"{query['host']}/.s.PGSQL.{query.get('port', '5432')}"
        self.port = free_port()
        self._loop: Any = None
        self._thread: Any = None
        self._server: Any = None
        self._writers: set[Any] = set()
        self._generation = 0
        self._cut_after: bytes | None = None

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PgProxy:
        import asyncio
        import threading

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.restore()
        return self

    def _call(self, coroutine: Any) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _pipe(self, reader: Any, writer: Any, upstream: bool = False) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
                if upstream and self._cut_after is not None and self._cut_after in data:
                    self._cut_after = None
                    await self._close_all()  # the server has the message; its answer never comes back
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def cut_after(self, marker: bytes) -> None:
        """Cut (as `cut`) right after passing on the first client message that contains `marker`."""
        self._cut_after = marker

    async def _handle(self, client_reader: Any, client_writer: Any) -> None:
        import asyncio

        generation = self._generation
        self._writers.add(client_writer)  # a cut while connecting upstream breaks it too
        try:
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.socket_path)
        except OSError:
            client_writer.close()
            return
        if generation != self._generation:  # cut meanwhile: this connection must not survive it
            client_writer.transport.abort()
            upstream_writer.transport.abort()
            return
        self._writers |= {client_writer, upstream_writer}
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer, upstream=True), self._pipe(upstream_reader, client_writer)
        )
        self._writers -= {client_writer, upstream_writer}

    def restore(self) -> None:
        import asyncio

        async def open_server() -> Any:
            return await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

        self._server = self._call(open_server())

    def cut(self) -> None:
        """Refuse new connections and break every open one, as a crashed server would."""

        self._call(self._close_all())

    async def _close_all(self) -> None:
        self._generation += 1
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def stop(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


# -- booking load and the audit of what it left (the fault and scale-out tests) --------------------
@dataclass
class Attempt:
    """One booking request by one firm, and what its client saw (status None: no answer at all)."""

    token: str
    firm_id: str
    agency_id: str
    start: str
    base_url: str = ""
    status: int | None = None
    content_type: str = ""
    body: Any = None
    error: str | None = None
    seconds: float = 0.0
    sent_at: float = 0.0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.firm_id, self.agency_id, self.start)


async def issue_tokens(database_url: str, user_ids: list[Any]) -> list[str]:
    """Bearer tokens for users written straight into the database (seed_principals)."""
    from service.accounts.models import User
    from service.accounts.service import AccountService
    from service.config import AuthSettings
    from service.db.engine import make_engine, make_sessionmaker

    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            accounts = AccountService(session, AuthSettings(secret_key="unused-here-0123456789"))
            tokens = []
            for user_id in user_ids:
                user = await session.get(User, user_id)
                assert user is not None
                tokens.append((await accounts.issue_token(user, "fault-test"))[0])
            return tokens
    finally:
        await engine.dispose()


async def post_booking(http: httpx.AsyncClient, fair_id: str, attempt: Attempt) -> Attempt:
    """POST one booking; never raises: a cut connection or a timeout leaves `status` None."""
    attempt.sent_at = time.monotonic()
    try:
        response = await http.post(
            f"{attempt.base_url}/api/v1/fairs/{fair_id}/meetings",
            json={"agency_id": attempt.agency_id, "start": attempt.start},
            headers={"Authorization": f"Bearer {attempt.token}"},
        )
    except httpx.HTTPError as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"
    else:
        attempt.status = response.status_code
        attempt.content_type = response.headers.get("content-type", "")
        try:
            attempt.body = response.json()
        except ValueError:
            attempt.body = response.text[:500]
    attempt.seconds = time.monotonic() - attempt.sent_at
    return attempt


@dataclass
class BookingAudit:
    """Every live meeting of a fair held against what the clients were told."""

    meetings: dict[tuple[str, str, str], str]  # (firm, agency, start iso) -> meeting id
    incomplete: list[str]  # meetings without their history row or their mails
    accepted_missing: list[Attempt]  # 201 seen, no such complete meeting
    unexplained: list[tuple[str, int | None]]  # meeting whose client got a definite refusal, or no client
    unknown_but_complete: int  # no answer / 503, yet the booking committed (complete)

    def assert_sound(self) -> None:
        assert not self.incomplete, f"half-written bookings: {self.incomplete[:5]}"
        assert not self.accepted_missing, f"201 without a meeting: {[a.key for a in self.accepted_missing[:5]]}"
        assert not self.unexplained, f"meetings nobody was told about: {self.unexplained[:5]}"


async def audit_bookings(
    database_url: str, fair_id: str, attempts: list[Attempt], mails_per_meeting: int = 2
) -> BookingAudit:
    """Read the fair's meetings, their `booked` history rows, their booking notices and `booked` outbox mails.

    A booking is complete when its meeting, its history row and its mails exist together: either its
    notice (committed with the meeting; the dispatcher has not expanded it yet) and no mail, or no
    notice and one mail per person of both sides. Requests whose outcome the client could not know (no answer, or a 503
    from a commit cut short) may have committed; they are counted, and allowed only if complete.
    """
    from service.db.engine import connect_raw

    conn = await connect_raw(database_url)
    try:
        rows = await conn.fetch(
            """
            SELECT m.id, m.firm_id, m.agency_id, m.starts_at,
                   (SELECT count(*) FROM meeting_events e WHERE e.meeting_id = m.id AND e.kind = 'booked') AS history,
                   (SELECT count(*) FROM outbox_messages o
                     WHERE o.dedupe_key LIKE 'meeting:' || replace(m.id::text, '-', '') || ':booked:0:%') AS mails,
                   (SELECT count(*) FROM mail_notices n WHERE n.meeting_id = m.id AND n.kind = 'booked') AS notices
              FROM meetings m
             WHERE m.fair_id = $1 AND m.status <> 'cancelled'
            """,
            uuid_of(fair_id),
        )
    finally:
        await conn.close()
    from datetime import UTC, datetime

    def norm(start: str) -> str:
        return datetime.fromisoformat(start).astimezone(UTC).isoformat()

    meetings = {
        (str(r["firm_id"]), str(r["agency_id"]), r["starts_at"].astimezone(UTC).isoformat()): str(r["id"]) for r in rows
    }
    owed = {(1, 0), (0, mails_per_meeting)}  # (notices, mails): the notice pending, or expanded into the mails
    incomplete = [str(r["id"]) for r in rows if r["history"] != 1 or (r["notices"], r["mails"]) not in owed]
    by_key = {(a.firm_id, a.agency_id, norm(a.start)): a for a in attempts}
    assert len(by_key) == len(attempts), "each attempt must book a distinct (firm, agency, start)"
    accepted_missing = [
        a for a in attempts if a.status == 201 and meetings.get((a.firm_id, a.agency_id, norm(a.start))) != a.body["id"]
    ]
    unexplained: list[tuple[str, int | None]] = []
    unknown = 0
    for key, meeting_id in meetings.items():
        attempt = by_key.get(key)
        if attempt is None:
            unexplained.append((meeting_id, -1))
        elif attempt.status in (None, 503):
            unknown += 1
        elif attempt.status != 201:
            unexplained.append((meeting_id, attempt.status))
    return BookingAudit(meetings, incomplete, accepted_missing, unexplained, unknown)


def uuid_of(value: str) -> Any:
    import uuid

    return uuid.UUID(str(value))


class BookingLoad:
    """`workers` clients booking without pause, each attempt a fresh (firm, agency, start) taken
    from `plan`, spread round-robin over `bases`; runs until `stop()` or the plan runs out."""

    def __init__(self, fair_id: str, plan: Iterator[tuple[str, str, str, str]], bases: list[str], workers: int) -> None:
        import asyncio

        self.fair_id = fair_id
        self.plan = plan
        self.bases = bases
        self.workers = workers
        self.attempts: list[Attempt] = []
        self._stop = asyncio.Event()
        self._turn = 0

    def stop(self) -> None:
        self._stop.set()

    def seen(self, status: int | None, since: float = 0.0) -> int:
        return sum(1 for a in self.attempts if a.status == status and a.sent_at >= since and a.seconds)

    async def _worker(self, http: httpx.AsyncClient) -> None:
        import asyncio

        while not self._stop.is_set():
            try:
                token, firm, agency, start = next(self.plan)
            except StopIteration:
                return
            self._turn += 1
            attempt = Attempt(token, firm, agency, start, base_url=self.bases[self._turn % len(self.bases)])
            self.attempts.append(attempt)
            await post_booking(http, self.fair_id, attempt)
            if attempt.status in (None, 503):
                await asyncio.sleep(0.05)  # a client backing off a little, as Retry-After asks

    async def run(self) -> None:
        import asyncio

        limits = httpx.Limits(max_connections=self.workers * 2, max_keepalive_connections=self.workers * 2)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            await asyncio.gather(*(self._worker(http) for _ in range(self.workers)))


async def wait_until(condition: Any, timeout: float, what: str, step: float = 0.05) -> float:
    """Poll `condition()` (sync or async) until true; returns the seconds it took."""
    import asyncio
    import inspect

    started = time.monotonic()
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(step)


@dataclass
class BookingFair:
    """A first-come fair seeded straight into the database, and bearer tokens for its firms."""

    fair_id: str
    agencies: list[str]
    firms: list[tuple[str, str]]  # (token, firm id)
    starts: list[str]

    def plan(self, seed: int = 8) -> Iterator[tuple[str, str, str, str]]:
        """Every (firm, agency, start) once, in a seeded random order: attempts never repeat."""
        import random

        combos = [(t, f, a, s) for t, f in self.firms for a in self.agencies for s in self.starts]
        random.Random(seed).shuffle(combos)
        return iter(combos)

    def contested(self, per_slot: int) -> list[tuple[str, str, str, str]]:
        """`per_slot` different firms for each (agency, start): exactly one of each group can win."""
        out = []
        for i, (agency, start) in enumerate((a, s) for a in self.agencies for s in self.starts):
            for j in range(per_slot):
                token, firm = self.firms[(i + j * 7) % len(self.firms)]
                out.append((token, firm, agency, start))
        return out


async def seed_booking_fair(
    sessionmaker: async_sessionmaker[AsyncSession], database_url: str, agencies: int, firms: int, slots: int
) -> BookingFair:
    from tests.factories_fairs import fair_days, seed_fair, seed_principals, starts

    agency_list = await seed_principals(sessionmaker, "agency", agencies)
    firm_list = await seed_principals(sessionmaker, "firm", firms)
    end = f"{10 + slots * 10 // 60:02d}:{slots * 10 % 60:02d}"
    fair = await seed_fair(
        sessionmaker, participants=[*agency_list, *firm_list], days=fair_days("10:00", end), slot_minutes=10
    )
    grid = starts(fair)
    assert len(grid) == slots
    tokens = await issue_tokens(database_url, [f.user_id for f in firm_list])
    return BookingFair(
        str(fair.id),
        [str(a.organization_id) for a in agency_list],
        [(t, str(f.organization_id)) for t, f in zip(tokens, firm_list, strict=True)],
        [s.isoformat() for s in grid],
    )
