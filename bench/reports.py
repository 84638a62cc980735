"""Reports and exports on many confirmed contracts.

    uv run python bench/reports.py          # 100,000 contracts (quick)
    uv run python bench/reports.py --full   # 1,000,000 contracts (the claim)

Loads organizations, fairs, meetings and contracts with COPY (asyncpg) into its own database,
then times the yearly sales report for every group_by and the CSV and XLSX export of all
contracts, with the growth of peak RSS during each export. The baseline, measured in the same
run, is a bare `SELECT count(*), sum(amount_krw)` over the year: each report is printed as a
multiple of it. Goals: every report < 1 s, each export < 30 s with < 150 MB growth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from service.db.embedded import socket_url, start_embedded  # noqa: E402
from service.db.engine import connect_raw, make_engine, make_sessionmaker  # noqa: E402
from service.db.migrate import upgrade  # noqa: E402
from service.identity.principal import Principal  # noqa: E402
from service.registry.business_number import check_digit  # noqa: E402
from service.reports import exports  # noqa: E402
from service.reports import repository as repo  # noqa: E402
from service.reports.repository import GROUP_BYS, SalesFilter  # noqa: E402
from service.reports.service import ReportService  # noqa: E402

AGENCY_TYPES = ["seoul_city", "district_office", "city_affiliate", "education", "public_corporation"]
FIRM_TYPES = ["social_enterprise", "cooperative", "social_cooperative", "village_enterprise", "self_sufficiency"]
DISTRICTS = ["jongno", "jung", "mapo", "eunpyeong", "seongbuk", "gangnam", "nowon", "guro"]
CATEGORIES = ["CLN-DIS", "CLN-BLD", "PRT-BOK", "FOD-LUN"]
CHANNELS = ["fair", "daily_consultation", "proposal", "matching_contract", "other"]


def rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def recreate(server: str, name: str) -> None:
    conn = await connect_raw(server, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0")
    finally:
        await conn.close()


async def load(url: str, contracts: int, rng: random.Random) -> None:
    conn = await connect_raw(url)
    try:
        agencies = [uuid.uuid4() for _ in range(500)]
        firms = [uuid.uuid4() for _ in range(3000)]
        now = datetime.now(UTC)
        org_rows: list[tuple[Any, ...]] = []
        for i, a in enumerate(agencies):
            org_rows.append((a, "agency", f"기관 {i}", "verified", DISTRICTS[i % 8], AGENCY_TYPES[i % 5], None, []))
        for i, f in enumerate(firms):
            body = f"{400_000_000 + i:09d}"
            org_rows.append((f, "firm", f"기업 {i}", "verified", DISTRICTS[i % 8], None, body + str(check_digit(body)),
                             [FIRM_TYPES[i % 5]] + ([FIRM_TYPES[(i + 1) % 5]] if i % 3 == 0 else [])))  # fmt: skip
        await conn.copy_records_to_table(
            "organizations",
            records=org_rows,
            columns=["id", "kind", "name", "status", "district", "agency_type", "business_number", "firm_types"],
        )
        fairs = [(uuid.uuid4(), date(2020 + k // 4, 3 + 2 * (k % 4), 10)) for k in range(12)]
        await conn.copy_records_to_table(
            "fairs",
            records=[
                (
                    fid,
                    f"상담회 {day}",
                    "first_come",
                    json.dumps([{"date": day.isoformat(), "start": "10:00", "end": "17:00"}]),
                    30,
                    now - timedelta(days=400),
                    now - timedelta(days=300),
                )
                for fid, day in fairs
            ],
            columns=["id", "name", "mode", "days", "slot_minutes", "booking_opens_at", "booking_closes_at"],
        )
        meetings: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID, date]] = []
        meeting_rows = []
        for fid, day in fairs:
            start = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
            for m in range(2000):  # 500 agencies × 4 slots, each meeting a different firm in its slot
                slot, j = divmod(m, len(agencies))
                mid = uuid.uuid4()
                firm = firms[(slot * len(agencies) + j + fairs.index((fid, day)) * 7) % len(firms)]
                s = start + timedelta(minutes=30 * slot)
                meeting_rows.append((mid, fid, agencies[j], firm, s, s + timedelta(minutes=30), "held"))
                meetings.append((mid, fid, agencies[j], firm, day))
        await conn.copy_records_to_table(
            "meetings",
            records=meeting_rows,
            columns=["id", "fair_id", "agency_id", "firm_id", "starts_at", "ends_at", "status"],
        )
        start_day = date(2020, 1, 1)
        batch: list[tuple[Any, ...]] = []
        for n in range(contracts):
            if n % 5 == 0:
                mid, fid, agency, firm, day = meetings[rng.randrange(len(meetings))]
                contract_day = day + timedelta(days=rng.randint(1, 120))
                link: tuple[Any, Any, str] = (mid, fid, "fair")
            else:
                agency, firm = agencies[rng.randrange(500)], firms[rng.randrange(3000)]
                contract_day = start_day + timedelta(days=rng.randrange(3 * 365))
                link = (None, None, CHANNELS[1 + n % 4])
            amount = rng.randint(100, 500_000) * 1000
            row = (uuid.uuid4(), agency, firm, amount, contract_day, f"계약 {n}", CATEGORIES[n % 4], *link)
            batch.append((*row, "confirmed", "staff", now))
            if len(batch) == 100_000:
                await _copy_contracts(conn, batch)
                batch = []
        if batch:
            await _copy_contracts(conn, batch)
        await conn.execute("VACUUM ANALYZE contracts")
        await conn.execute("VACUUM ANALYZE organizations")
        await conn.execute("VACUUM ANALYZE meetings")
    finally:
        await conn.close()


async def _copy_contracts(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(
        "contracts",
        records=rows,
        columns=["id", "agency_id", "firm_id", "amount_krw", "contract_date", "title", "category_code", "meeting_id",
                 "fair_id", "channel", "status", "reported_side", "confirmed_at"],
    )  # fmt: skip


def staff() -> Principal:
    return Principal(uuid.uuid4(), "bench@x", "bench", "staff", None, None, None, None, "ko", uuid.uuid4())


async def measure(url: str) -> dict[str, Any]:
    engine = make_engine(url, pool_size=2, slow_query_ms=10_000)
    maker = make_sessionmaker(engine)
    figures: dict[str, Any] = {}
    try:
        async with maker() as session:
            year = SalesFilter(year=2021)
            where, params = repo.contract_where(year)
            await session.execute(text(f"SELECT count(*), sum(amount_krw) FROM contracts c WHERE {where}"), params)
            started = time.perf_counter()
            for _ in range(3):
                await session.execute(text(f"SELECT count(*), sum(amount_krw) FROM contracts c WHERE {where}"), params)
            baseline = (time.perf_counter() - started) / 3
            figures["baseline_year_sum_s"] = round(baseline, 4)
            service = ReportService(session)
            for group_by in GROUP_BYS:
                await service.sales(staff(), year, group_by)  # warm
                times = []
                for _ in range(3):
                    started = time.perf_counter()
                    await service.sales(staff(), year, group_by)
                    times.append(time.perf_counter() - started)
                best = min(times)
                figures[f"report_{group_by}_s"] = round(best, 4)
                print(
                    f"report year=2021 group_by={group_by:12} {best * 1000:8.1f} ms  ({best / baseline:5.1f}× baseline)"
                )
            total = await repo.count_contract_rows(session, SalesFilter())
            figures["export_rows"] = total
        for kind in ("csv", "xlsx"):
            # A fresh process per export, so that its peak RSS is the export's own.
            child = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--export", kind, "--url", url, stdout=asyncio.subprocess.PIPE
            )
            out, _ = await child.communicate()
            result = json.loads(out.decode().strip().splitlines()[-1])
            figures.update({f"export_{kind}_{k}": v for k, v in result.items()})
            print(f"export {kind:4} {total:,} rows {result['s']:6.1f} s  peak RSS +{result['rss_growth_mb']:.0f} MB  "
                  f"file {result['file_mb']:.0f} MB  ({result['s'] / baseline:,.0f}× baseline)")  # fmt: skip
    finally:
        await engine.dispose()
    return figures


async def export_once(url: str, kind: str) -> dict[str, float]:
    """One export of every contract to a temporary file: seconds, peak RSS growth, file size."""
    engine = make_engine(url, pool_size=1, slow_query_ms=600_000)
    maker = make_sessionmaker(engine)
    headers = exports.header("contracts", "ko")
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"all.{kind}"
            async with maker() as session:
                await session.execute(text("SELECT 1"))  # connect before measuring
                before = rss_kib()
                started = time.perf_counter()
                if kind == "csv":
                    with path.open("wb") as handle:
                        handle.write(exports.BOM.encode())
                        async for chunk in repo.copy_export_csv(session, SalesFilter(), "ko", headers):
                            handle.write(chunk)
                else:
                    rows, amount = await repo.contract_totals(session, SalesFilter())

                    async def copy(won: int, cheonwon: int, output: Any) -> None:
                        await repo.copy_export_xlsx_rows(session, SalesFilter(), "ko", won, cheonwon, output)

                    await exports.contracts_xlsx_rows(copy, path, "ko", rows, amount)
                seconds = time.perf_counter() - started
            return {
                "s": round(seconds, 2),
                "rss_growth_mb": round((rss_kib("VmHWM") - before) / 1024, 1),
                "file_mb": round(path.stat().st_size / 2**20, 1),
            }
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="1,000,000 contracts instead of 100,000")
    parser.add_argument("--contracts", type=int, default=None)
    parser.add_argument("--export", choices=["csv", "xlsx"], help=argparse.SUPPRESS)  # child process
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        print(json.dumps(asyncio.run(export_once(args.url, args.export))))
        return
    count = args.contracts or (1_000_000 if args.full else 100_000)
    server = start_embedded(ROOT / ".data" / "bench-pg")
    url = socket_url(server, "bench_reports")
    asyncio.run(recreate(server, "bench_reports"))
    upgrade(url)
    started = time.perf_counter()
    asyncio.run(load(url, count, random.Random(7)))
    print(f"loaded {count:,} confirmed contracts with COPY in {time.perf_counter() - started:.1f} s")
    figures = asyncio.run(measure(url))
    figures["contracts"] = count
    goals = {"report_s": 1.0, "export_s": 30.0, "export_rss_growth_mb": 150.0}
    met = (
        all(figures[f"report_{g}_s"] < goals["report_s"] for g in GROUP_BYS)
        and all(figures[f"export_{k}_s"] < goals["export_s"] for k in ("csv", "xlsx"))
        and all(figures[f"export_{k}_rss_growth_mb"] < goals["export_rss_growth_mb"] for k in ("csv", "xlsx"))
    )
    print(json.dumps({"name": "reports", "figures": figures, "goals": goals, "met": met}, ensure_ascii=False))


if __name__ == "__main__":
    main()
