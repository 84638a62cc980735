"""A booking that breaks both the unique and the exclusion constraint reports whichever PostgreSQL
checks first (23505 or 23P01); either way a booking conflict is one error."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from service.fairs.booking import SlotTaken, slot_taken_from


class FakeDriverError(Exception):
    def __init__(self, sqlstate: str, constraint: str | None) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate
        self.constraint_name = constraint


def integrity(sqlstate: str, constraint: str | None) -> IntegrityError:
    return IntegrityError("INSERT INTO meetings ...", {}, FakeDriverError(sqlstate, constraint))


class TestConflictMapping:
    @pytest.mark.parametrize(
        ("sqlstate", "constraint", "rule"),
        [
            ("23P01", "ex_meetings_agency_overlap", "slot_taken"),
            ("23P01", "ex_meetings_firm_overlap", "firm_overlap"),
            ("23505", "uq_some_unique_index", "slot_taken"),
        ],
    )
    def test_exclusion_and_unique_violations_become_slot_taken(self, sqlstate: str, constraint: str, rule: str) -> None:
        error = slot_taken_from(integrity(sqlstate, constraint))
        assert isinstance(error, SlotTaken)
        assert error.status == 409
        assert error.extra["rule"] == rule

    def test_other_integrity_errors_are_not_disguised(self) -> None:
        assert slot_taken_from(integrity("23503", "fk_meetings_agency_id_organizations")) is None
