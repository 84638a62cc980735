"""Shutting the app down leaves no database connection behind, even with a session's last-use note
still being written (the note is written beside the request, which does not wait for it).

The app is served here as a server serves it, its lifespan and its requests on the test's event
loop (the test client runs both on a loop of its own, blocking the test's while it shuts down), so
the test can hold the note back and let it go while the shutdown waits."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import PASSWORD, firm_payload


@asynccontextmanager
async def served(app: Litestar, on_shutdown: Callable[[], object]) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan started and, on leaving, shut down, on this loop; `on_shutdown` is called
    once the shutdown has been asked for."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http:
            yield http
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        on_shutdown()
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


async def test_shutdown_waits_for_the_last_use_notes_being_written(app: Litestar, engine: AsyncEngine) -> None:
    payload = firm_payload()
    releasing: list[asyncio.Task[None]] = []
    gc.collect()  # earlier tests' garbage is not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with engine.connect() as blocker:

            async def release() -> None:
                await asyncio.sleep(0.3)  # the shutdown is under way, the note still held back
                await blocker.rollback()

            async with served(app, on_shutdown=lambda: releasing.append(asyncio.create_task(release()))) as http:
                assert (await http.post("/api/v1/register", json=payload)).status_code == 201
                login = await http.post(
                    "/api/v1/auth/login", json={"email": payload["user"]["email"], "password": PASSWORD}
                )
                token = login.json()["token"]
                await blocker.execute(text("LOCK TABLE auth_tokens IN EXCLUSIVE MODE"))  # the note waits
                me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
                assert me.status_code == 200
            assert releasing[0].done()  # the shutdown waited for the note, which waited for the lock
            seen = await blocker.scalar(text("SELECT count(*) FROM auth_tokens WHERE last_seen_at IS NOT NULL"))
            await blocker.rollback()
        gc.collect()
    assert seen
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaked, leaked
