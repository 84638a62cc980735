"""Stand-in for `service.fairs.autoschedule` until that module is merged: same interface,
plain greedy (priority 1 = most wanted first, earliest common free slot). Delete once autoschedule.py exists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    request_id: str
    firm: str
    agency: str
    priority: int


@dataclass(frozen=True)
class Problem:
    n_slots: int
    pairs: tuple[Pair, ...]
    unavailable: Mapping[str, frozenset[int]]
    busy: Mapping[str, frozenset[int]]
    firm_limit: int | None
    existing_count: Mapping[str, int]


@dataclass
class Solution:
    assignments: dict[str, int]
    unplaced: dict[str, str]
    objective: float
    bound: float
    optimal: bool
    method: str


def solve(problem: Problem, time_limit: float = 10.0) -> Solution:
    taken: dict[str, set[int]] = {}
    counts = dict(problem.existing_count)
    assignments: dict[str, int] = {}
    unplaced: dict[str, str] = {}
    for pair in sorted(problem.pairs, key=lambda p: (p.priority, p.request_id)):
        if problem.firm_limit is not None and counts.get(pair.firm, 0) >= problem.firm_limit:
            unplaced[pair.request_id] = "limit_reached"
            continue
        blocked: set[int] = set()
        for org in (pair.firm, pair.agency):
            blocked |= problem.unavailable.get(org, frozenset()) | problem.busy.get(org, frozenset())
            blocked |= taken.get(org, set())
        free = [s for s in range(problem.n_slots) if s not in blocked]
        if not free:
            unplaced[pair.request_id] = "no_common_free_slot"
            continue
        assignments[pair.request_id] = free[0]
        taken.setdefault(pair.firm, set()).add(free[0])
        taken.setdefault(pair.agency, set()).add(free[0])
        counts[pair.firm] = counts.get(pair.firm, 0) + 1
    objective = float(sum(4 - p.priority for p in problem.pairs if p.request_id in assignments))
    bound = float(sum(4 - p.priority for p in problem.pairs))
    return Solution(assignments, unplaced, objective, bound, objective == bound, "greedy-placeholder")
