"""Booking race over HTTP: two app workers, N concurrent clients racing for a fair's slots.

Prints attempts/s (201s and 409s together), p50/p99 latency, double bookings (must be 0), and,
in the same run, the transactions/s of a bare single-row INSERT through asyncpg with the same
number of connections the two workers may hold. Goals (issue 5): attempts/s >= 20% of the bare
INSERT rate, p99 < 100 ms at 64 clients.

    uv run python bench/booking_race.py            # 64 clients, 6 s
    uv run python bench/booking_race.py --full     # 64, 100, 200, 500 clients, 10 s each
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.db.embedded import socket_url, start_embedded  # noqa: E402
from service.db.engine import connect_raw  # noqa: E402
from service.db.migrate import upgrade  # noqa: E402
from service.fairs.slots import build_grid  # noqa: E402

DB = "bench_booking_race"
POOL_PER_WORKER = 10  # DATABASE_POOL_SIZE; SQLAlchemy may overflow to twice that
AGENCIES = 65
FIRMS = 600
DAYS = [
    {"date": "2031-05-20", "start": "09:00", "end": "18:00", "breaks": [{"start": "12:00", "end": "13:00"}]},
    {"date": "2031-05-21", "start": "09:00", "end": "18:00", "breaks": [{"start": "12:00", "end": "13:00"}]},
]
SLOT_MINUTES = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def recreate(server: str) -> str:
    conn = await connect_raw(server, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        await conn.execute(f"CREATE DATABASE \"{DB}\" ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0")
    finally:
        await conn.close()
    return socket_url(server, DB)


async def seed(url: str) -> tuple[uuid.UUID, list[uuid.UUID], list[str]]:
    """Agencies, firms with one user and a bearer token each, and an open first-come fair."""
    conn = await connect_raw(url)
    try:
        agencies = [uuid.uuid4() for _ in range(AGENCIES)]
        firms = [uuid.uuid4() for _ in range(FIRMS)]
        await conn.executemany(
            "INSERT INTO organizations (id, kind, name, status, district, agency_type) "
            "VALUES ($1, 'agency', $2, 'verified', 'mapo', 'district_office')",
            [(a, f"기관{i}") for i, a in enumerate(agencies)],
        )
        await conn.executemany(
            "INSERT INTO organizations (id, kind, name, status, district, business_number) "
            "VALUES ($1, 'firm', $2, 'verified', 'mapo', $3)",
            [(f, f"기업{i}", f"{1000000000 + i}") for i, f in enumerate(firms)],
        )
        tokens: list[str] = []
        users = []
        token_rows = []
        for i, firm in enumerate(firms):
            user = uuid.uuid4()
            raw = secrets.token_urlsafe(32)
            tokens.append(raw)
            users.append((user, f"firm{i}@bench.kr", firm))
            token_rows.append((uuid.uuid4(), user, hashlib.sha256(raw.encode()).digest()))
        await conn.executemany(
            "INSERT INTO users (id, email, password_hash, name, role, organization_id) "
            "VALUES ($1, $2, 'x', '대표', 'firm', $3)",
            users,
        )
        await conn.executemany(
            "INSERT INTO auth_tokens (id, user_id, token_hash, expires_at) "
            "VALUES ($1, $2, $3, now() + interval '1 day')",
            token_rows,
        )
        fair = uuid.uuid4()
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO fairs (id, name, mode, days, slot_minutes, booking_opens_at, booking_closes_at, "
            "max_meetings_per_firm) VALUES ($1, 'bench fair', 'first_come', $2::jsonb, $3, $4, $5, 12)",
            fair,
            json.dumps(DAYS),
            SLOT_MINUTES,
            now - timedelta(days=1),
            now + timedelta(days=1),
        )
        await conn.executemany(
            "INSERT INTO fair_participants (id, fair_id, organization_id, kind, room_url) VALUES ($1, $2, $3, $4, $5)",
            [(uuid.uuid4(), fair, a, "agency", f"https://meet.example/{a.hex[:8]}") for a in agencies]
            + [(uuid.uuid4(), fair, f, "firm", None) for f in firms],
        )
        return fair, agencies, tokens
    finally:
        await conn.close()


class RawHttp:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost less CPU than the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, token: str, method: str = "POST") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return int(status_line.split()[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def race(
    port: int,
    fair: uuid.UUID,
    agencies: list[uuid.UUID],
    tokens: list[str],
    clients: int,
    seconds: float,
    probe: str | None = None,
) -> dict[str, Any]:
    """Clients book random (agency, slot) pairs; with `probe`, they GET that path instead."""
    starts = [s.starts_at.isoformat() for s in build_grid(DAYS, SLOT_MINUTES)]
    latencies: list[float] = []
    codes: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    path = f"/api/v1/fairs/{fair}/meetings"

    async def client(n: int) -> None:
        rng = random.Random(n)
        http = RawHttp("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                token = tokens[rng.randrange(len(tokens))]
                body = json.dumps({"agency_id": str(rng.choice(agencies)), "start": rng.choice(starts)}).encode()
                t0 = time.perf_counter()
                if probe:
                    code = await http.post(probe, b"", token, "GET")
                else:
                    code = await http.post(path, body, token)
                latencies.append(time.perf_counter() - t0)
                codes[code] = codes.get(code, 0) + 1
        finally:
            await http.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "clients": clients,
        "attempts": len(latencies),
        "attempts_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "codes": codes,
    }


async def bare_insert_tps(url: str, connections: int, clients: int, seconds: float) -> float:
    conn = await connect_raw(url)
    await conn.execute("CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, agency uuid, at timestamptz)")
    await conn.close()

    async def connect(*_: Any, **__: Any) -> asyncpg.Connection:
        return await connect_raw(url)

    pool = await asyncpg.create_pool(min_size=connections, max_size=connections, connect=connect)
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        agency = uuid.uuid4()
        while time.perf_counter() < deadline:
            await pool.execute("INSERT INTO bench_bare (agency, at) VALUES ($1, now())", agency)
            count += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - t0
    await pool.close()
    return count / elapsed


async def double_bookings(url: str) -> tuple[int, int]:
    conn = await connect_raw(url)
    try:
        overlaps = await conn.fetchval(
            """SELECT count(*) FROM meetings a JOIN meetings b
               ON a.id < b.id AND a.status <> 'cancelled' AND b.status <> 'cancelled'
              AND (a.agency_id = b.agency_id OR a.firm_id = b.firm_id) AND a.during && b.during"""
        )
        total = await conn.fetchval("SELECT count(*) FROM meetings WHERE status <> 'cancelled'")
        return int(overlaps), int(total)
    finally:
        await conn.close()


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server not ready")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="64, 100, 200 and 500 clients, 10 s each")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    sizes = [64, 100, 200, 500] if args.full else [64]
    seconds = args.seconds or (10.0 if args.full else 6.0)

    server = start_embedded(ROOT / ".data" / "bench-pg")
    url = asyncio.run(recreate(server))
    upgrade(url)
    fair, agencies, tokens = asyncio.run(seed(url))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATABASE_POOL_SIZE": str(POOL_PER_WORKER),
        "DATA_DIR": str(ROOT / ".data" / "bench-app"),
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "SCHEDULER_ENABLED": "0",
    }
    # Two uvicorn workers as `procmatch serve --workers 2` starts them, without the access log.
    command = [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--workers", "2"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command,
        env=env,
        cwd=ROOT,
    )
    results = []
    try:
        wait_ready(port, process)
        # Reference ceilings of the same stack: an unauthenticated probe and an authenticated read.
        health = asyncio.run(race(port, fair, agencies, tokens, 64, 3.0, probe="/health"))
        me = asyncio.run(race(port, fair, agencies, tokens, 64, 3.0, probe="/api/v1/me"))
        for clients in sizes:
            # a fresh fair state per size: cancel earlier meetings so every run races for free slots
            asyncio.run(_reset(url))
            results.append(asyncio.run(race(port, fair, agencies, tokens, clients, seconds)))
    finally:
        process.terminate()
        process.wait(timeout=20)
    overlaps, live = asyncio.run(double_bookings(url))
    bare = asyncio.run(bare_insert_tps(url, 2 * POOL_PER_WORKER, 64, min(seconds, 5.0)))

    for r in results:
        print(
            f"{r['clients']:>4} clients: {r['attempts_per_s']:7.0f} attempts/s "
            f"(p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms) codes {r['codes']} "
            f"= {r['attempts_per_s'] / bare:.0%} of bare INSERT"
        )
    ceiling_health, ceiling_me = health["attempts_per_s"], me["attempts_per_s"]
    print(f"ceilings at 64 clients: GET /health {ceiling_health:.0f}/s, GET /api/v1/me {ceiling_me:.0f}/s")
    print(f"bare asyncpg INSERT, {2 * POOL_PER_WORKER} connections, 64 tasks: {bare:.0f} tps")
    print(f"live meetings {live}, double bookings {overlaps}")
    at64 = results[0]
    figures = {
        "attempts_per_s_64": round(at64["attempts_per_s"], 1),
        "p50_ms_64": round(at64["p50_ms"], 1),
        "p99_ms_64": round(at64["p99_ms"], 1),
        "bare_insert_tps": round(bare, 1),
        "ratio_to_bare": round(at64["attempts_per_s"] / bare, 3),
        "double_bookings": overlaps,
        "health_rps_64": round(health["attempts_per_s"], 1),
        "auth_read_rps_64": round(me["attempts_per_s"], 1),
        "server_errors": sum(v for r in results for k, v in r["codes"].items() if k >= 500),
    }
    for r in results[1:]:
        figures[f"attempts_per_s_{r['clients']}"] = round(r["attempts_per_s"], 1)
        figures[f"p99_ms_{r['clients']}"] = round(r["p99_ms"], 1)
    goals = {"ratio_to_bare": ">= 0.20", "p99_ms_64": "< 100", "double_bookings": "== 0"}
    met = figures["ratio_to_bare"] >= 0.2 and figures["p99_ms_64"] < 100 and overlaps == 0
    print(json.dumps({"name": "booking_race", "figures": figures, "goals": goals, "met": met}))


async def _reset(url: str) -> None:
    conn = await connect_raw(url)
    try:
        await conn.execute("DELETE FROM meeting_events")
        await conn.execute("DELETE FROM meetings")
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
