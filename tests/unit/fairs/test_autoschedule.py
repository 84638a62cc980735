"""Property tests of the auto-scheduler against the rules, the greedy baseline and brute force."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.fairs.autoschedule import (
    LIMIT_REACHED,
    NO_COMMON_FREE_SLOT,
    Pair,
    Problem,
    check,
    feasible_slots,
    greedy,
    heuristic,
    solve,
)


@st.composite
def problems(draw, max_pairs: int = 7, max_slots: int = 3) -> Problem:
    n_slots = draw(st.integers(1, max_slots))
    firms = [f"F{i}" for i in range(draw(st.integers(1, 4)))]
    agencies = [f"A{i}" for i in range(draw(st.integers(1, 3)))]
    combos = draw(
        st.lists(st.tuples(st.sampled_from(firms), st.sampled_from(agencies)), max_size=max_pairs, unique=True)
    )
    pairs = tuple(Pair(f"R{i}", firm, agency, draw(st.integers(1, 3))) for i, (firm, agency) in enumerate(combos))
    slot_sets = st.frozensets(st.integers(0, n_slots - 1), max_size=n_slots)
    unavailable = {who: draw(slot_sets) for who in firms + agencies}
    busy = {who: draw(slot_sets) for who in draw(st.lists(st.sampled_from(firms + agencies), max_size=2))}
    limit = draw(st.none() | st.integers(1, 3))
    existing = {f: draw(st.integers(0, 1)) for f in firms} if limit else {}
    return Problem(n_slots, pairs, unavailable, busy, limit, existing)


def brute_force(problem: Problem) -> tuple[int, int]:
    """(firms served, meetings) of the lexicographic optimum among schedules with ≥ greedy meetings."""
    floor = greedy(problem).meetings
    options = [[None, *feasible_slots(problem, p)] for p in problem.pairs]
    best = (-1, -1)
    for choice in itertools.product(*options):
        assignments = {p.request_id: s for p, s in zip(problem.pairs, choice, strict=True) if s is not None}
        try:
            check(problem, assignments)
        except AssertionError:
            continue
        if len(assignments) < floor:
            continue
        served = len({p.firm for p in problem.pairs if p.request_id in assignments})
        best = max(best, (served, len(assignments)))
    return best


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestRules:
    @FAST
    @given(problems())
    def test_every_method_respects_conflicts_availability_and_limits(self, problem):
        for method in (greedy, heuristic, solve):
            check(problem, method(problem).assignments)

    @FAST
    @given(problems())
    def test_never_fewer_meetings_than_greedy(self, problem):
        assert solve(problem).meetings >= greedy(problem).meetings
        assert heuristic(problem).meetings >= greedy(problem).meetings

    @FAST
    @given(problems(max_pairs=6))
    def test_exact_equals_brute_force_optimum(self, problem):
        solution = solve(problem)
        assert solution.optimal
        served = len({p.firm for p in problem.pairs if p.request_id in solution.assignments})
        assert (served, solution.meetings) == brute_force(problem)
        assert solution.bound == solution.meetings

    @FAST
    @given(problems())
    def test_deterministic(self, problem):
        assert solve(problem).assignments == solve(problem).assignments

    @FAST
    @given(problems())
    def test_every_request_is_placed_or_has_a_reason(self, problem):
        solution = solve(problem)
        ids = {p.request_id for p in problem.pairs}
        assert set(solution.assignments) | set(solution.unplaced) == ids
        assert not set(solution.assignments) & set(solution.unplaced)


class TestExamples:
    def test_greedy_leaves_a_small_firm_out_the_solver_does_not(self):
        # One agency, two slots. Big firm asked first for both slots of a popular agency table...
        pairs = (
            Pair("big-1", "BIG", "A", 1),
            Pair("big-2", "BIG", "B", 1),
            Pair("small", "SMALL", "A", 3),
        )
        problem = Problem(n_slots=2, pairs=pairs, unavailable={"SMALL": frozenset({1}), "B": frozenset({1})})
        assert "small" not in greedy(problem).assignments
        solution = solve(problem)
        assert solution.assignments == {"small": 0, "big-1": 1} or solution.meetings == 3
        assert "small" in solution.assignments
        assert solution.meetings >= greedy(problem).meetings

    def test_reasons(self):
        pairs = (Pair("r1", "F", "A", 1), Pair("r2", "F", "B", 1), Pair("r3", "G", "C", 1))
        problem = Problem(
            n_slots=2,
            pairs=pairs,
            unavailable={"G": frozenset({0, 1})},
            firm_limit=1,
        )
        solution = solve(problem)
        assert solution.unplaced["r3"] == NO_COMMON_FREE_SLOT
        assert LIMIT_REACHED in solution.unplaced.values()
        assert solution.meetings == 1

    def test_empty(self):
        assert solve(Problem(n_slots=4, pairs=())).assignments == {}
