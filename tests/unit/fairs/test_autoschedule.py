"""Property tests for the auto-scheduler against a brute-force optimum on small instances."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from service.fairs import autoschedule
from service.fairs.autoschedule import LIMIT_REACHED, NO_COMMON_FREE_SLOT, Pair, Problem


@st.composite
def problems(draw: st.DrawFn, max_pairs: int = 7) -> Problem:
    n_slots = draw(st.integers(1, 3))
    firms = [f"f{i}" for i in range(draw(st.integers(1, 4)))]
    agencies = [f"a{i}" for i in range(draw(st.integers(1, 3)))]
    all_pairs = list(itertools.product(firms, agencies))
    chosen = draw(st.lists(st.sampled_from(all_pairs), min_size=1, max_size=max_pairs, unique=True))
    pairs = tuple(
        Pair(request_id=f"r{i}", firm=firm, agency=agency, priority=draw(st.integers(1, 3)))
        for i, (firm, agency) in enumerate(chosen)
    )
    slot_sets = st.frozensets(st.integers(0, n_slots - 1), max_size=n_slots)
    people = firms + agencies
    unavailable = {who: draw(slot_sets) for who in people if draw(st.booleans())}
    busy = {who: draw(slot_sets) for who in people if draw(st.integers(0, 3)) == 0}
    existing = {firm: draw(st.integers(0, 1)) for firm in firms if draw(st.integers(0, 3)) == 0}
    return Problem(
        n_slots=n_slots,
        pairs=pairs,
        unavailable=unavailable,
        busy=busy,
        firm_limit=draw(st.none() | st.integers(1, 3)),
        existing_count=existing,
    )


def served(problem: Problem, assignments: dict[str, int]) -> int:
    firms = {p.firm for p in problem.pairs if problem.existing_count.get(p.firm, 0) == 0}
    return len(firms) - len(autoschedule.firms_without_meeting(problem, _as_solution(assignments)))


def _as_solution(assignments: dict[str, int]) -> autoschedule.Solution:
    return autoschedule.Solution(assignments, {}, 0.0, 0.0, False, "test")


def key(problem: Problem, assignments: dict[str, int]) -> tuple[int, int, int]:
    """The lexicographic objective: firms served, meetings, priority weight."""
    weight = sum(autoschedule.PRIORITY_WEIGHT[p.priority] for p in problem.pairs if p.request_id in assignments)
    return served(problem, assignments), len(assignments), weight


def brute_force(problem: Problem) -> tuple[int, int, int]:
    """The best key over every valid schedule (each request: no slot or any slot)."""
    best = (-1, -1, -1)
    pairs = problem.pairs
    choices = [[None, *range(problem.n_slots)] for _ in pairs]
    for combo in itertools.product(*choices):
        assignments = {p.request_id: s for p, s in zip(pairs, combo, strict=True) if s is not None}
        if not autoschedule.check(problem, assignments):
            best = max(best, key(problem, assignments))
    return best


def max_served_brute_force(problem: Problem) -> int:
    return brute_force(problem)[0]


class TestValidity:
    @given(problems())
    @settings(max_examples=150, deadline=None)
    def test_no_conflicts_and_limits_hold(self, problem: Problem) -> None:
        for solution in (autoschedule.solve(problem), autoschedule.greedy(problem), autoschedule.heuristic(problem)):
            assert autoschedule.check(problem, solution.assignments) == []
            assert set(solution.assignments) | set(solution.unplaced) == {p.request_id for p in problem.pairs}
            assert not set(solution.assignments) & set(solution.unplaced)
            assert set(solution.unplaced.values()) <= {NO_COMMON_FREE_SLOT, LIMIT_REACHED}
            assert solution.objective <= solution.bound + 1e-9

    def test_check_reports_a_double_booking_and_the_limit(self) -> None:
        problem = Problem(
            n_slots=2,
            pairs=(Pair("r1", "f", "a", 1), Pair("r2", "f", "b", 1), Pair("r3", "g", "a", 1)),
            unavailable={},
            busy={},
            firm_limit=1,
            existing_count={},
        )
        errors = autoschedule.check(problem, {"r1": 0, "r2": 0, "r3": 0})
        assert any("f already meets in slot 0" in e for e in errors)
        assert any("a already meets in slot 0" in e for e in errors)
        assert any("over the limit" in e for e in errors)


class TestOptimality:
    @given(problems())
    @settings(max_examples=150, deadline=None)
    def test_equals_the_brute_force_optimum(self, problem: Problem) -> None:
        solution = autoschedule.solve(problem)
        assert key(problem, solution.assignments) == brute_force(problem)
        assert solution.optimal

    @given(problems())
    @settings(max_examples=150, deadline=None)
    def test_every_firm_served_when_possible(self, problem: Problem) -> None:
        solution = autoschedule.solve(problem)
        best = max_served_brute_force(problem)
        assert served(problem, solution.assignments) == best
        assert autoschedule.max_firms_served(problem) == best
        assert served(problem, autoschedule.heuristic(problem).assignments) == best

    @given(problems(max_pairs=10))
    @settings(max_examples=150, deadline=None)
    def test_never_fewer_meetings_than_greedy(self, problem: Problem) -> None:
        assert len(autoschedule.solve(problem).assignments) >= len(autoschedule.greedy(problem).assignments)


class TestDeterminism:
    @given(problems(max_pairs=10), st.randoms(use_true_random=False))
    @settings(max_examples=100, deadline=None)
    def test_same_input_in_any_order_gives_the_same_schedule(self, problem: Problem, rng: random.Random) -> None:
        shuffled = list(problem.pairs)
        rng.shuffle(shuffled)
        first = autoschedule.solve(problem)
        again = autoschedule.solve(problem)
        permuted = autoschedule.solve(
            Problem(
                problem.n_slots,
                tuple(shuffled),
                problem.unavailable,
                problem.busy,
                problem.firm_limit,
                problem.existing_count,
            )
        )
        assert first == again == permuted


class TestReasons:
    def test_unplaced_requests_say_why(self) -> None:
        problem = Problem(
            n_slots=2,
            pairs=(
                Pair("r1", "f", "a", 1),
                Pair("r2", "f", "b", 2),
                Pair("r3", "g", "c", 1),
            ),
            unavailable={"g": frozenset({0}), "c": frozenset({1})},
            busy={},
            firm_limit=1,
            existing_count={},
        )
        solution = autoschedule.solve(problem)
        assert solution.assignments == {"r1": 0}
        assert solution.unplaced == {"r2": LIMIT_REACHED, "r3": NO_COMMON_FREE_SLOT}

    def test_priority_breaks_ties_but_never_costs_a_meeting(self) -> None:
        # One slot. g's priority-1 request to a would take a's only slot from f and leave g's
        # request to b idle: one meeting instead of two, so the priority-3 requests win.
        problem = Problem(
            n_slots=1,
            pairs=(Pair("r1", "f", "a", 3), Pair("r2", "g", "a", 1), Pair("r3", "g", "b", 3)),
            unavailable={},
            busy={},
            firm_limit=None,
            existing_count={"f": 1, "g": 1},
        )
        solution = autoschedule.solve(problem)
        # Two meetings are possible (f–a and g–b); g–a would leave only one.
        assert solution.assignments == {"r1": 0, "r3": 0}

    def test_a_firm_without_meetings_comes_first(self) -> None:
        # One slot, two firms want agency a: f already has meetings, h has none, so h gets it
        # although f asked first and with a higher priority.
        problem = Problem(
            n_slots=1,
            pairs=(Pair("r1", "f", "a", 1), Pair("r2", "h", "a", 3)),
            unavailable={},
            busy={},
            firm_limit=None,
            existing_count={"f": 2},
        )
        assert autoschedule.solve(problem).assignments == {"r2": 0}
        assert autoschedule.greedy(problem).assignments == {"r1": 0}


class TestIntegerProgram:
    """The exact path on its own, since small instances are often proven before reaching it."""

    @given(problems())
    @settings(max_examples=100, deadline=None)
    def test_the_integer_program_alone_reaches_the_optimum(self, problem: Problem) -> None:
        inst = autoschedule._Instance(problem, sorted(problem.pairs, key=lambda p: p.request_id))
        model = autoschedule._Model(inst, len(autoschedule._max_firms_served(inst)))
        slots, bound, proven = model.solve_mip(autoschedule._Schedule(inst), 10.0)
        assert slots is not None
        assert proven
        schedule = autoschedule._valid(inst, slots)
        assert schedule is not None
        assignments = {inst.pairs[r].request_id: s for r, s in enumerate(slots) if s >= 0}
        assert key(problem, assignments) == brute_force(problem)
        assert bound - schedule.objective_units() < 1

    @given(problems())
    @settings(max_examples=50, deadline=None)
    def test_a_tiny_time_limit_still_gives_a_valid_fair_schedule(self, problem: Problem) -> None:
        solution = autoschedule.solve(problem, time_limit=0.0)
        assert autoschedule.check(problem, solution.assignments) == []
        assert served(problem, solution.assignments) == autoschedule.max_firms_served(problem)
        assert solution.objective <= solution.bound + 1e-9
