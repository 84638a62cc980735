"""Engine and session factory; creating the application database when it is missing."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn

from service.config import Settings
from service.db.embedded import APP_DATABASE, socket_url, start_embedded

log = logging.getLogger("service.db")


def resolve_database_url(settings: Settings) -> str:
    """The libpq URL of the application database, starting the embedded server when needed."""
    if settings.db.url:
        return settings.db.url
    server = start_embedded(settings.app.data_dir / "pg")
    return socket_url(server, APP_DATABASE)


def sqlalchemy_url(libpq_url: str) -> URL:
    """Turn a libpq URL (possibly with ?host=/socket/dir) into an asyncpg SQLAlchemy URL."""
    parts = urlsplit(libpq_url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    url = make_url(libpq_url.split("?", 1)[0]).set(drivername="postgresql+asyncpg")
    if "host" in query and query["host"].startswith("/"):
        # asyncpg takes a socket directory as host; SQLAlchemy passes query args through.
        url = url.set(query={"host": query["host"], **({"port": query["port"]} if "port" in query else {})})
    elif query:
        url = url.set(query=query)
    return url


async def connect_raw(libpq_url: str, database: str | None = None) -> asyncpg.Connection:
    """A plain asyncpg connection (for DDL such as CREATE DATABASE and for benchmarks)."""
    url = sqlalchemy_url(libpq_url)
    kwargs: dict[str, Any] = {
        "user": url.username or "postgres",
        "password": url.password,
        "database": database or url.database,
    }
    host = url.query.get("host")
    if isinstance(host, str) and host.startswith("/"):
        kwargs["host"] = host
        kwargs["port"] = int(str(url.query.get("port") or url.port or 5432))
    else:
        kwargs["host"] = url.host or "localhost"
        kwargs["port"] = url.port or 5432
    return await asyncpg.connect(**kwargs)


async def ensure_database(libpq_url: str) -> None:
    """Create the target database (UTF-8 ctype, from template0) if it does not exist."""
    name = sqlalchemy_url(libpq_url).database
    assert name
    conn = await connect_raw(libpq_url, database="postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # another process starting at the same moment may have created it first
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0")
    finally:
        await conn.close()


def make_engine(libpq_url: str, pool_size: int = 10, slow_query_ms: int = 200) -> AsyncEngine:
    """Up to 2 × `pool_size` connections (DATABASE_POOL_SIZE), opened when first needed and then kept.

    They used to be `pool_size` kept plus as many "overflow" ones, closed on return: under a burst
    every overflow checkout connected, introspected asyncpg's types and prepared its statements
    again, then threw it all away (asyncpg connect/_introspect_types/prepare showed in profiles).
    """
    engine = create_async_engine(
        sqlalchemy_url(libpq_url),
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_timeout=10,
    )
    _ping_idle_connections(engine)
    _log_slow_queries(engine, slow_query_ms)
    return engine


IDLE_PING_SECONDS = 5.0


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Pre-ping, but only connections that sat in the pool for a while.

    SQLAlchemy's `pool_pre_ping` costs three round trips per checkout with asyncpg (BEGIN, ping,
    ROLLBACK): a third of a booking's. A connection used a moment ago is alive; one that waited
    (say, through a database restart) is checked, and a dead one is replaced before the request
    sees it. A connection that dies in between still surfaces as a disconnect error, which makes
    SQLAlchemy invalidate the pool's older connections: the request gets a 503, the next ones
    fresh connections.
    """
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # new (just connected) or used a moment ago
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("connection did not answer a ping") from exc


SETTINGS_KEY = "settings"


def make_sessionmaker(engine: AsyncEngine, settings: Settings | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests, jobs and commands. Each carries `settings` in its `info`, so the code
    running inside its transaction (domain event handlers) uses the settings the app or command was
    given rather than reading the environment again. A session made without settings cannot
    publish domain events (`session_settings` raises)."""
    info = {SETTINGS_KEY: settings} if settings is not None else {}
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


def session_settings(session: AsyncSession) -> Settings:
    """The settings `session`'s sessionmaker was made with (see `make_sessionmaker`)."""
    settings = session.info.get(SETTINGS_KEY)
    if not isinstance(settings, Settings):
        raise LookupError("this session carries no settings: make its sessionmaker with make_sessionmaker()")
    return settings


def _log_slow_queries(engine: AsyncEngine, threshold_ms: int) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("query_start", []).append(time.perf_counter())

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        started = conn.info["query_start"].pop()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms >= threshold_ms:
            log.warning("slow query %.0f ms: %s", elapsed_ms, " ".join(statement.split())[:500])


def idle(session: AsyncSession) -> bool:
    """Whether the session has begun nothing: no transaction open, no object waiting to be flushed."""
    return not (session.in_transaction() or session.new or session.dirty or session.deleted)


async def fetch_row(session: AsyncSession, statement: str, *args: Any, alone: bool = False) -> tuple[Any, ...] | None:
    """Run one statement (`$1`-style parameters); its first row, values as the driver decodes them,
    or None.

    In the session's transaction (pending ORM changes flushed first), or, `alone`, as a transaction
    of its own straight on a driver connection from the pool of the session's engine: one round
    trip, with no BEGIN, no COMMIT and none of SQLAlchemy's per-statement work (its
    `engine.connect()` alone cost about twice the pool's checkout here). `alone` only for a
    statement that is its request's whole write (the caller checks `idle(session)`).
    """
    if alone:
        return await _fetch_alone(session, statement, args)
    await session.flush()
    conn = await session.connection()
    row = (await conn.exec_driver_sql(statement, args)).first()
    return tuple(row) if row is not None else None


async def _fetch_alone(session: AsyncSession, statement: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The checkout goes through the pool's events (the idle ping) as any other; a connection the
    statement found closed is invalidated, not returned to the pool."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine), "the session must be bound to one engine"
    pooled = await greenlet_spawn(engine.sync_engine.pool.connect)
    driver = pooled.driver_connection
    try:
        row = await driver.fetchrow(statement, *args)  # type: ignore[union-attr]
    except BaseException:
        if driver is None or driver.is_closed():
            pooled.invalidate()
        raise
    finally:
        pooled.close()
    return tuple(row) if row is not None else None
