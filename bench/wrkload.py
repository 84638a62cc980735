"""Shared by the HTTP benches: servers to measure and wrk (a native load generator) driving them.

A Python client cannot load this stack: httpx saturates near 400 requests/s with 64 connections
on a 2-core machine, so it measures itself. wrk (Debian package `wrk`, one thread) replays a plan
written in Lua: each request picks a random bearer token (and, for bookings, a random agency and
slot); `response()` counts the status codes and `done()` prints one JSON line with the rate,
latency percentiles, socket errors and the codes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WRK = shutil.which("wrk") or "/usr/bin/wrk"
WRK_OPTIONS = [WRK, "-t1", "--timeout", "5s"]

LUA = r"""
local tokens = {%(tokens)s}
local bodies = {%(bodies)s}
local method, path = "%(method)s", "%(path)s"
counts = {}  -- global: done() reads it with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + os.clock() * 1000)
end

function request()
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] end
  local body = nil
  if #bodies > 0 then
    body = bodies[math.random(#bodies)]
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do codes[#codes + 1] = string.format('"%%d": %%d', k, v) end
  end
  local e = summary.errors
  io.write(string.format(
    '\nWRK {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"socket_errors": %%d, "codes": {%%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, table.concat(codes, ", ")))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(
    port: int,
    path: str,
    *,
    tokens: list[str] | None = None,
    bodies: list[str] | None = None,
    method: str = "GET",
    connections: int = 64,
    seconds: float = 5.0,
) -> dict[str, Any]:
    """Run wrk (one thread) against 127.0.0.1:port and return its figures."""
    script = LUA % {
        "tokens": ", ".join(lua_string(t) for t in (tokens or [])),
        "bodies": ", ".join(lua_string(b) for b in (bodies or [])),
        "method": method,
        "path": path,
    }
    base = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as plan:
        plan.write(script)
    try:
        out = subprocess.run(  # noqa: S603 - our own arguments
            [*WRK_OPTIONS, f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", plan.name, f"{base}{path}"],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(plan.name)
    if out.returncode != 0 or "WRK " not in out.stdout:
        raise SystemExit(f"wrk failed ({out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK "))
    raw = json.loads(line[4:])
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds_run,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "socket_errors": raw["socket_errors"],
        "codes": {int(k): v for k, v in raw["codes"].items()},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, process: subprocess.Popen[bytes], path: str = "/ready", timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server not ready")


def start_app(  # type: ignore[no-untyped-def]
    url: str,
    port: int,
    workers: int = 2,
    pool_size: int = 10,
    extra_env: dict[str, str] | None = None,
    root: Path = ROOT,
):
    """The app as `procmatch serve --no-scheduler --workers N` runs it (JSON log lines, to a file),
    from the source tree `root` (another checkout measures the code before a change)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "DATABASE_URL": url,
        "DATABASE_POOL_SIZE": str(pool_size),
        "DATA_DIR": str(ROOT / ".data" / "bench-app"),
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "SCHEDULER_ENABLED": "0",
        "GC_FREEZE": "1",  # as `procmatch serve` runs its workers
        **(extra_env or {}),
    }
    # BENCH_NO_ACCESS_LOG=1 silences only the access line (uvicorn's start-up lines are awaited below).
    # Several workers run as `procmatch serve --workers N` runs them: a listening socket each
    # (service.serving); a tree from before that had uvicorn's workers, sharing one socket.
    launcher = f"""
import os, uvicorn
from service.lib.observability import log_config
config = log_config()
config['loggers']['service.access'] = {{'level': 'WARNING' if os.environ.get('BENCH_NO_ACCESS_LOG') else 'INFO'}}
options = dict(factory=True, port={port}, log_config=config, access_log=False, timeout_worker_healthcheck=60)
try:
    from service.serving import run_workers
except ImportError:
    run_workers = None
if run_workers is not None and {workers} > 1:
    run_workers(dict(app='service.app:create_app', **options), {workers})
else:
    uvicorn.run('service.app:create_app', workers={workers}, **options)
"""
    command = [sys.executable, "-c", launcher]
    named = os.environ.get("BENCH_SERVER_LOG")
    log = open(named, "ab") if named else tempfile.NamedTemporaryFile(prefix="bench-app-", suffix=".log", delete=False)  # noqa: SIM115
    log_path = Path(log.name)
    offset = log_path.stat().st_size  # a shared BENCH_SERVER_LOG holds earlier servers' lines
    process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=log)  # noqa: S603
    try:
        wait_ready(port, process, "/health")
        # /ready answers as soon as one worker serves: wait for every worker's start-up
        deadline = time.monotonic() + 120
        while log_path.read_bytes()[offset:].count(b"Application startup complete") < workers:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("not every worker started")
            time.sleep(0.3)
    except BaseException:
        stop(process)
        raise
    return process


BARE_APP = """
from litestar import Litestar, post, get

@post("/bare", status_code=200, sync_to_thread=False)
def bare() -> dict[str, str]:
    return {"status": "ok"}

app = Litestar([bare])
"""


def start_bare(port: int, workers: int = 2):  # type: ignore[no-untyped-def]
    """Litestar with one POST handler under uvicorn: the framework's own ceiling on this machine."""
    folder = Path(tempfile.mkdtemp(prefix="bare-litestar-"))
    (folder / "bare_app.py").write_text(BARE_APP)
    # served as the app is (a listening socket per worker), so the ratio compares the stacks alone
    launcher = (
        "from service.serving import run_workers; "
        f"run_workers(dict(app='bare_app:app', port={port}, access_log=False, log_level='warning'), {workers})"
    )
    env = {**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-c", launcher]
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit("bare app not listening")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
