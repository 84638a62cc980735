"""The slot grid: days, hours, breaks and slot length in Asia/Seoul, stored UTC."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.fairs.slots import SEOUL, GridError, build_grid, normalize_days


def kst(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=SEOUL).astimezone(UTC)


class TestGrid:
    def test_a_morning_of_half_hour_slots(self) -> None:
        grid = build_grid([{"date": "2021-10-20", "start": "10:00", "end": "12:00"}], 30)
        assert [s.starts_at for s in grid] == [kst("2021-10-20", t) for t in ("10:00", "10:30", "11:00", "11:30")]
        assert grid[0].starts_at.tzinfo == UTC
        assert grid[0].starts_at.hour == 1  # 10:00 KST is 01:00 UTC
        assert [s.index for s in grid] == [0, 1, 2, 3]

    def test_lunch_break_is_skipped_and_slots_restart_after_it(self) -> None:
        day = {"date": "2021-10-20", "start": "10:00", "end": "14:00", "breaks": [{"start": "11:50", "end": "13:00"}]}
        starts = [s.starts_at for s in build_grid([day], 30)]
        # 10:00-11:50 holds three full slots; the 20 minutes before lunch stay unused.
        assert starts == [kst("2021-10-20", t) for t in ("10:00", "10:30", "11:00", "13:00", "13:30")]

    def test_days_are_ordered_and_indices_run_across_days(self) -> None:
        grid = build_grid(
            [
                {"date": "2021-10-21", "start": "10:00", "end": "11:00"},
                {"date": "2021-10-20", "start": "10:00", "end": "11:00"},
            ],
            20,
        )
        assert len(grid) == 6
        assert grid[0].starts_at.date().isoformat() == "2021-10-20"
        assert [s.index for s in grid] == list(range(6))

    @pytest.mark.parametrize(
        ("days", "field"),
        [
            ([], "days"),
            ([{"date": "2021-13-01", "start": "10:00", "end": "11:00"}], "days[0].date"),
            ([{"date": "2021-10-20", "start": "11:00", "end": "10:00"}], "days[0].end"),
            ([{"date": "2021-10-20", "start": "10", "end": "11:00"}], "days[0].start"),
            (
                [
                    {
                        "date": "2021-10-20",
                        "start": "10:00",
                        "end": "11:00",
                        "breaks": [{"start": "09:00", "end": "10:30"}],
                    }
                ],
                "days[0].breaks[0]",
            ),
            (
                [
                    {"date": "2021-10-20", "start": "10:00", "end": "11:00"},
                    {"date": "2021-10-20", "start": "13:00", "end": "14:00"},
                ],
                "days[1].date",
            ),
        ],
    )
    def test_invalid_days_name_the_field(self, days: list[dict[str, object]], field: str) -> None:
        with pytest.raises(GridError) as caught:
            normalize_days(days)
        assert caught.value.field == field


@st.composite
def fair_days(draw: st.DrawFn) -> tuple[list[dict[str, object]], int]:
    slot = draw(st.sampled_from([10, 15, 20, 25, 30, 45, 60]))
    start = draw(st.integers(8 * 60, 12 * 60))
    end = draw(st.integers(start + 5, 20 * 60))
    breaks = []
    if draw(st.booleans()) and end - start > 30:
        b0 = draw(st.integers(start, end - 10))
        b1 = draw(st.integers(b0 + 5, end))
        breaks.append({"start": f"{b0 // 60:02d}:{b0 % 60:02d}", "end": f"{b1 // 60:02d}:{b1 % 60:02d}"})
    day = {
        "date": "2022-05-10",
        "start": f"{start // 60:02d}:{start % 60:02d}",
        "end": f"{end // 60:02d}:{end % 60:02d}",
    }
    return [{**day, "breaks": breaks}], slot


class TestGridProperties:
    @given(fair_days())
    def test_slots_are_whole_disjoint_inside_hours_and_outside_breaks(
        self, case: tuple[list[dict[str, object]], int]
    ) -> None:
        days, minutes = case
        grid = build_grid(days, minutes)
        day = normalize_days(days)[0]
        open_at, close_at = kst(day["date"], day["start"]), kst(day["date"], day["end"])
        for slot in grid:
            assert slot.ends_at - slot.starts_at == timedelta(minutes=minutes)
            assert open_at <= slot.starts_at and slot.ends_at <= close_at
            for brk in day["breaks"]:
                assert slot.ends_at <= kst(day["date"], brk["start"]) or slot.starts_at >= kst(day["date"], brk["end"])
        for a, b in itertools.pairwise(grid):
            assert a.ends_at <= b.starts_at
        # maximal: each stretch holds floor(length / slot) slots
        edges = [open_at]
        for brk in day["breaks"]:
            edges += [kst(day["date"], brk["start"]), kst(day["date"], brk["end"])]
        edges.append(close_at)
        expected = sum((edges[i + 1] - edges[i]) // timedelta(minutes=minutes) for i in range(0, len(edges), 2))
        assert len(grid) == expected
