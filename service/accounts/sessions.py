"""A user's sessions (bearer tokens and browser sessions): list them, end them, note their last use.

A session ends by setting `auth_tokens.revoked_at`: the caller lookup refuses a revoked token on
the very next request (and whatever caches that lookup watches the column).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.models import AuthToken
from service.db.engine import fetch_row
from service.lib.clock import now
from service.lib.errors import NotFound

# A session's `last_seen_at` is written at most this often (per process and token), so following
# a session costs one small UPDATE every few minutes, not one per request.
TOUCH_EVERY_SECONDS = 300.0
_touched: dict[uuid.UUID, float] = {}
_noting: set[asyncio.Task[None]] = set()
log = logging.getLogger("service.accounts.sessions")

BROWSERS = (("Edg/", "Edge"), ("Whale/", "Whale"), ("SamsungBrowser/", "Samsung Internet"),
            ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))  # fmt: skip
SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("Linux", "Linux"))  # fmt: skip


def device_label(user_agent: str | None) -> str:
    """A short name of the browser and system ("Chrome · Windows"), or the raw agent's start."""
    agent = user_agent or ""
    browser = next((name for marker, name in BROWSERS if marker in agent), None)
    system = next((name for marker, name in SYSTEMS if marker in agent), None)
    if browser or system:
        return " · ".join(part for part in (browser, system) if part)
    return re.sub(r"\s+", " ", agent)[:40]


@dataclass(frozen=True)
class SessionInfo:
    id: uuid.UUID
    device: str
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool


def live(user_id: uuid.UUID) -> tuple[object, ...]:
    return (AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None), AuthToken.expires_at > now())


async def list_sessions(session: AsyncSession, user_id: uuid.UUID, current: uuid.UUID | None) -> list[SessionInfo]:
    """The user's live sessions, the one in use first, then the most recently seen."""
    await settle_touches()
    rows: Sequence[AuthToken] = (
        await session.scalars(select(AuthToken).where(*live(user_id)).order_by(AuthToken.created_at.desc()).limit(200))  # type: ignore[arg-type]
    ).all()
    infos = [
        SessionInfo(
            id=t.id,
            device=device_label(t.user_agent),
            user_agent=t.user_agent,
            created_at=t.created_at,
            last_seen_at=t.last_seen_at or t.created_at,
            expires_at=t.expires_at,
            current=t.id == current,
        )
        for t in rows
    ]
    return sorted(infos, key=lambda s: (not s.current, -s.last_seen_at.timestamp()))


async def end_session(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
    """End one of the user's own sessions; 404 for anyone else's or one already ended."""
    ended = await session.scalar(
        update(AuthToken)
        .where(AuthToken.id == token_id, *live(user_id))  # type: ignore[arg-type]
        .values(revoked_at=now())
        .returning(AuthToken.id)
    )
    if ended is None:
        raise NotFound("No such sign-in session.")


async def end_sessions(session: AsyncSession, user_id: uuid.UUID, keep: uuid.UUID | None = None) -> int:
    """End every live session of the user except `keep`; returns how many ended."""
    keep_clause = [AuthToken.id != keep] if keep is not None else []
    result = await session.execute(
        update(AuthToken)
        .where(*live(user_id), *keep_clause)  # type: ignore[arg-type]
        .values(revoked_at=now())
        .returning(AuthToken.id)
    )
    return len(result.all())


def touch(sessionmaker: async_sessionmaker[AsyncSession], token_id: uuid.UUID) -> None:
    """Note that the session was used now, unless this process did so in the last few minutes.

    One statement on its own, written beside the request, which does not wait for it: the first
    request of each session in each process had waited for a transaction of its own (a tenth of
    the requests when booking opens). `list_sessions` waits for the notes still being written."""
    moment = time.monotonic()
    if moment - _touched.get(token_id, -TOUCH_EVERY_SECONDS) < TOUCH_EVERY_SECONDS:
        return
    if len(_touched) > 10_000:
        _touched.clear()
    _touched[token_id] = moment
    task = asyncio.get_running_loop().create_task(_note_seen(sessionmaker, token_id, now()))
    _noting.add(task)  # held: the loop keeps only a weak reference
    task.add_done_callback(_noting.discard)


async def _note_seen(sessionmaker: async_sessionmaker[AsyncSession], token_id: uuid.UUID, at: datetime) -> None:
    try:
        async with sessionmaker() as session:
            await fetch_row(session, "UPDATE auth_tokens SET last_seen_at = $2 WHERE id = $1", token_id, at, alone=True)
    except Exception:  # "last seen" is a courtesy: a database that is away costs it, nothing else
        log.warning("could not note the last use of a session", exc_info=True)


async def settle_touches(timeout: float | None = None) -> None:
    """Wait for the notes of last use this process is still writing (on this event loop); those
    still unwritten after `timeout` seconds are given up (cancelled, and waited for, so that their
    connections go back to the pool before it is closed)."""
    loop = asyncio.get_running_loop()
    mine = [task for task in _noting if task.get_loop() is loop]
    if not mine:
        return
    _, late = await asyncio.wait(mine, timeout=timeout)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late)
