"""Load-balancer probes: /health (process up) and /ready (database reachable, schema current)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text

from service.db.migrate import current_heads, head_revisions

_heads: set[str] = set()


@get("/health", tags=["health"], sync_to_thread=False)
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/ready", tags=["health"])
async def ready(state: State) -> Response[dict[str, Any]]:
    """The database answers and its schema is at the migrations' head."""
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current = await conn.run_sync(current_heads)
        if not _heads:
            _heads.update(head_revisions(state.database_url))
    except Exception as exc:  # any failure means not ready
        return Response({"status": "unavailable", "detail": type(exc).__name__}, status_code=503)
    if current != _heads:
        return Response(
            {"status": "migrations pending", "current": sorted(current), "heads": sorted(_heads)}, status_code=503
        )
    return Response({"status": "ready"})


ROUTES = [health, ready]
