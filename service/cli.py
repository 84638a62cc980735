"""`procmatch`: serve, scheduler, db, create-staff, demo."""

from __future__ import annotations

import asyncio
import logging.config
import os
import signal
import subprocess
import sys
import warnings
from typing import Any

import click

from service.config import SettingsError, get_settings, load_settings
from service.lib.observability import drain_logs, log_config
from service.serving import SPREADS, run_workers


def _settings_or_exit() -> None:
    try:
        load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def _prepare_database() -> str:
    """Resolve (or start) the database, apply pending migrations; return its URL."""
    from service.db.engine import resolve_database_url
    from service.db.migrate import upgrade

    _settings_or_exit()
    url = resolve_database_url(get_settings())
    upgrade(url)
    # Workers and reloads are new processes: they reuse this server instead of starting one.
    os.environ["DATABASE_URL"] = url
    return url


def _exit_normally_on_sigterm() -> None:
    """Make SIGTERM a normal exit (status 0), so atexit hooks run: they stop an embedded
    PostgreSQL this process started. uvicorn handles the SIGTERM itself (graceful shutdown),
    then raises it again with the handler found at start, which by default killed the process
    on the spot and left the database server running."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


def _disable_scheduler() -> None:
    """`--no-scheduler`: with one worker uvicorn builds the app in this very process, whose
    settings may already be cached (read by `_prepare_database`), so the cache is dropped too."""
    os.environ["SCHEDULER_ENABLED"] = "0"
    get_settings.cache_clear()


def _uvicorn_options(host: str, port: int) -> dict[str, Any]:
    # X-Forwarded-For/-Proto only from the configured proxies (uvicorn would otherwise trust
    # 127.0.0.1, so any local client could pick the address the throttles count).
    trusted = get_settings().http.forwarded_allow_ips
    return {
        "factory": True,
        "host": host,
        "port": port,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": ",".join(trusted) or None,
        "log_config": log_config(),  # JSON lines with the request id, applied in every worker
        "access_log": False,  # EdgeMiddleware writes the access line, with the request id
        # uvicorn kills a worker that does not answer its health check within this many seconds; a
        # worker importing the application on a busy machine took 13 s (uvicorn's default is 5), so
        # `serve --workers 2` killed and respawned its workers for ever.
        "timeout_worker_healthcheck": 60,
    }


def _serve(host: str, port: int, workers: int, reload: bool, scheduler: bool) -> None:
    import uvicorn

    dedicated = None
    if scheduler and workers > 1 and not reload:
        # One process for the timed jobs and the mail dispatcher, out of the request workers' way
        # (and not once per worker): `procmatch scheduler`, stopped with the server.
        dedicated = _start_dedicated_scheduler()
    if not scheduler or dedicated is not None:
        _disable_scheduler()
    os.environ.setdefault("GC_FREEZE", "1")  # the workers read it (settings.app.freeze_gc)
    get_settings.cache_clear()
    options = _uvicorn_options(host, port)
    status = 0
    try:
        if workers > 1 and not reload and SPREADS and port:  # a listening socket per worker (service.serving)
            status = run_workers({"app": "service.app:create_app", **options}, workers)
        else:
            uvicorn.run("service.app:create_app", workers=None if reload else workers, reload=reload, **options)
    finally:
        if dedicated is not None:
            dedicated.terminate()
            try:
                dedicated.wait(timeout=15)
            except subprocess.TimeoutExpired:
                dedicated.kill()
    if status:
        sys.exit(status)


def _start_dedicated_scheduler() -> subprocess.Popen[bytes]:
    """`procmatch scheduler` as a child of this process, with its environment (DATABASE_URL
    included, so it joins the database this process prepared)."""
    return subprocess.Popen([sys.executable, "-m", "service.cli", "scheduler"])


def _serve_then_say(host: str, port: int, message: str) -> None:
    """One worker with the timed jobs, printing `message` to stdout once it listens: after the
    start-up log lines, where a newcomer sees it, not among them."""
    import uvicorn

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                drain_logs()  # the start-up lines are written by a thread: they come first
                click.echo(message)

    Announcing(uvicorn.Config("service.app:create_app", **_uvicorn_options(host, port))).run()


@click.group()
def main() -> None:
    """procure-match (공공구매 상담·매칭)."""
    logging.config.dictConfig(log_config())
    # platformdirs (under the embedded PostgreSQL) warns about a shared XDG_RUNTIME_DIR, which it
    # then works around by itself: nothing for whoever runs the service to do.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option("--no-scheduler", is_flag=True, help="Do not run the timed jobs in this process.")
def serve(host: str, port: int, workers: int, reload: bool, no_scheduler: bool) -> None:
    """Apply pending migrations and serve the pages and the API."""
    _exit_normally_on_sigterm()
    _prepare_database()
    _serve(host, port, workers, reload, not no_scheduler)


@main.command()
def scheduler() -> None:
    """Run the timed jobs alone (for a dedicated scheduler process)."""
    from service.db.engine import make_engine, make_sessionmaker
    from service.scheduler import start_scheduler

    url = _prepare_database()
    settings = get_settings()

    async def run() -> None:
        engine = make_engine(url, pool_size=4)
        start_scheduler(make_sessionmaker(engine, settings), settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await engine.dispose()

    asyncio.run(run())


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: all heads)."""
    from service.db.engine import resolve_database_url
    from service.db.migrate import upgrade

    _settings_or_exit()
    upgrade(resolve_database_url(get_settings()), revision)
    click.echo("database is up to date")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from service.db.engine import resolve_database_url
    from service.db.migrate import downgrade

    _settings_or_exit()
    downgrade(resolve_database_url(get_settings()), revision)
    click.echo(f"downgraded to {revision}")


@db.command("current")
def db_current() -> None:
    """Show the applied and the latest revisions."""
    from service.db.engine import ensure_database, resolve_database_url
    from service.db.migrate import current_revisions, head_revisions

    _settings_or_exit()
    url = resolve_database_url(get_settings())
    asyncio.run(ensure_database(url))
    current = asyncio.run(current_revisions(url))
    heads = head_revisions(url)
    click.echo(f"current: {', '.join(sorted(current)) or '(empty)'}")
    click.echo(f"heads:   {', '.join(sorted(heads))}")
    click.echo("up to date" if current == heads else "migrations pending")


@main.command("create-staff")
@click.argument("email")
@click.option("--name", default="센터 직원", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_staff(email: str, name: str, password_stdin: bool) -> None:
    """Create a support-center staff account."""
    from service.accounts.service import AccountService
    from service.db.engine import make_engine, make_sessionmaker
    from service.lib.errors import DomainError

    url = _prepare_database()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def run() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            settings = get_settings()
            async with make_sessionmaker(engine, settings).begin() as session:
                await AccountService(session, settings.auth).create_staff(email, password, name)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"staff account {email} created")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Serve with a demo data set (loaded once) and print the demo accounts once it listens."""
    from service.demo import accounts_text, ensure_demo_data

    _exit_normally_on_sigterm()
    url = _prepare_database()
    accounts = asyncio.run(ensure_demo_data(url, get_settings()))
    _serve_then_say(host, port, accounts_text(accounts, f"http://{host}:{port}"))


if __name__ == "__main__":
    main()
