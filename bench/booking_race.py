"""Booking race over HTTP: two app workers, N concurrent connections racing for a fair's slots.

The load comes from wrk (one thread, a Lua plan: each request books a random agency's random
slot as one of 600 signed-in firms); a Python client saturates long before the app does. Prints
attempts/s (201s and 409s together), p50/p99 latency, socket errors, any other status, double
bookings (must be 0), and, in the same run, the transactions/s of a bare single-row INSERT
through asyncpg with as many connections as the two workers may hold. Then the same with two
app instances (one worker each) on the one database, 32 connections each.
Goals (issue 17): attempts/s >= 15% of the bare INSERT rate, p99 <= 250 ms at 64 connections,
0 socket errors, only 201/409, 0 double bookings; the same with two instances.

    uv run python bench/booking_race.py            # 64 connections, 6 s
    uv run python bench/booking_race.py --full     # 64, 100, 200, 500 connections, 10 s each
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wrkload import free_port, start_app, stop, wrk  # noqa: E402

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
            "INSERT INTO users (id, email, password_hash, name, role, organization_id, member_role) "
            "VALUES ($1, $2, 'x', '대표', 'firm', $3, 'admin')",
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


def booking_bodies(fair: uuid.UUID, agencies: list[uuid.UUID]) -> list[str]:
    starts = [s.starts_at.isoformat() for s in build_grid(DAYS, SLOT_MINUTES)]
    return [json.dumps({"agency_id": str(a), "start": start}) for a in agencies for start in starts]


def race(
    port: int, fair: uuid.UUID, bodies: list[str], tokens: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    """wrk: `clients` connections booking random (agency, slot) pairs as random firms."""
    r = wrk(
        port,
        f"/api/v1/fairs/{fair}/meetings",
        method="POST",
        tokens=tokens,
        bodies=bodies,
        connections=clients,
        seconds=seconds,
    )
    return {"clients": clients, "attempts_per_s": r["rps"], **r}


def race_instances(
    ports: list[int], fair: uuid.UUID, bodies: list[str], tokens: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    """One wrk process per app instance, at once, the connections shared out between them."""
    with ThreadPoolExecutor(len(ports)) as pool:
        parts = list(pool.map(lambda p: race(p, fair, bodies, tokens, clients // len(ports), seconds), ports))
    codes: dict[int, int] = {}
    for part in parts:
        for code, n in part["codes"].items():
            codes[code] = codes.get(code, 0) + n
    return {
        "clients": clients,
        "attempts_per_s": sum(p["rps"] for p in parts),
        "p50_ms": max(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "socket_errors": sum(p["socket_errors"] for p in parts),
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


@dataclass
class Plan:
    url: str
    fair: uuid.UUID
    bodies: list[str]
    tokens: list[str]
    seconds: float

    def on_instances(self, roots: list[Path], sizes: list[int], workers: int) -> tuple[list[dict[str, Any]], int]:
        """Start one app instance per source tree in `roots`; race each size on a fresh fair."""
        ports = [free_port() for _ in roots]
        processes = [
            start_app(self.url, port, workers=workers, pool_size=POOL_PER_WORKER, root=root)
            for port, root in zip(ports, roots, strict=True)
        ]
        results, overlaps_total = [], 0
        try:
            race_instances(ports, self.fair, self.bodies, self.tokens, 64, 2)  # warm-up
            for clients in sizes:
                # a fresh fair state per size: earlier meetings go, so every run races for free slots
                asyncio.run(_reset(self.url))
                results.append(race_instances(ports, self.fair, self.bodies, self.tokens, clients, self.seconds))
                overlaps, _ = asyncio.run(double_bookings(self.url))
                overlaps_total += overlaps
        finally:
            for process in processes:
                stop(process)
        return results, overlaps_total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="64, 100, 200 and 500 clients, 10 s each")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--no-two", action="store_true", help="skip the two-instance run")
    parser.add_argument("--before", type=Path, help="an older source tree: race it too (64 connections), same run")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    sizes = [64, 100, 200, 500] if args.full else [64]
    seconds = args.seconds or (10.0 if args.full else 6.0)

    server = start_embedded(ROOT / ".data" / "bench-pg")
    url = asyncio.run(recreate(server))
    upgrade(url)
    fair, agencies, tokens = asyncio.run(seed(url))
    bodies = booking_bodies(fair, agencies)
    # the bare INSERT rate first, alone on the database, as the booking runs will be
    bare = asyncio.run(bare_insert_tps(url, 2 * POOL_PER_WORKER, 64, min(seconds, 5.0)))
    plan = Plan(url, fair, bodies, tokens, seconds)
    results, overlaps_total = plan.on_instances([ROOT], sizes, workers=2)
    if args.before is not None:
        (before,), overlaps = plan.on_instances([args.before], [64], workers=2)
        overlaps_total += overlaps
        print(
            f"before, 64 clients: {before['attempts_per_s']:7.0f} attempts/s (p50 {before['p50_ms']:.1f} ms, "
            f"p99 {before['p99_ms']:.1f} ms) codes {before['codes']} = {before['attempts_per_s'] / bare:.1%} of bare"
        )
    two = None
    if not args.no_two:
        (two,), overlaps = plan.on_instances([ROOT, ROOT], [64], workers=1)
        overlaps_total += overlaps
    report(results, two, bare, overlaps_total)


def report(results: list[dict[str, Any]], two: dict[str, Any] | None, bare: float, overlaps_total: int) -> None:
    for r in results:
        print(
            f"{r['clients']:>4} clients: {r['attempts_per_s']:7.0f} attempts/s "
            f"(p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms) codes {r['codes']} "
            f"socket errors {r['socket_errors']} = {r['attempts_per_s'] / bare:.1%} of bare INSERT"
        )
    if two is not None:
        print(
            f"two instances, 64 clients: {two['attempts_per_s']:7.0f} attempts/s (p99 {two['p99_ms']:.1f} ms) "
            f"codes {two['codes']} socket errors {two['socket_errors']} = {two['attempts_per_s'] / bare:.1%} of bare"
        )
    print(f"bare asyncpg INSERT, {2 * POOL_PER_WORKER} connections, 64 tasks: {bare:.0f} tps")
    print(f"double bookings {overlaps_total}")
    at64 = results[0]
    runs = [*results, *([two] if two else [])]
    figures = {
        "attempts_per_s_64": round(at64["attempts_per_s"], 1),
        "p50_ms_64": round(at64["p50_ms"], 1),
        "p99_ms_64": round(at64["p99_ms"], 1),
        "bare_insert_tps": round(bare, 1),
        "ratio_to_bare": round(at64["attempts_per_s"] / bare, 3),
        "double_bookings": overlaps_total,
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "other_codes": sum(v for r in runs for k, v in r["codes"].items() if k not in (201, 409)),
    }
    if two is not None:
        figures["two_instances_attempts_per_s"] = round(two["attempts_per_s"], 1)
        figures["two_instances_ratio_to_bare"] = round(two["attempts_per_s"] / bare, 3)
        figures["two_instances_p99_ms"] = round(two["p99_ms"], 1)
    for r in results[1:]:
        figures[f"attempts_per_s_{r['clients']}"] = round(r["attempts_per_s"], 1)
        figures[f"p99_ms_{r['clients']}"] = round(r["p99_ms"], 1)
    goals = {
        "ratio_to_bare": ">= 0.15",
        "p99_ms_64": "<= 250",
        "double_bookings": "== 0",
        "socket_errors": "== 0",
        "other_codes": "== 0 (only 201 and 409)",
    }
    met = (
        figures["ratio_to_bare"] >= 0.15
        and figures["p99_ms_64"] <= 250
        and overlaps_total == 0
        and figures["socket_errors"] == 0
        and figures["other_codes"] == 0
        and (two is None or (two["attempts_per_s"] / bare >= 0.15 and two["p99_ms"] <= 250))
    )
    print(json.dumps({"name": "booking_race", "figures": figures, "goals": goals, "met": met}))


async def _reset(url: str) -> None:
    """The fair without meetings, and the database at rest: a checkpoint taken, then the dead rows
    vacuumed, so neither autovacuum nor a checkpoint's writes land in one tree's window and not in
    another's (a checkpoint in the window had put one run's p99 at 970 ms). The checkpoint comes
    first: the first change of each page after a checkpoint writes the whole page to the WAL, and
    the DELETE and VACUUM pay that for the pages the race writes, not the race's first second."""
    conn = await connect_raw(url)
    try:
        await conn.execute("CHECKPOINT")
        await conn.execute("DELETE FROM meeting_events")
        await conn.execute("DELETE FROM meetings")
        await conn.execute("VACUUM (ANALYZE) meetings, meeting_events, mail_notices, auth_tokens")
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
