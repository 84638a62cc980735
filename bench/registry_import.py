"""Bulk import benchmark: 10,000 firm rows (CP949 CSV, 1% bad) validated and imported via ImportService.

Times, in one run: the floor (decode + csv.reader of the same bytes), the dry run (parse +
validate + duplicate lookup, writes nothing) and the real import (one transaction, valid
rows written, bad rows reported). `--full` also does 50,000 rows (split into files of 20,000).
Goal: 10,000 rows validate + import in < 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.db.embedded import socket_url, start_embedded
from service.db.engine import connect_raw, make_engine, make_sessionmaker
from service.db.migrate import upgrade
from service.identity.principal import Principal
from service.registry.business_number import check_digit
from service.registry.districts import SEOUL_DISTRICTS
from service.registry.importer import COLUMNS, FIRM_TYPE_NAMES, ImportOptions
from service.registry.imports import ImportService
from service.registry.models import OrganizationKind
from service.registry.taxonomy import LEAVES

WORDS = ["방역", "소독", "청소", "인쇄", "제본", "도시락", "교육", "홈페이지", "영상", "디자인", "조경", "가구"]


def make_file(n: int, start: int, seed: int = 11) -> bytes:
    rng = random.Random(seed + start)
    headers = [h for h, _, _, _ in COLUMNS]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers, lineterminator="\r\n")
    writer.writeheader()
    type_names = [k for k, v in FIRM_TYPE_NAMES.items() if v != "social_enterprise"]
    for i in range(start, start + n):
        body = f"{200000000 + i:09d}"
        number = body + str(check_digit(body))
        if rng.random() < 0.01:
            number = body + str((check_digit(body) + 1) % 10)  # bad check digit
        writer.writerow(
            {
                "상호": f"벤치기업{i} {rng.choice(WORDS)}협동조합",
                "사업자등록번호": f"{number[:3]}-{number[3:5]}-{number[5:]}",
                "자치구": rng.choice(SEOUL_DISTRICTS).name_ko,
                "전화번호": "02-123-4567",
                "이메일": f"firm{i}@example.kr",
                "기업유형": rng.choice(type_names),
                "품목분류": "; ".join(c.code for c in rng.sample(LEAVES, 2)),
                "계약가능금액": str(rng.choice([10_000_000, 50_000_000, 300_000_000])),
                "종업원수": str(rng.randint(1, 200)),
                "취약계층비율": f"{rng.random():.2f}",
                "소개": " ".join(rng.sample(WORDS, 5)) + " 전문 사회적경제기업",
                "키워드": "; ".join(rng.sample(WORDS, 2)),
                "웹사이트": f"https://firm{i}.example.kr",
            }
        )
    return buffer.getvalue().encode("cp949")


async def run(url: str, n: int) -> dict[str, float]:
    conn = await connect_raw(url)
    try:
        await conn.execute("TRUNCATE organizations CASCADE")
        staff_id = await conn.fetchval(
            "INSERT INTO users (id, email, password_hash, name, role) VALUES ($1, 'bench-staff@example.kr', 'x', "
            "'bench', 'staff') ON CONFLICT (email) DO UPDATE SET name = 'bench' RETURNING id",
            uuid.uuid4(),
        )
    finally:
        await conn.close()
    files = [make_file(min(20_000, n - s), s) for s in range(0, n, 20_000)]
    started = time.perf_counter()
    for content in files:
        sum(1 for _ in csv.reader(io.StringIO(content.decode("cp949"))))
    floor = time.perf_counter() - started
    engine = make_engine(url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    staff = Principal(staff_id, "b@x", "b", "staff", None, None, None, None, "ko", uuid.uuid4())
    try:
        started = time.perf_counter()
        valid = 0
        for content in files:
            async with sessionmaker() as session:
                outcome = await ImportService(session).import_organizations(
                    staff, OrganizationKind.FIRM, content, "f.csv", ImportOptions()
                )
                valid += outcome.valid
        dry = time.perf_counter() - started
        started = time.perf_counter()
        created = 0
        for content in files:
            async with sessionmaker.begin() as session:
                options = ImportOptions(dry_run=False, all_or_nothing=False)
                outcome = await ImportService(session).import_organizations(
                    staff, OrganizationKind.FIRM, content, "f.csv", options
                )
                created += outcome.created
        real = time.perf_counter() - started
    finally:
        await engine.dispose()
    assert created == valid, (created, valid)
    assert created >= int(n * 0.97), created
    return {
        "rows": n,
        "created": created,
        "floor_read_s": round(floor, 3),
        "dry_run_s": round(dry, 2),
        "import_s": round(real, 2),
        "import_ratio_vs_floor": round(real / max(floor, 1e-6), 1),
        "rows_per_s": round(n / real),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="also 50,000 rows")
    args = parser.parse_args()
    url = socket_url(start_embedded(Path(".data/bench-pg")), "bench_registry_import")
    upgrade(url)
    small = asyncio.run(run(url, 10_000))
    print(f"10,000 rows: {small}")
    figures = {f"10k_{k}": v for k, v in small.items()}
    met = small["dry_run_s"] + small["import_s"] < 30
    if args.full:
        large = asyncio.run(run(url, 50_000))
        print(f"50,000 rows: {large}")
        figures.update({f"50k_{k}": v for k, v in large.items()})
    goals = {"10k_validate_plus_import_s_max": 30}
    print(json.dumps({"name": "registry_import", "figures": figures, "goals": goals, "met": met}))


if __name__ == "__main__":
    main()
