"""Matching benchmark: ranked top-20 with reasons through the service layer vs the floor query.

Generates N firms (default 30,000; `--full` adds 300,000) with a realistic category spread and
1,000 needs, then times, for a sample of needs, `MatchingService.matches(limit=20)` (candidate SQL
+ full score with text relevance + fair order) and, in the same run, the floor: the same category
filter ordered by one numeric column (`... WHERE category_codes && $1 ORDER BY confirmed_sales_krw
DESC LIMIT 20`). Prints p50/p95 and ratios, and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from service.db.embedded import socket_url, start_embedded
from service.db.engine import connect_raw, make_engine, make_sessionmaker
from service.db.migrate import upgrade
from service.identity.principal import Principal
from service.matching.service import MatchingService, widen
from service.needs.models import Need
from service.registry.business_number import check_digit
from service.registry.districts import SEOUL_DISTRICTS
from service.registry.taxonomy import GROUPS, LEAVES

WORDS = [
    "방역",
    "소독",
    "청소",
    "인쇄",
    "제본",
    "도시락",
    "케이터링",
    "교육",
    "연수",
    "홈페이지",
    "영상",
    "디자인",
    "조경",
    "가구",
    "근무복",
    "돌봄",
    "여행",
    "행사",
    "무대",
]
TYPES = ["social_enterprise", "pre_social_enterprise", "cooperative", "social_cooperative", "village_enterprise"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(url: str, n_firms: int, n_needs: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    conn = await connect_raw(url)
    try:
        await conn.execute("TRUNCATE organizations CASCADE")
        group_weights = [rng.uniform(0.5, 2.0) for _ in GROUPS]
        leaves_by_group = {g.code: [c.code for c in LEAVES if c.parent_code == g.code] for g in GROUPS}
        districts = [d.code for d in SEOUL_DISTRICTS] + ["other"]
        records = []
        for i in range(n_firms):
            group = rng.choices(GROUPS, weights=group_weights)[0].code
            codes = rng.sample(leaves_by_group[group], k=min(len(leaves_by_group[group]), rng.randint(1, 3)))
            body = f"{100000000 + i:09d}"
            types = rng.sample(TYPES, k=rng.randint(1, 2))
            certified = "social_enterprise" in types
            records.append(
                (
                    uuid.uuid4(),
                    "firm",
                    f"사회적경제기업{i}",
                    "verified",
                    rng.choice(districts),
                    None,
                    body + str(check_digit(body)),
                    types,
                    codes,
                    " ".join(rng.sample(WORDS, 5)) + " 전문 기업",
                    rng.sample(WORDS, 2),
                    rng.choice([None, 10_000_000, 50_000_000, 300_000_000, 2_000_000_000]),
                    int(rng.paretovariate(1.5)) - 1,
                    rng.randint(0, 10**9),
                    "C-1" if certified else None,
                    date(2030, 1, 1) if certified else None,
                )
            )
        await conn.copy_records_to_table(
            "organizations",
            records=records,
            columns=[
                "id",
                "kind",
                "name",
                "status",
                "district",
                "region_name",
                "business_number",
                "firm_types",
                "category_codes",
                "description",
                "keywords",
                "capacity_krw",
                "confirmed_contracts",
                "confirmed_sales_krw",
                "certification_number",
                "certified_until",
            ],
        )
        agency = uuid.uuid4()
        await conn.execute(
            "INSERT INTO organizations (id, kind, name, status, district, agency_type) "
            "VALUES ($1, 'agency', '벤치구청', 'verified', 'jung', 'district_office')",
            agency,
        )
        need_rows = []
        for i in range(n_needs):
            leaf = rng.choice(LEAVES)
            need_rows.append(
                (
                    uuid.uuid4(),
                    agency,
                    f"수요 {i} {' '.join(rng.sample(WORDS, 2))}",
                    " ".join(rng.sample(WORDS, 4)),
                    [leaf.code],
                    rng.choice([5_000_000, 30_000_000, 200_000_000]),
                    date.today() + timedelta(days=30),
                    rng.choice(districts[:-1]),
                    [],
                )
            )
        await conn.copy_records_to_table(
            "needs",
            records=need_rows,
            columns=[
                "id",
                "agency_id",
                "title",
                "description",
                "category_codes",
                "budget_krw",
                "needed_by",
                "delivery_district",
                "preferred_firm_types",
            ],
        )
        await conn.execute("ANALYZE organizations")
        await conn.execute("ANALYZE needs")
    finally:
        await conn.close()


async def measure(url: str, samples: int) -> dict[str, float]:
    engine = make_engine(url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    staff = Principal(uuid.uuid4(), "b@x", "b", "staff", None, None, None, None, "ko", uuid.uuid4())
    ranked_ms: list[float] = []
    floor_ms: list[float] = []
    candidates: list[int] = []
    try:
        async with sessionmaker() as session:
            needs = list((await session.scalars(text("SELECT id FROM needs ORDER BY id").columns())).all())
        for need_id in needs[:samples]:
            async with sessionmaker() as session:
                need = await session.get(Need, need_id)
                assert need is not None
                codes = widen(list(need.category_codes))
                started = time.perf_counter()
                await session.execute(
                    text(
                        "SELECT id, name FROM organizations WHERE category_codes && CAST(:codes AS varchar[]) "
                        "AND kind = 'firm' AND status = 'verified' ORDER BY confirmed_sales_krw DESC LIMIT 20"
                    ),
                    {"codes": codes},
                )
                floor_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                ranked = await MatchingService(session).matches(staff, need, 20, "ko")
                ranked_ms.append((time.perf_counter() - started) * 1000)
                assert ranked
                assert all(reason.detail for _, s in ranked for reason in s.reasons)
                candidates.append(
                    int(
                        await session.scalar(
                            text(
                                "SELECT count(*) FROM organizations WHERE category_codes && CAST(:codes AS varchar[])"
                            ),
                            {"codes": codes},
                        )
                        or 0
                    )
                )
    finally:
        await engine.dispose()
    return {
        "ranked_p50_ms": round(statistics.median(ranked_ms), 2),
        "ranked_p95_ms": round(percentile(ranked_ms, 0.95), 2),
        "floor_p50_ms": round(statistics.median(floor_ms), 2),
        "floor_p95_ms": round(percentile(floor_ms, 0.95), 2),
        "ratio_p95": round(percentile(ranked_ms, 0.95) / max(percentile(floor_ms, 0.95), 1e-6), 2),
        "median_candidates": statistics.median(candidates),
    }


async def run_size(url: str, n_firms: int, samples: int) -> dict[str, float]:
    started = time.perf_counter()
    await load(url, n_firms, 1000)
    print(f"loaded {n_firms} firms and 1,000 needs in {time.perf_counter() - started:.1f}s")
    figures = await measure(url, samples)
    print(f"{n_firms} firms: {figures}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="also 300,000 firms")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    url = socket_url(start_embedded(Path(".data/bench-pg")), "bench_matching")
    upgrade(url)
    small = asyncio.run(run_size(url, 30_000, args.samples))
    figures = {f"30k_{k}": v for k, v in small.items()}
    met = small["ranked_p95_ms"] <= 3 * small["floor_p95_ms"] and small["ranked_p95_ms"] < 50
    if args.full:
        large = asyncio.run(run_size(url, 300_000, args.samples))
        figures.update({f"300k_{k}": v for k, v in large.items()})
        growth = large["ranked_p95_ms"] / small["ranked_p95_ms"]
        candidate_growth = large["median_candidates"] / max(small["median_candidates"], 1)
        figures["p95_growth"] = round(growth, 2)
        figures["candidate_growth"] = round(candidate_growth, 2)
        met = met and growth <= candidate_growth and large["ranked_p95_ms"] < 250
    goals = {"30k_ratio_p95_max": 3.0, "30k_ranked_p95_ms_max": 50, "300k_ranked_p95_ms_max": 250}
    print(json.dumps({"name": "matching", "figures": figures, "goals": goals, "met": met}))


if __name__ == "__main__":
    main()
