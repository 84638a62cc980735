"""The auto-scheduler: place accepted meeting requests into a fair's slot grid.

A pure module (no I/O, no database). The caller loads the fair and builds a `Problem`;
`solve` returns a `Solution` that the caller turns into meetings.

The model
---------
Slots ``0..n_slots-1`` are the fair's grid (equal length, distinct indices never overlap).
Each accepted request (a `Pair`: firm, agency, priority 1..3) may get at most one slot ``s``
that neither party has marked unavailable nor is already busy in (``unavailable`` and
``busy`` map a participant id to slot indices). Nobody is in two meetings in one slot. When
``firm_limit`` is set, ``existing_count[firm] + new meetings ≤ firm_limit``.

With ``x[r, s] ∈ {0, 1}`` for every request ``r`` and every slot ``s`` free for both parties:

* ``Σ_s x[r, s] ≤ 1`` for each request;
* ``Σ x[r, s] ≤ 1`` over the requests of one firm, and over those of one agency, per slot;
* ``Σ x[r, s] ≤ firm_limit − existing_count[firm]`` per firm;

and the objective is lexicographic:

1. **Firms served.** A firm that has no meeting yet (``existing_count == 0``) should get one
   wherever any conflict-free schedule can give it one. The largest number of firms that can
   be served at once is a bipartite matching (firm → (agency, slot)), found exactly by
   augmenting paths; the integer program then requires at least that many firms served
   (``y[f] ≤ Σ x[r of f, s]``, ``y[f] ≤ 1``, ``Σ y ≥ served*``).
2. **Meetings.** Maximise the number of meetings placed.
3. **Priority.** Among schedules with the most meetings, prefer the wanted ones: a placed
   request scores 3, 2 or 1 for priority 1, 2 or 3. The priority only breaks ties: a
   priority-1 request never displaces two lower ones, because a fair is judged by the
   meetings it holds and the scheduler must never place fewer than the first-come greedy
   baseline.

Tiers 2 and 3 are one integer objective: each meeting weighs ``K + bonus`` with
``bonus = 3 − priority ∈ {0, 1, 2}`` and ``K = 2·R + 1`` (``R`` the number of requests), so
all bonuses together are worth less than one meeting. ``Solution.objective`` and
``Solution.bound`` are reported in meeting units (divided by ``K``): their integer part is
the number of meetings, the fraction is the priority tie-break. ``optimal`` is true when the
gap is below one unit of the integer objective, i.e. the schedule is proven optimal.

Methods
-------
``greedy`` is the first-come baseline: requests in the order given (the caller passes them
oldest first), each takes the earliest slot free for both parties.

``solve`` first builds a heuristic schedule: the fairness matching, then the remaining requests
(most constrained first), then augmenting ejection chains (an unplaced request takes a slot by
moving the meeting that blocks it to another free slot, recursively, a few levels deep), which
never removes a meeting, so served firms stay served. That schedule warm-starts the integer
program, solved by HiGHS (single thread, fixed seed) within ``time_limit``; HiGHS's dual bound
says how far from optimal the result can be. If HiGHS has not reached a bound in time, a
combinatorial bound (a max flow that ignores slot alignment) is reported instead.

Determinism: the requests are sorted by ``request_id`` before anything else, so the same input
(in any order) gives the same output, as long as HiGHS finishes within the time limit (a
time-limited search can stop at a different point on a slower machine).

Unplaced requests carry a reason: ``limit_reached`` when the firm has used its limit, else
``no_common_free_slot`` (no slot is free for both parties, or every such slot is taken by
another of their meetings).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NO_COMMON_FREE_SLOT = "no_common_free_slot"
LIMIT_REACHED = "limit_reached"

# Priority 1 is the most wanted. The weights are the tie-break tier (see the module docstring).
PRIORITY_WEIGHT = {1: 3, 2: 2, 3: 1}

# Depth of the augmenting ejection chains in the heuristic.
_CHAIN_DEPTH = 4
_LOG = False
# Above this many x columns HiGHS spends seconds setting up the MIP (probing, cliques) and
# overshoots its time limit; there the MIP runs only if the LP leaves a whole meeting open.
_MIP_SETUP_COLUMNS = 20_000


@dataclass(frozen=True)
class Pair:
    """An accepted meeting request between a firm and an agency."""

    request_id: str
    firm: str
    agency: str
    priority: int  # 1..3, 1 = most wanted


@dataclass(frozen=True)
class Problem:
    """One fair to schedule.

    ``unavailable`` and ``busy`` map participant ids (firms and agencies alike) to slot indices
    they cannot use: marked unavailable, or already in a meeting. ``existing_count`` is each
    firm's number of meetings already booked at this fair (it counts towards ``firm_limit`` and a
    firm with one is already served).
    """

    n_slots: int
    pairs: tuple[Pair, ...]
    unavailable: Mapping[str, frozenset[int]]
    busy: Mapping[str, frozenset[int]]
    firm_limit: int | None
    existing_count: Mapping[str, int]


@dataclass
class Solution:
    """``assignments`` maps request id → slot; ``unplaced`` maps request id → reason."""

    assignments: dict[str, int]
    unplaced: dict[str, str]
    objective: float
    bound: float
    optimal: bool
    method: str


class _Instance:
    """The problem in index form: requests, firms and agencies numbered, free slots listed."""

    def __init__(self, problem: Problem, pairs: Sequence[Pair]) -> None:
        if problem.n_slots < 0:
            raise ValueError("n_slots must not be negative")
        if problem.firm_limit is not None and problem.firm_limit < 0:
            raise ValueError("firm_limit must not be negative")
        seen: set[str] = set()
        for pair in pairs:
            if pair.request_id in seen:
                raise ValueError(f"duplicate request id {pair.request_id!r}")
            if pair.priority not in PRIORITY_WEIGHT:
                raise ValueError(f"priority must be 1, 2 or 3 (request {pair.request_id!r})")
            seen.add(pair.request_id)
        self.problem = problem
        self.pairs = list(pairs)
        self.n_slots = problem.n_slots
        self.firm_names = sorted({p.firm for p in pairs})
        self.agency_names = sorted({p.agency for p in pairs})
        firm_index = {name: i for i, name in enumerate(self.firm_names)}
        agency_index = {name: i for i, name in enumerate(self.agency_names)}
        self.firm = [firm_index[p.firm] for p in pairs]
        self.agency = [agency_index[p.agency] for p in pairs]
        self.bonus = [PRIORITY_WEIGHT[p.priority] - 1 for p in pairs]
        all_slots = frozenset(range(self.n_slots))

        def free(name: str) -> frozenset[int]:
            blocked = problem.unavailable.get(name, frozenset()) | problem.busy.get(name, frozenset())
            return all_slots - blocked

        firm_free = [free(name) for name in self.firm_names]
        agency_free = [free(name) for name in self.agency_names]
        huge = len(pairs) + 1
        self.capacity = [
            huge if problem.firm_limit is None else max(0, problem.firm_limit - problem.existing_count.get(name, 0))
            for name in self.firm_names
        ]
        self.needs_service = [problem.existing_count.get(name, 0) == 0 for name in self.firm_names]
        # Slots a request may use: free for both parties, and the firm has room under its limit.
        self.options: list[list[int]] = [
            sorted(firm_free[f] & agency_free[a]) if self.capacity[f] > 0 else []
            for f, a in zip(self.firm, self.agency, strict=True)
        ]
        self.by_firm: list[list[int]] = [[] for _ in self.firm_names]
        for r, f in enumerate(self.firm):
            self.by_firm[f].append(r)
        # K: a meeting's weight in the integer objective, above the sum of all bonuses.
        self.scale = 2 * len(pairs) + 1

    def weight(self, r: int) -> int:
        return self.scale + self.bonus[r]


class _Schedule:
    """A mutable conflict-free schedule over an `_Instance`."""

    def __init__(self, inst: _Instance) -> None:
        self.inst = inst
        self.slot = [-1] * len(inst.pairs)
        self.firm_at = [[-1] * inst.n_slots for _ in inst.firm_names]
        self.agency_at = [[-1] * inst.n_slots for _ in inst.agency_names]
        self.count = [0] * len(inst.firm_names)

    def is_free(self, r: int, s: int) -> bool:
        return self.firm_at[self.inst.firm[r]][s] < 0 and self.agency_at[self.inst.agency[r]][s] < 0

    def has_room(self, r: int) -> bool:
        f = self.inst.firm[r]
        return self.count[f] < self.inst.capacity[f]

    def place(self, r: int, s: int) -> None:
        f, a = self.inst.firm[r], self.inst.agency[r]
        self.slot[r] = s
        self.firm_at[f][s] = r
        self.agency_at[a][s] = r
        self.count[f] += 1

    def remove(self, r: int) -> int:
        f, a, s = self.inst.firm[r], self.inst.agency[r], self.slot[r]
        self.slot[r] = -1
        self.firm_at[f][s] = -1
        self.agency_at[a][s] = -1
        self.count[f] -= 1
        return s

    def place_earliest(self, r: int) -> bool:
        if not self.has_room(r):
            return False
        for s in self.inst.options[r]:
            if self.is_free(r, s):
                self.place(r, s)
                return True
        return False

    def insert_by_chain(self, r: int, depth: int, visited: set[int]) -> bool:
        """Place ``r``, moving blocking meetings to other free slots (an augmenting chain).

        Every moved meeting is placed again, or replaced by another request of the same firm
        (which frees the blocker's agency without changing the firm's count), so a success adds
        one meeting and leaves every firm with at least as many. ``visited`` is shared across
        the search so each request is tried at most once.
        """
        if self.place_earliest(r):
            return True
        if depth == 0 or not self.has_room(r):
            return False
        f, a = self.inst.firm[r], self.inst.agency[r]
        for s in self.inst.options[r]:
            by_firm, by_agency = self.firm_at[f][s], self.agency_at[a][s]
            if by_firm >= 0 and by_agency >= 0:
                continue  # two meetings to move: too costly for a chain
            blocker = by_firm if by_firm >= 0 else by_agency
            if blocker in visited:
                continue
            visited.add(blocker)
            self.remove(blocker)
            self.place(r, s)
            if self.insert_by_chain(blocker, depth - 1, visited):
                return True
            for sibling in self.inst.by_firm[self.inst.firm[blocker]]:
                if self.slot[sibling] < 0 and sibling not in visited and self.inst.options[sibling]:
                    visited.add(sibling)
                    if self.insert_by_chain(sibling, depth - 1, visited):
                        return True
            self.remove(r)
            self.place(blocker, s)
        return False

    def improve_priorities(self) -> None:
        """Swap a placed request for an unplaced one of higher priority (same meeting count).

        The unplaced request takes the slot of the single meeting blocking it, or (when its firm
        is at its limit) replaces a lower-priority meeting of the same firm; the displaced
        meeting then tries to find another slot. Firms keep their meeting counts.
        """
        inst = self.inst
        for r in sorted(range(len(inst.pairs)), key=lambda r: (-inst.bonus[r], r)):
            if self.slot[r] >= 0 or not inst.options[r] or inst.bonus[r] == 0:
                continue
            f, a = inst.firm[r], inst.agency[r]
            if not self.has_room(r):
                for m in sorted(inst.by_firm[f], key=lambda m: (inst.bonus[m], m)):
                    if self.slot[m] < 0 or inst.bonus[m] >= inst.bonus[r]:
                        continue
                    old = self.remove(m)
                    if self.insert_by_chain(r, 1, {r, m}):
                        break
                    self.place(m, old)
                continue
            for s in inst.options[r]:
                by_firm, by_agency = self.firm_at[f][s], self.agency_at[a][s]
                if by_firm < 0 and by_agency < 0:  # freed by an earlier swap
                    self.place(r, s)
                    break
                if by_firm >= 0 and by_agency >= 0:
                    continue
                m = by_firm if by_firm >= 0 else by_agency
                if inst.bonus[m] >= inst.bonus[r] or (by_agency >= 0 and self.count[inst.firm[m]] == 1):
                    continue  # no gain, or it would leave another firm without a meeting
                self.remove(m)
                self.place(r, s)
                self.insert_by_chain(m, 1, {r, m})
                break

    def meetings(self) -> int:
        return sum(1 for s in self.slot if s >= 0)

    def firms_served(self) -> int:
        return sum(1 for f, n in enumerate(self.count) if n > 0 and self.inst.needs_service[f])

    def objective_units(self) -> int:
        return sum(self.inst.weight(r) for r, s in enumerate(self.slot) if s >= 0)


# --- combinatorial pieces --------------------------------------------------------------------


def _max_firms_served(
    inst: _Instance, preference: Mapping[tuple[int, int], float] | None = None
) -> list[tuple[int, int]]:
    """A largest set of (request, slot) giving distinct unserved firms one meeting each.

    Firms served at once need pairwise distinct (agency, slot) cells and nothing else (one
    meeting per firm cannot clash with itself), so this is a maximum bipartite matching
    firm → (agency, slot), found with augmenting paths (breadth-first, no recursion).
    ``preference`` (e.g. LP values per (request, slot)) orders the cells each firm tries first.
    """
    n_slots = inst.n_slots
    prefer = preference or {}
    firms = [f for f in range(len(inst.firm_names)) if inst.needs_service[f] and inst.capacity[f] > 0]
    edges: dict[int, list[tuple[int, int]]] = {}
    for f in firms:
        cells: list[tuple[int, int]] = []
        for r in sorted(inst.by_firm[f], key=lambda r: (-inst.bonus[r], r)):
            cells.extend((inst.agency[r] * n_slots + s, r) for s in inst.options[r])
        if cells:
            cells.sort(key=lambda cell: -prefer.get((cell[1], cell[0] % n_slots), 0.0))  # stable
            edges[f] = cells
    owner: dict[int, tuple[int, int]] = {}  # cell -> (firm, request)
    matched: dict[int, int] = {}  # firm -> cell
    for root in edges:
        # Breadth-first search for an augmenting path from ``root``.
        parent: dict[int, tuple[int, int, int]] = {}  # cell -> (firm reaching it, request, cell it came from)
        queue = [root]
        found = -1
        head = 0
        while head < len(queue) and found < 0:
            f = queue[head]
            head += 1
            for cell, r in edges[f]:
                if cell in parent:
                    continue
                parent[cell] = (f, r, matched.get(f, -1))
                if cell not in owner:
                    found = cell
                    break
                queue.append(owner[cell][0])
        if found < 0:
            continue
        cell = found
        while True:
            f, r, _ = parent[cell]
            previous = matched.get(f, -1)
            owner[cell] = (f, r)
            matched[f] = cell
            if f == root:
                break
            cell = previous
    return sorted((r, cell % n_slots) for cell, (_, r) in owner.items())


def _meetings_upper_bound(inst: _Instance) -> int:
    """Most meetings any schedule can hold, ignoring which slot each one takes.

    Max flow source → firm (its limit and free slots) → agency (requests between the two, at
    most their common free slots) → sink (the agency's free slots).
    """
    n_firms, n_agencies = len(inst.firm_names), len(inst.agency_names)
    source, sink = n_firms + n_agencies, n_firms + n_agencies + 1
    graph: list[list[int]] = [[] for _ in range(sink + 1)]
    to: list[int] = []
    cap: list[int] = []

    def add(u: int, v: int, c: int) -> None:
        graph[u].append(len(to))
        to.append(v)
        cap.append(c)
        graph[v].append(len(to))
        to.append(u)
        cap.append(0)

    firm_slots: list[set[int]] = [set() for _ in range(n_firms)]
    agency_slots: list[set[int]] = [set() for _ in range(n_agencies)]
    pair_count: dict[tuple[int, int], int] = {}
    pair_slots: dict[tuple[int, int], set[int]] = {}
    for r, slots in enumerate(inst.options):
        if not slots:
            continue
        f, a = inst.firm[r], inst.agency[r]
        firm_slots[f].update(slots)
        agency_slots[a].update(slots)
        pair_count[f, a] = pair_count.get((f, a), 0) + 1
        pair_slots.setdefault((f, a), set()).update(slots)
    for f in range(n_firms):
        if firm_slots[f]:
            add(source, f, min(inst.capacity[f], len(firm_slots[f])))
    for (f, a), n in sorted(pair_count.items()):
        add(f, n_firms + a, min(n, len(pair_slots[f, a])))
    for a in range(n_agencies):
        if agency_slots[a]:
            add(n_firms + a, sink, len(agency_slots[a]))

    flow = 0
    while True:  # Dinic: level graph, then blocking flow by iterative DFS.
        level = [-1] * len(graph)
        level[source] = 0
        queue = [source]
        for u in queue:
            for e in graph[u]:
                if cap[e] > 0 and level[to[e]] < 0:
                    level[to[e]] = level[u] + 1
                    queue.append(to[e])
        if level[sink] < 0:
            return flow
        pointer = [0] * len(graph)
        while True:
            path: list[int] = []
            u = source
            while u != sink:
                advanced = False
                while pointer[u] < len(graph[u]):
                    e = graph[u][pointer[u]]
                    if cap[e] > 0 and level[to[e]] == level[u] + 1:
                        path.append(e)
                        u = to[e]
                        advanced = True
                        break
                    pointer[u] += 1
                if not advanced:
                    if not path:
                        break
                    level[u] = -1  # dead end: prune it and step back
                    e = path.pop()
                    u = to[e ^ 1]
                    pointer[u] += 1
            if u != sink:
                break
            push = min(cap[e] for e in path)
            for e in path:
                cap[e] -= push
                cap[e ^ 1] += push
            flow += push


def _bound_units(inst: _Instance, meetings_bound: int) -> int:
    """Integer-objective bound from a bound on the number of meetings."""
    bonuses = sorted((inst.bonus[r] for r, slots in enumerate(inst.options) if slots), reverse=True)
    return meetings_bound * inst.scale + sum(bonuses[:meetings_bound])


# --- heuristic -------------------------------------------------------------------------------


def _heuristic(inst: _Instance, preference: Mapping[tuple[int, int], float] | None = None) -> _Schedule:
    """Fairness matching, then the rest, then augmenting chains.

    Without ``preference`` the rest go most constrained first into their earliest free slot;
    with it (LP values per (request, slot)) the requests the LP wants most go first, each into
    the slot the LP gives it if still free.
    """
    prefer = preference or {}
    best_slot: dict[int, tuple[float, int]] = {}
    for (r, s), value in prefer.items():
        if value > best_slot.get(r, (0.0, -1))[0]:
            best_slot[r] = (value, s)
    schedule = _Schedule(inst)
    for r, s in _max_firms_served(inst, preference):
        schedule.place(r, s)
    rest = sorted(
        (r for r in range(len(inst.pairs)) if schedule.slot[r] < 0 and inst.options[r]),
        key=lambda r: (-best_slot.get(r, (0.0, -1))[0], len(inst.options[r]), -inst.bonus[r], r),
    )
    pending: list[int] = []
    for r in rest:
        s = best_slot.get(r, (0.0, -1))[1]
        if s >= 0 and schedule.has_room(r) and schedule.is_free(r, s):
            schedule.place(r, s)
        elif not schedule.place_earliest(r):
            pending.append(r)
    improved = True
    while improved and pending:
        improved = False
        still: list[int] = []
        for r in pending:
            if schedule.slot[r] >= 0:  # placed meanwhile, as a firm's replacement in a chain
                continue
            if schedule.insert_by_chain(r, _CHAIN_DEPTH, {r}):
                improved = True
            else:
                still.append(r)
        pending = still
    schedule.improve_priorities()
    return schedule


# --- exact -----------------------------------------------------------------------------------


class _Model:
    """The integer program in HiGHS, solved first as an LP relaxation, then (if needed) as a MIP."""

    def __init__(self, inst: _Instance, served_target: int) -> None:
        self.inst = inst
        self.columns, self.highs = _build_model(inst, served_target)
        self.fair_firms = _fair_firms(inst) if served_target > 0 else []

    def solve_lp(self, time_limit: float) -> tuple[dict[tuple[int, int], float], float]:
        """LP values per (request, slot) (empty if none in time) and the LP bound (inf if none)."""
        import highspy

        self.highs.setOptionValue("time_limit", max(0.01, time_limit))
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kModelEmpty:
            return {}, 0.0
        if status != highspy.HighsModelStatus.kOptimal:
            return {}, math.inf
        values = self.highs.getSolution().col_value
        lp = {rs: float(values[j]) for j, rs in enumerate(self.columns) if values[j] > 1e-6}
        # The integer objective is integral: round the LP value down, leaving room for tolerances.
        return lp, float(math.floor(self.highs.getInfo().objective_function_value + 1e-3))

    def solve_mip(self, warm: _Schedule, time_limit: float) -> tuple[list[int] | None, float, bool]:
        """(slot per request or None, bound in objective units or inf, proven optimal)."""
        import highspy

        inst, columns, highs = self.inst, self.columns, self.highs
        n_x = len(columns)
        n_col = highs.getNumCol()
        highs.changeColsIntegrality(n_x, np.arange(n_x, dtype=np.int32), np.ones(n_x, dtype=np.uint8))
        highs.setOptionValue("time_limit", max(0.01, time_limit))
        start = np.zeros(n_col)
        column_of = {rs: j for j, rs in enumerate(columns)}
        for r, s in enumerate(warm.slot):
            if s >= 0:
                start[column_of[r, s]] = 1.0
        for j in range(n_x, n_col):  # fairness columns, in the order of _build_model
            start[j] = 1.0 if warm.count[self.fair_firms[j - n_x]] > 0 else 0.0
        highs.setSolution(n_col, np.arange(n_col, dtype=np.int32), start)
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kModelEmpty:
            return [-1] * len(inst.pairs), 0.0, True
        info = highs.getInfo()
        bound = float(info.mip_dual_bound)
        bound = float(math.floor(bound + 1e-3)) if math.isfinite(bound) else math.inf
        proven = status == highspy.HighsModelStatus.kOptimal
        values = highs.getSolution().col_value
        if len(values) < n_x or not math.isfinite(float(info.objective_function_value)):
            return None, bound, proven
        slots = [-1] * len(inst.pairs)
        for j, (r, s) in enumerate(columns):
            if values[j] > 0.5:
                slots[r] = s
        return slots, bound, proven


def _fair_firms(inst: _Instance) -> list[int]:
    return [
        f
        for f in range(len(inst.firm_names))
        if inst.needs_service[f] and any(inst.options[r] for r in inst.by_firm[f])
    ]


def _build_model(inst: _Instance, served_target: int) -> tuple[list[tuple[int, int]], Any]:
    """Columns x[r, s] (binary) and y[f] (continuous 0..1); rows as in the module docstring."""
    import highspy

    columns: list[tuple[int, int]] = [(r, s) for r, slots in enumerate(inst.options) for s in slots]
    n_x = len(columns)
    rows: list[list[int]] = []  # column indices, all coefficients +1 unless noted
    upper: list[float] = []
    lower: list[float] = []

    def add_row(cols: list[int], lo: float, hi: float) -> None:
        rows.append(cols)
        lower.append(lo)
        upper.append(hi)

    by_request: dict[int, list[int]] = {}
    by_firm_slot: dict[tuple[int, int], list[int]] = {}
    by_agency_slot: dict[tuple[int, int], list[int]] = {}
    by_firm: dict[int, list[int]] = {}
    for j, (r, s) in enumerate(columns):
        f, a = inst.firm[r], inst.agency[r]
        by_request.setdefault(r, []).append(j)
        by_firm_slot.setdefault((f, s), []).append(j)
        by_agency_slot.setdefault((a, s), []).append(j)
        by_firm.setdefault(f, []).append(j)
    for group in (by_request, by_firm_slot, by_agency_slot):
        for cols in group.values():
            if len(cols) > 1:
                add_row(cols, -math.inf, 1.0)
    for f, cols in by_firm.items():
        if inst.capacity[f] < len({columns[j][0] for j in cols}):
            add_row(cols, -math.inf, float(inst.capacity[f]))
    # Fairness: y[f] ≤ Σ x[f] with 0 ≤ y ≤ 1, Σ y ≥ target. y continuous is enough: with x
    # integral, y[f] > 0 only for a served firm.
    fair_firms = _fair_firms(inst) if served_target > 0 else []
    y_rows: list[tuple[int, list[int]]] = []
    for k, f in enumerate(fair_firms):
        y_rows.append((len(rows), by_firm[f]))
        add_row([n_x + k], -math.inf, 0.0)  # y coefficient +1; the x terms (−1) are added below
    if fair_firms:
        add_row([n_x + k for k in range(len(fair_firms))], float(served_target), math.inf)

    n_col = n_x + len(fair_firms)
    # Build the matrix column-wise.
    col_entries: list[list[tuple[int, float]]] = [[] for _ in range(n_col)]
    for i, cols in enumerate(rows):
        for j in cols:
            col_entries[j].append((i, 1.0))
    for i, xs in y_rows:
        for j in xs:
            col_entries[j].append((i, -1.0))
    starts = np.zeros(n_col + 1, dtype=np.int32)
    index: list[int] = []
    value: list[float] = []
    for j, entries in enumerate(col_entries):
        entries.sort()
        index.extend(i for i, _ in entries)
        value.extend(v for _, v in entries)
        starts[j + 1] = len(index)
    cost = np.array([float(inst.weight(r)) for r, _ in columns] + [0.0] * len(fair_firms))
    integrality = np.zeros(n_col, dtype=np.int32)  # an LP first; solve_mip makes x integral

    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    for option, setting in (
        ("output_flag", _LOG),
        ("threads", 1),
        ("random_seed", 0),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 0.99),  # the objective is integral: a gap below 1 proves optimality
    ):
        highs.setOptionValue(option, setting)
    highs.passModel(
        n_col,
        len(rows),
        len(index),
        1,  # column-wise matrix
        -1,  # maximise
        0.0,
        cost,
        np.zeros(n_col),
        np.ones(n_col),
        np.array(lower, dtype=np.float64),
        np.array(upper, dtype=np.float64),
        starts[:-1].copy(),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=np.float64),
        integrality,
    )
    return columns, highs


def _valid(inst: _Instance, slots: Sequence[int]) -> _Schedule | None:
    """Rebuild a schedule from a slot list, or None if it breaks a rule."""
    schedule = _Schedule(inst)
    for r, s in enumerate(slots):
        if s < 0:
            continue
        if s not in inst.options[r] or not schedule.is_free(r, s) or not schedule.has_room(r):
            return None
        schedule.place(r, s)
    return schedule


# --- public API ------------------------------------------------------------------------------


def _solution(inst: _Instance, schedule: _Schedule, bound_units: float, method: str) -> Solution:
    objective_units = schedule.objective_units()
    bound_units = max(bound_units, objective_units)
    assignments: dict[str, int] = {}
    unplaced: dict[str, str] = {}
    for r, pair in enumerate(inst.pairs):
        if schedule.slot[r] >= 0:
            assignments[pair.request_id] = schedule.slot[r]
        elif not schedule.has_room(r):
            unplaced[pair.request_id] = LIMIT_REACHED
        else:
            unplaced[pair.request_id] = NO_COMMON_FREE_SLOT
    return Solution(
        assignments=dict(sorted(assignments.items())),
        unplaced=dict(sorted(unplaced.items())),
        objective=objective_units / inst.scale,
        bound=bound_units / inst.scale,
        optimal=bound_units - objective_units < 1,
        method=method,
    )


def greedy(problem: Problem) -> Solution:
    """First-come baseline: requests in the given order, each in the earliest slot free for both."""
    inst = _Instance(problem, problem.pairs)
    schedule = _Schedule(inst)
    for r in range(len(inst.pairs)):
        schedule.place_earliest(r)
    return _solution(inst, schedule, _bound_units(inst, _meetings_upper_bound(inst)), "greedy")


def heuristic(problem: Problem) -> Solution:
    """The fast heuristic alone (fairness matching, most-constrained fill, augmenting chains)."""
    inst = _Instance(problem, sorted(problem.pairs, key=lambda p: p.request_id))
    schedule = _heuristic(inst)
    return _solution(inst, schedule, _bound_units(inst, _meetings_upper_bound(inst)), "heuristic")


def solve(problem: Problem, time_limit: float = 10.0) -> Solution:
    """The best schedule found within ``time_limit`` seconds, with a bound on the optimum.

    Steps, each skipped once the schedule is proven optimal (objective within one unit of the
    bound): the heuristic, checked against the max-flow bound; the LP relaxation in HiGHS, whose
    values guide a second heuristic pass and whose value is a tighter bound (it is usually
    exact here); the integer program, warm-started with the best schedule so far. On large
    instances (over ``_MIP_SETUP_COLUMNS`` columns) the integer program is skipped when the gap
    left is below one meeting, i.e. only the priority tie-break is unproven.

    ``method`` is ``"exact"`` when the result is proven optimal, ``"exact-time-limit"`` when
    HiGHS stopped at the limit with a gap (its best schedule), and ``"heuristic"`` when a
    heuristic schedule was kept without proof.
    """
    started = time.monotonic()
    inst = _Instance(problem, sorted(problem.pairs, key=lambda p: p.request_id))
    best = _heuristic(inst)
    bound = float(_bound_units(inst, _meetings_upper_bound(inst)))

    def proven() -> bool:
        return bound - best.objective_units() < 1

    if proven():
        return _solution(inst, best, bound, "exact")
    model = _Model(inst, len(_max_firms_served(inst)))
    lp, lp_bound = model.solve_lp(time_limit - (time.monotonic() - started))
    bound = min(bound, lp_bound)
    if lp:
        guided = _heuristic(inst, lp)
        if guided.objective_units() > best.objective_units():
            best = guided
    if proven():
        return _solution(inst, best, bound, "exact")
    remaining = time_limit - (time.monotonic() - started)
    only_priorities_open = bound - best.objective_units() < inst.scale
    if remaining < 0.05 or (only_priorities_open and len(model.columns) > _MIP_SETUP_COLUMNS):
        return _solution(inst, best, bound, "heuristic")
    target = best.firms_served()
    slots, mip_bound, mip_proven = model.solve_mip(best, remaining)
    bound = min(bound, mip_bound)
    method = "heuristic"
    if slots is not None:
        candidate = _valid(inst, slots)
        if (
            candidate is not None
            and candidate.firms_served() >= target
            and candidate.objective_units() >= best.objective_units()
        ):
            best, method = candidate, "exact" if mip_proven else "exact-time-limit"
    return _solution(inst, best, bound, "exact" if proven() else method)


def max_firms_served(problem: Problem) -> int:
    """How many firms without a meeting can get one at once (exact, by bipartite matching)."""
    inst = _Instance(problem, sorted(problem.pairs, key=lambda p: p.request_id))
    return len(_max_firms_served(inst))


def firms_without_meeting(problem: Problem, solution: Solution) -> list[str]:
    """Firms with an accepted request and no meeting (neither existing nor placed), sorted."""
    firms = {p.firm for p in problem.pairs if problem.existing_count.get(p.firm, 0) == 0}
    placed = {p.firm for p in problem.pairs if p.request_id in solution.assignments}
    return sorted(firms - placed)


def check(problem: Problem, assignments: Mapping[str, int]) -> list[str]:
    """Every rule the assignments break (empty when the schedule is valid); for tests and audits."""
    problems: list[str] = []
    pairs = {p.request_id: p for p in problem.pairs}
    taken: dict[tuple[str, int], str] = {}
    new_count: dict[str, int] = {}
    for request_id, slot in sorted(assignments.items()):
        pair = pairs.get(request_id)
        if pair is None:
            problems.append(f"{request_id}: unknown request")
            continue
        if not 0 <= slot < problem.n_slots:
            problems.append(f"{request_id}: slot {slot} outside the grid")
        for who in (pair.firm, pair.agency):
            if slot in problem.unavailable.get(who, frozenset()) | problem.busy.get(who, frozenset()):
                problems.append(f"{request_id}: {who} cannot use slot {slot}")
            other = taken.setdefault((who, slot), request_id)
            if other != request_id:
                problems.append(f"{request_id}: {who} already meets in slot {slot} ({other})")
        new_count[pair.firm] = new_count.get(pair.firm, 0) + 1
    if problem.firm_limit is not None:
        for firm, n in sorted(new_count.items()):
            if problem.existing_count.get(firm, 0) + n > problem.firm_limit:
                problems.append(f"{firm}: over the limit of {problem.firm_limit}")
    return problems


__all__ = [
    "LIMIT_REACHED",
    "NO_COMMON_FREE_SLOT",
    "PRIORITY_WEIGHT",
    "Pair",
    "Problem",
    "Solution",
    "check",
    "firms_without_meeting",
    "greedy",
    "heuristic",
    "max_firms_served",
    "solve",
]
