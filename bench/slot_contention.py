"""Contenders for one free slot, straight on the database: `book_meeting` with the slot read again
once its lock is held (migration 027) against the function before it (2601's), same run.

20 connections each try to book the same free slot at once, 200 slots one after another (the
moment booking opens: every slot is free and wanted by many). Before 027 each loser, once it
held the slot's lock, locked the firm's row and tried the INSERT, which gives it a transaction
id and so a WAL flush at its end, while it still held the lock; the losers of one slot took turns
at flushing. With 027 a loser sees the winner's meeting and ends having written nothing.

Prints the milliseconds per slot (all 20 attempts answered) and the attempt latencies, three
rounds alternating the order, then one JSON line. Goal: 027 resolves a contended slot in at most
half the time.

    uv run python bench/slot_contention.py
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import booking_race as race

from service.db.engine import connect_raw

CONNECTIONS = 20
MIGRATION = race.ROOT / "migrations" / "versions" / "027_booking_recheck_after_lock.py"
BOOK = (
    "SELECT outcome FROM book_meeting(NULL, NULL, NULL, NULL, NULL, $1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "false, '{}'::jsonb, now())"
)


def definitions() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("migration_2701", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"before": module._book_meeting_2601(), "recheck": module.book_meeting_2701()}


async def one_round(url: str, fair: uuid.UUID, slots: list[tuple[Any, Any]], firms: list[Any]) -> dict[str, float]:
    conns = [await connect_raw(url) for _ in range(CONNECTIONS)]
    try:
        version = await conns[0].fetchval("SELECT CAST(xmin AS text) FROM fairs WHERE id = $1", fair)
        latencies: list[float] = []

        async def attempt(conn: Any, agency: uuid.UUID, slot: Any) -> str:
            user, firm = random.choice(firms)
            started = time.perf_counter()
            outcome = await conn.fetchval(
                BOOK, fair, version, agency, firm, slot.starts_at, slot.ends_at, uuid.uuid4(), uuid.uuid4(), user
            )
            latencies.append(time.perf_counter() - started)
            return str(outcome)

        started = time.perf_counter()
        booked = 0
        for agency, slot in slots:
            outcomes = await asyncio.gather(*(attempt(conn, agency, slot) for conn in conns))
            booked += outcomes.count("booked")
        elapsed = time.perf_counter() - started
        assert booked == len(slots), f"{booked} bookings for {len(slots)} slots"
        latencies.sort()
        return {
            "ms_per_slot": elapsed * 1000 / len(slots),
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(0.99 * len(latencies))] * 1000,
        }
    finally:
        for conn in conns:
            await conn.close()


async def measure(url: str) -> dict[str, list[dict[str, float]]]:
    fair, agencies, _ = await race.seed(url)
    conn = await connect_raw(url)
    try:
        firms = [tuple(r) for r in await conn.fetch("SELECT id, organization_id FROM users WHERE role = 'firm'")]
        grid = race.build_grid(race.DAYS, race.SLOT_MINUTES)
        slots = [(a, s) for a in agencies[:20] for s in grid[:10]]
        texts = definitions()
        results: dict[str, list[dict[str, float]]] = {"before": [], "recheck": []}
        for round_ in range(3):
            for name in ("before", "recheck") if round_ % 2 == 0 else ("recheck", "before"):
                await conn.execute(texts[name])
                await conn.execute("CHECKPOINT")
                await conn.execute("DELETE FROM meeting_events; DELETE FROM mail_notices; DELETE FROM meetings")
                await conn.execute("VACUUM meetings, meeting_events, mail_notices")
                figures = await one_round(url, fair, slots, firms)
                results[name].append(figures)
                print(
                    f"{name:8} {figures['ms_per_slot']:6.2f} ms per slot of {CONNECTIONS} contenders, "
                    f"attempt p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms",
                    flush=True,
                )
        await conn.execute(texts["recheck"])  # the database as migrated
        return results
    finally:
        await conn.close()


def main() -> None:
    server = race.start_embedded(race.ROOT / ".data" / "bench-pg")
    url = asyncio.run(race.recreate(server))
    race.upgrade(url)
    results = asyncio.run(measure(url))
    before = statistics.median(r["ms_per_slot"] for r in results["before"])
    recheck = statistics.median(r["ms_per_slot"] for r in results["recheck"])
    figures = {
        "ms_per_slot_before": round(before, 2),
        "ms_per_slot_recheck": round(recheck, 2),
        "ratio": round(recheck / before, 3),
        "p50_ms_before": round(statistics.median(r["p50_ms"] for r in results["before"]), 2),
        "p50_ms_recheck": round(statistics.median(r["p50_ms"] for r in results["recheck"]), 2),
    }
    met = figures["ratio"] <= 0.5
    print(json.dumps({"name": "slot_contention", "figures": figures, "goals": {"ratio": "<= 0.5"}, "met": met}))


if __name__ == "__main__":
    main()
