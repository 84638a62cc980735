"""What a request costs: the app's cheap requests against the framework's own ceiling, with wrk.

In one run, at 64 connections (wrk, one thread, a Lua plan picking one of 600 bearer tokens per
request) against two uvicorn workers:
  - bare Litestar: one POST handler, nothing else (the framework's ceiling on this machine);
  - the app's `GET /health` (anonymous: the middleware stack);
  - the app's `GET /api/v1/me` and `GET /api/v1/fairs` (signed in: the caller lookup).
The app runs as `procmatch serve --no-scheduler --workers 2` runs it, JSON access log included.
Goals (issue 17): /api/v1/me >= 40% of /health; /health >= 60% of bare Litestar.

    uv run python bench/request_cost.py                # 5 s per probe, once
    uv run python bench/request_cost.py --repeat 3     # three rounds: the spread of each ratio
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from booking_race import recreate, seed
from wrkload import free_port, start_app, start_bare, stop, wrk

from service.db.embedded import start_embedded
from service.db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


def measure_app(url: str, tokens: list[str], seconds: float, extra_env: dict[str, str], root: Path) -> dict[str, Any]:
    port = free_port()
    app = start_app(url, port, extra_env=extra_env, root=root)
    try:
        wrk(port, "/api/v1/me", tokens=tokens, seconds=2)  # warm-up: connections, statements
        health = wrk(port, "/health", seconds=seconds)
        me = wrk(port, "/api/v1/me", tokens=tokens, seconds=seconds)
        fairs = wrk(port, "/api/v1/fairs", tokens=tokens, seconds=seconds)
    finally:
        stop(app)
    return {"health": health, "me": me, "fairs": fairs}


def one_round(
    url: str, tokens: list[str], seconds: float, extra_env: dict[str, str], before: Path | None, access_log: bool
) -> dict[str, Any]:
    port = free_port()
    bare_process = start_bare(port)
    try:
        wrk(port, "/bare", method="POST", bodies=["{}"], seconds=1)  # warm-up
        bare = wrk(port, "/bare", method="POST", bodies=["{}"], seconds=seconds)
    finally:
        stop(bare_process)
    result = {"bare": bare, **measure_app(url, tokens, seconds, extra_env, ROOT)}
    if before is not None:
        result["before"] = measure_app(url, tokens, seconds, extra_env, before)
    if access_log:
        # the same app without its JSON access line: what the line costs
        result["no_access_log"] = measure_app(url, tokens, seconds, {**extra_env, "BENCH_NO_ACCESS_LOG": "1"}, ROOT)
    return result


def describe(name: str, r: dict[str, Any]) -> str:
    return (
        f"  {name:<22} {r['rps']:8.0f}/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
        f"socket errors {r['socket_errors']}  codes {r['codes']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--users", type=int, default=64, help="distinct bearer tokens the requests pick from")
    parser.add_argument("--env", action="append", default=[], help="NAME=value for the app (e.g. LOG_LEVEL=WARNING)")
    parser.add_argument("--access-log", action="store_true", help="also measure without the JSON access log")
    parser.add_argument("--before", type=Path, help="another source tree (git archive of an older commit) to compare")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    extra_env = dict(item.split("=", 1) for item in args.env)

    server = start_embedded(ROOT / ".data" / "bench-pg")
    url = asyncio.run(recreate(server))
    upgrade(url)
    _, _, tokens = asyncio.run(seed(url))
    tokens = tokens[: args.users]  # one signed-in user per connection, as when a fair opens

    rounds = []
    for n in range(args.repeat):
        r = one_round(url, tokens, args.seconds, extra_env, args.before, args.access_log)
        rounds.append(r)
        print(f"round {n + 1}:")
        for name, key in (("bare Litestar POST", "bare"), ("GET /health", "health"), ("GET /api/v1/me", "me")):
            print(describe(name, r[key]))
        print(describe("GET /api/v1/fairs", r["fairs"]))
        print(
            f"  /me / /health = {r['me']['rps'] / r['health']['rps']:.0%}, "
            f"/health / bare = {r['health']['rps'] / r['bare']['rps']:.0%}"
        )
        if "no_access_log" in r:
            quiet = r["no_access_log"]
            print(describe("no access log: /health", quiet["health"]))
            print(describe("no access log: /me", quiet["me"]))
            print(f"  access log costs /health {1 - r['health']['rps'] / quiet['health']['rps']:.0%} of its rate")
        if "before" in r:
            b = r["before"]
            for name, key in (("before: GET /health", "health"), ("before: GET /api/v1/me", "me")):
                print(describe(name, b[key]))
            print(describe("before: GET /api/v1/fairs", b["fairs"]))
            print(
                f"  before: /me / /health = {b['me']['rps'] / b['health']['rps']:.0%}, "
                f"/health / bare = {b['health']['rps'] / r['bare']['rps']:.0%}"
            )

    me_ratio = [r["me"]["rps"] / r["health"]["rps"] for r in rounds]
    health_ratio = [r["health"]["rps"] / r["bare"]["rps"] for r in rounds]
    med = statistics.median
    figures = {
        "bare_post_rps": round(med(r["bare"]["rps"] for r in rounds)),
        "health_rps": round(med(r["health"]["rps"] for r in rounds)),
        "me_rps": round(med(r["me"]["rps"] for r in rounds)),
        "fairs_rps": round(med(r["fairs"]["rps"] for r in rounds)),
        "me_p99_ms": round(med(r["me"]["p99_ms"] for r in rounds), 1),
        "me_to_health": round(med(me_ratio), 3),
        "me_to_health_range": [round(min(me_ratio), 3), round(max(me_ratio), 3)],
        "health_to_bare": round(med(health_ratio), 3),
        "health_to_bare_range": [round(min(health_ratio), 3), round(max(health_ratio), 3)],
        "socket_errors": sum(r[k]["socket_errors"] for r in rounds for k in ("bare", "health", "me", "fairs")),
        "non_200": sum(
            v for r in rounds for k in ("health", "me", "fairs") for c, v in r[k]["codes"].items() if c != 200
        ),
        "rounds": len(rounds),
    }
    if args.access_log:
        figures["access_log_cost_health"] = round(
            med(1 - r["health"]["rps"] / r["no_access_log"]["health"]["rps"] for r in rounds), 3
        )
    if args.before is not None:
        figures["before_me_to_health"] = round(
            med(r["before"]["me"]["rps"] / r["before"]["health"]["rps"] for r in rounds), 3
        )
        figures["before_health_to_bare"] = round(
            med(r["before"]["health"]["rps"] / r["bare"]["rps"] for r in rounds), 3
        )
        figures["before_me_rps"] = round(med(r["before"]["me"]["rps"] for r in rounds))
        figures["before_health_rps"] = round(med(r["before"]["health"]["rps"] for r in rounds))
    goals = {"me_to_health": ">= 0.40", "health_to_bare": ">= 0.60", "socket_errors": "== 0", "non_200": "== 0"}
    met = (
        figures["me_to_health"] >= 0.40
        and figures["health_to_bare"] >= 0.60
        and figures["socket_errors"] == 0
        and figures["non_200"] == 0
    )
    print(json.dumps({"name": "request_cost", "figures": figures, "goals": goals, "met": met}))


if __name__ == "__main__":
    main()
