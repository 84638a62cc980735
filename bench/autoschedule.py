"""Auto-scheduler benchmark: greedy vs heuristic vs the exact solver at seed scale and 10×.

Seed scale mirrors the 2021 fairs: 65 agencies, 116 firms, ~600 accepted requests, 16 slots,
~20% unavailability. Prints meetings placed, firms left without a meeting, the bound, times,
and one JSON line of figures and goals.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.fairs.autoschedule import Pair, Problem, Solution, greedy, heuristic, solve


def make_instance(seed: int = 2021, scale: int = 1) -> Problem:
    """A realistic instance: popular agencies get many requests, small firms ask for one or two."""
    rng = random.Random(seed * 1000 + scale)
    agencies = [f"A{i:04d}" for i in range(65 * scale)]
    firms = [f"F{i:04d}" for i in range(116 * scale)]
    popularity = [rng.paretovariate(1.2) for _ in agencies]
    pairs: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    target = 600 * scale
    while len(pairs) < target:
        firm = rng.choice(firms)
        agency = rng.choices(agencies, weights=popularity)[0]
        if (firm, agency) in seen:
            continue
        seen.add((firm, agency))
        pairs.append(Pair(f"R{len(pairs):05d}", firm, agency, rng.choice((1, 1, 2, 2, 3))))
    n_slots = 16
    everyone = agencies + firms
    unavailable = {who: frozenset(s for s in range(n_slots) if rng.random() < 0.2) for who in everyone}
    return Problem(n_slots=n_slots, pairs=tuple(pairs), unavailable=unavailable, firm_limit=8)


def unserved(problem: Problem, solution: Solution) -> int:
    firms = {p.firm for p in problem.pairs}
    return len(firms) - solution.firms_served(problem)


def run(scale: int, time_limit: float) -> dict[str, float]:
    problem = make_instance(scale=scale)
    g, h, e = greedy(problem), heuristic(problem), solve(problem, time_limit=time_limit)
    gap = (e.bound - e.meetings) / e.bound if e.bound else 0.0
    print(
        f"scale {scale}×: {len(problem.pairs)} requests | "
        f"greedy {g.meetings} ({unserved(problem, g)} firms unserved) | "
        f"heuristic {h.meetings} ({unserved(problem, h)}) | exact {e.meetings} ({unserved(problem, e)}) "
        f"bound {e.bound:.0f} gap {gap:.4%} optimal={e.optimal} in {e.seconds:.2f}s"
    )
    return {
        f"x{scale}_requests": len(problem.pairs),
        f"x{scale}_greedy": g.meetings,
        f"x{scale}_heuristic": h.meetings,
        f"x{scale}_exact": e.meetings,
        f"x{scale}_bound": e.bound,
        f"x{scale}_gap": round(gap, 6),
        f"x{scale}_seconds": round(e.seconds, 3),
        f"x{scale}_unserved_greedy": unserved(problem, g),
        f"x{scale}_unserved_exact": unserved(problem, e),
        f"x{scale}_optimal": e.optimal,
    }


def main() -> None:
    figures = {**run(1, 5.0), **run(10, 9.0)}
    goals = {
        "x1_gap": 0.0,
        "x1_seconds_max": 1.0,
        "x10_gap_max": 0.001,
        "x10_seconds_max": 10.0,
        "never_fewer_than_greedy": True,
    }
    met = (
        figures["x1_gap"] == 0.0
        and figures["x1_seconds"] < 1.0
        and figures["x10_gap"] <= 0.001
        and figures["x10_seconds"] < 10.0
        and figures["x1_exact"] >= figures["x1_greedy"]
        and figures["x10_exact"] >= figures["x10_greedy"]
    )
    print(json.dumps({"name": "autoschedule", "figures": figures, "goals": goals, "met": met}))


if __name__ == "__main__":
    main()
