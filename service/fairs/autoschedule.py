"""The auto-scheduler: place accepted meeting requests into a fair's slot grid.

Pure: no I/O. Input is a `Problem` (accepted request pairs with priorities, the number of
slots, each participant's unavailable and already-busy slots, the per-firm limit and each
firm's existing meetings); output is a `Solution`.

What is optimised, in this order (lexicographically):
  1. the number of firms with an accepted request that get at least one meeting
     (small firms are not left out when any conflict-free schedule avoids it);
  2. the number of meetings (so never fewer than a first-come greedy pass);
  3. the priority the firms gave their requests (1 → 3 points, 2 → 2, 3 → 1).

Exact method: a 0/1 integer program solved with HiGHS in three stages, each stage fixing
the optimum of the one before (x[p,s] = request p in slot s; y[f] = firm f served):
  each request at most once; per slot, each firm and each agency at most once;
  Σ x of a firm ≤ limit − existing; y[f] ≤ Σ x of firm f.
A fast heuristic (priority greedy, then augmenting repair that moves a meeting of a firm
with several meetings to let an unserved firm in) gives the starting point and the
answer when the solver runs out of time; the result is never worse than the heuristic.
`bound` is the solver's proven upper bound on the stage-2 objective (meetings), so
`bound - len(assignments)` says how far from optimal the answer can be. Deterministic:
inputs are sorted and HiGHS runs single-threaded with a fixed seed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PRIORITY_POINTS = {1: 3, 2: 2, 3: 1}
NO_COMMON_FREE_SLOT = "no_common_free_slot"
LIMIT_REACHED = "limit_reached"
NOT_CHOSEN = "no_room_in_schedule"
LARGE = 30_000  # variables; above this the solve may hit the time limit


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
    unavailable: Mapping[str, frozenset[int]] = field(default_factory=dict)
    busy: Mapping[str, frozenset[int]] = field(default_factory=dict)
    firm_limit: int | None = None
    existing_count: Mapping[str, int] = field(default_factory=dict)


@dataclass
class Solution:
    assignments: dict[str, int]
    unplaced: dict[str, str]
    objective: float
    bound: float
    optimal: bool
    method: str
    seconds: float = 0.0

    @property
    def meetings(self) -> int:
        return len(self.assignments)

    def firms_served(self, problem: Problem) -> int:
        firm_of = {p.request_id: p.firm for p in problem.pairs}
        return len({firm_of[r] for r in self.assignments})


def _sorted_pairs(problem: Problem) -> list[Pair]:
    return sorted(problem.pairs, key=lambda p: (p.priority, p.firm, p.agency, p.request_id))


def _blocked(problem: Problem, who: str) -> frozenset[int]:
    return problem.unavailable.get(who, frozenset()) | problem.busy.get(who, frozenset())


def feasible_slots(problem: Problem, pair: Pair) -> list[int]:
    """Slots where both parties are neither unavailable nor already busy."""
    blocked = _blocked(problem, pair.firm) | _blocked(problem, pair.agency)
    return [s for s in range(problem.n_slots) if s not in blocked]


def _capacity(problem: Problem, firm: str) -> int:
    if problem.firm_limit is None:
        return problem.n_slots
    return max(0, problem.firm_limit - problem.existing_count.get(firm, 0))


def _reasons(problem: Problem, assignments: dict[str, int]) -> dict[str, str]:
    per_firm: dict[str, int] = defaultdict(int)
    for pair in problem.pairs:
        if pair.request_id in assignments:
            per_firm[pair.firm] += 1
    unplaced: dict[str, str] = {}
    for pair in problem.pairs:
        if pair.request_id in assignments:
            continue
        if not feasible_slots(problem, pair):
            unplaced[pair.request_id] = NO_COMMON_FREE_SLOT
        elif per_firm[pair.firm] >= _capacity(problem, pair.firm):
            unplaced[pair.request_id] = LIMIT_REACHED
        else:
            unplaced[pair.request_id] = NOT_CHOSEN
    return unplaced


def _score(problem: Problem, assignments: dict[str, int]) -> tuple[int, int, int]:
    by_id = {p.request_id: p for p in problem.pairs}
    firms = {by_id[r].firm for r in assignments}
    points = sum(PRIORITY_POINTS.get(by_id[r].priority, 1) for r in assignments)
    return len(firms), len(assignments), points


def check(problem: Problem, assignments: Mapping[str, int]) -> None:
    """Raise AssertionError if the assignment breaks a rule (used by tests and as a guard)."""
    by_id = {p.request_id: p for p in problem.pairs}
    seen: set[tuple[str, int]] = set()
    count: dict[str, int] = defaultdict(int)
    for request_id, slot in assignments.items():
        pair = by_id[request_id]
        assert 0 <= slot < problem.n_slots, "slot out of range"
        assert slot in feasible_slots(problem, pair), "slot not free for both parties"
        for who in (pair.firm, pair.agency):
            assert (who, slot) not in seen, f"{who} twice in slot {slot}"
            seen.add((who, slot))
        count[pair.firm] += 1
    for firm, n in count.items():
        assert n <= _capacity(problem, firm), f"{firm} over its limit"


# -- heuristic ------------------------------------------------------------------------
def greedy(problem: Problem) -> Solution:
    """First-come style baseline: requests in priority order, each into its earliest free slot."""
    started = time.perf_counter()
    taken: set[tuple[str, int]] = set()
    count: dict[str, int] = defaultdict(int)
    assignments: dict[str, int] = {}
    for pair in _sorted_pairs(problem):
        if count[pair.firm] >= _capacity(problem, pair.firm):
            continue
        for slot in feasible_slots(problem, pair):
            if (pair.firm, slot) not in taken and (pair.agency, slot) not in taken:
                assignments[pair.request_id] = slot
                taken.update({(pair.firm, slot), (pair.agency, slot)})
                count[pair.firm] += 1
                break
    _, meetings, _ = _score(problem, assignments)
    return Solution(
        assignments,
        _reasons(problem, assignments),
        float(meetings),
        float(len(problem.pairs)),
        False,
        "greedy",
        time.perf_counter() - started,
    )


def heuristic(problem: Problem) -> Solution:
    """Two starts (first-come order, and scarce-first order), each repaired; the better one.

    Repair: an unserved firm takes a slot from a firm that has several meetings, and the displaced
    meeting is placed again elsewhere when it can. A repair never lowers the meeting count below the
    start's, so starting from the first-come order the result has at least greedy's meetings."""
    started = time.perf_counter()
    baseline = greedy(problem).meetings
    best: Solution | None = None
    for scarce_first in (False, True):
        candidate = _repaired(problem, scarce_first)
        key = (candidate.meetings >= baseline, *_score(problem, candidate.assignments))
        if best is None or key > (best.meetings >= baseline, *_score(problem, best.assignments)):
            best = candidate
    assert best is not None
    best.seconds = time.perf_counter() - started
    return best


def _repaired(problem: Problem, scarce_first: bool) -> Solution:
    started = time.perf_counter()
    pairs = _sorted_pairs(problem)
    options = {p.request_id: feasible_slots(problem, p) for p in pairs}
    requests_of: dict[str, int] = defaultdict(int)
    for p in pairs:
        requests_of[p.firm] += 1
    occupant: dict[tuple[str, int], str] = {}
    count: dict[str, int] = defaultdict(int)
    assignments: dict[str, int] = {}
    by_id = {p.request_id: p for p in pairs}

    def free(pair: Pair, slot: int) -> bool:
        return (pair.firm, slot) not in occupant and (pair.agency, slot) not in occupant

    def place(pair: Pair, slot: int) -> None:
        assignments[pair.request_id] = slot
        occupant[(pair.firm, slot)] = pair.request_id
        occupant[(pair.agency, slot)] = pair.request_id
        count[pair.firm] += 1

    def unplace(pair: Pair) -> int:
        slot = assignments.pop(pair.request_id)
        del occupant[(pair.firm, slot)]
        del occupant[(pair.agency, slot)]
        count[pair.firm] -= 1
        return slot

    def try_place(pair: Pair) -> bool:
        if count[pair.firm] >= _capacity(problem, pair.firm):
            return False
        for slot in options[pair.request_id]:
            if free(pair, slot):
                place(pair, slot)
                return True
        return False

    # Scarce first: firms with few requests and requests with few usable slots; or first-come order.
    order = (
        sorted(pairs, key=lambda p: (requests_of[p.firm], len(options[p.request_id]), p.priority, p.request_id))
        if scarce_first
        else pairs
    )
    for pair in order:
        try_place(pair)

    # Repair: give every unserved firm a meeting if a served-twice firm can yield (or move) one.
    for pair in pairs:
        if count[pair.firm] > 0 or _capacity(problem, pair.firm) == 0:
            continue
        for slot in options[pair.request_id]:
            blockers = {occupant.get((pair.firm, slot)), occupant.get((pair.agency, slot))} - {None}
            if len(blockers) != 1:
                continue
            blocker = by_id[str(blockers.pop())]
            can_move = any(free(blocker, s) for s in options[blocker.request_id] if s != slot)
            if count[blocker.firm] < 2 and not can_move:
                continue
            unplace(blocker)
            place(pair, slot)
            try_place(blocker)  # moved elsewhere when possible; otherwise the firm keeps its others
            break

    # Fill what is still free.
    for pair in pairs:
        if pair.request_id not in assignments:
            try_place(pair)
    _, meetings, _ = _score(problem, assignments)
    return Solution(
        assignments,
        _reasons(problem, assignments),
        float(meetings),
        float(len(problem.pairs)),
        False,
        "heuristic",
        time.perf_counter() - started,
    )


# -- exact -----------------------------------------------------------------------------
def solve(problem: Problem, time_limit: float = 10.0) -> Solution:
    """The best schedule the integer program proves (or finds within the time limit)."""
    started = time.perf_counter()
    first_come, repaired = greedy(problem), heuristic(problem)
    base = repaired if repaired.meetings >= first_come.meetings else first_come
    if not problem.pairs:
        return Solution({}, {}, 0.0, 0.0, True, "exact", 0.0)
    try:
        import highspy
    except ImportError:  # pragma: no cover - highspy is a dependency
        return base

    pairs = _sorted_pairs(problem)
    cols: list[tuple[int, int]] = []  # (pair index, slot)
    for i, pair in enumerate(pairs):
        cols.extend((i, s) for s in feasible_slots(problem, pair))
    firms = sorted({p.firm for p in pairs})
    firm_index = {f: k for k, f in enumerate(firms)}
    n_x, n_y = len(cols), len(firms)
    if n_x == 0:
        return Solution({}, _reasons(problem, {}), 0.0, 0.0, True, "exact", time.perf_counter() - started)

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    for option, setting in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("mip_rel_gap", 0.0)):
        h.setOptionValue(option, setting)
    h.setOptionValue("mip_abs_gap", 0.5)
    inf = highspy.kHighsInf
    h.addCols(
        n_x + n_y,
        np.zeros(n_x + n_y),
        np.zeros(n_x + n_y),
        np.ones(n_x + n_y),
        0,
        np.array([], dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([], dtype=np.float64),
    )
    h.changeColsIntegrality(n_x + n_y, np.arange(n_x + n_y, dtype=np.int32), np.ones(n_x + n_y, dtype=np.uint8))

    groups: dict[tuple[str, object], list[int]] = defaultdict(list)
    for c, (i, s) in enumerate(cols):
        pair = pairs[i]
        groups[("pair", i)].append(c)
        groups[("firm-slot", (pair.firm, s))].append(c)
        groups[("agency-slot", (pair.agency, s))].append(c)
        groups[("firm", pair.firm)].append(c)
    lower: list[float] = []
    upper: list[float] = []
    starts: list[int] = []
    index: list[int] = []
    values: list[float] = []

    def row(columns: list[int], coefficients: list[float], lo: float, hi: float) -> None:
        starts.append(len(index))
        index.extend(columns)
        values.extend(coefficients)
        lower.append(lo)
        upper.append(hi)

    for (kind, key), columns in groups.items():
        if kind == "firm":
            firm = str(key)
            capacity = _capacity(problem, firm)
            if capacity < len(columns):
                row(columns, [1.0] * len(columns), -inf, float(capacity))
            # y[f] ≤ Σ x[f]  ⇔  y[f] − Σ x[f] ≤ 0
            row([n_x + firm_index[firm], *columns], [1.0] + [-1.0] * len(columns), -inf, 0.0)
        elif len(columns) > 1:
            row(columns, [1.0] * len(columns), -inf, 1.0)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addRows(
        len(lower),
        np.array(lower),
        np.array(upper),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(values, dtype=np.float64),
    )

    all_cols = np.arange(n_x + n_y, dtype=np.int32)
    x_cols = np.arange(n_x, dtype=np.int32)
    # Never fewer meetings than the first-come greedy pass: Σ x ≥ its count.
    h.addRow(float(first_come.meetings), inf, n_x, x_cols, np.ones(n_x))
    # Stage 1 and 2 in one integer objective: W·(firms served) + meetings, with W above any meeting count,
    # so one more firm served always wins; mip_abs_gap < 1 makes "optimal" exact. Stage 3: priorities,
    # with the stage-1/2 optimum fixed (it never changes who is served or how many meetings).
    weight = float(n_x + 1)
    points = np.array([PRIORITY_POINTS.get(pairs[i].priority, 1) for i, _ in cols], dtype=np.float64)
    stages = [
        np.concatenate([np.ones(n_x), np.full(n_y, weight)]),
        np.concatenate([points, np.zeros(n_y)]),
    ]
    base_vector = np.zeros(n_x + n_y)
    col_of = {(pairs[i].request_id, s): c for c, (i, s) in enumerate(cols)}
    for request_id, slot in base.assignments.items():
        base_vector[col_of[(request_id, slot)]] = 1.0
    for firm in {pair.firm for pair in pairs if pair.request_id in base.assignments}:
        base_vector[n_x + firm_index[firm]] = 1.0

    # Large instances may stop at the time limit: compute a bound on meetings first (LP relaxation).
    meetings_bound = _meetings_lp_bound(h, n_x, n_y) if n_x > LARGE else float("inf")
    optimal = True
    solution_vector: np.ndarray = base_vector
    for stage, costs in enumerate(stages):
        remaining = time_limit - (time.perf_counter() - started)
        if remaining <= 0.05:
            optimal = optimal and stage > 0
            break
        h.setOptionValue("time_limit", remaining)
        h.changeColsCost(n_x + n_y, all_cols, costs)
        h.setSolution(_solution(solution_vector))
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        if info.primal_solution_status == 2:
            value: np.ndarray = np.round(np.array(h.getSolution().col_value))
            if float(costs @ value) >= float(costs @ solution_vector) - 1e-6:
                solution_vector = value
        if status != highspy.HighsModelStatus.kOptimal:
            optimal = optimal and stage > 0  # stage 2 (priorities) never changes the counts
            break
        # Fix this stage's optimum before the next one: costs · v ≥ achieved.
        achieved = float(costs @ solution_vector)
        nonzero = np.nonzero(costs)[0].astype(np.int32)
        h.addRow(achieved - 0.5, inf, len(nonzero), nonzero, costs[nonzero])

    assignments = {pairs[cols[c][0]].request_id: cols[c][1] for c in range(n_x) if solution_vector[c] > 0.5}
    if len(assignments) < first_come.meetings or _score(problem, assignments) < _score(problem, base.assignments):
        assignments = dict(base.assignments)
        optimal = False
    check(problem, assignments)
    meetings = float(len(assignments))
    if optimal:
        meetings_bound = meetings
    elif meetings_bound == float("inf"):
        meetings_bound = _meetings_lp_bound(h, n_x, n_y)
    return Solution(
        assignments,
        _reasons(problem, assignments),
        meetings,
        max(meetings_bound, meetings),
        optimal,
        "exact" if optimal else "exact-time-limited",
        time.perf_counter() - started,
    )


def _meetings_lp_bound(h: object, n_x: int, n_y: int) -> float:
    """An upper bound on the meetings any schedule can have: the LP relaxation of max Σ x."""
    import highspy

    lp = highspy.Highs()  # type: ignore[no-untyped-call]
    lp.setOptionValue("output_flag", False)
    lp.setOptionValue("threads", 1)
    model = h.getLp()  # type: ignore[attr-defined]
    model.integrality_ = []
    model.col_cost_ = list(np.concatenate([np.ones(n_x), np.zeros(n_y)]))
    lp.passModel(model)
    lp.changeObjectiveSense(highspy.ObjSense.kMaximize)
    lp.run()
    return float(np.floor(lp.getInfo().objective_function_value + 1e-6))


def _solution(vector: np.ndarray) -> Any:
    import highspy

    solution = highspy.HighsSolution()
    solution.col_value = list(vector)
    solution.value_valid = True
    return solution
