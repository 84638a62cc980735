"""Load-balancer probes: /health (process up) and /ready (database reachable, schema current)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State

from service.health.probes import schema_revisions


@get("/health", tags=["health"], sync_to_thread=False)
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/ready", tags=["health"])
async def ready(state: State) -> Response[dict[str, Any]]:
    """The database answers and its schema is at the migrations' head."""
    try:
        current, heads = await schema_revisions(state.engine, state.database_url)
    except Exception as exc:  # any failure means not ready
        return Response({"status": "unavailable", "detail": type(exc).__name__}, status_code=503)
    if current != heads:
        return Response(
            {"status": "migrations pending", "current": sorted(current), "heads": sorted(heads)}, status_code=503
        )
    return Response({"status": "ready"})


ROUTES = [health, ready]
