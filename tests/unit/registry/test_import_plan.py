"""plan_writes: what a bulk import does with each valid row, given the business numbers already registered."""

import uuid

from service.registry.importer import ImportOptions, ParsedRow, RowError
from service.registry.imports import plan_writes
from service.registry.models import OrganizationKind

FIRM, AGENCY = OrganizationKind.FIRM, OrganizationKind.AGENCY


def rows(*numbers: str) -> list[ParsedRow]:
    return [ParsedRow(row, {"business_number": number, "name": f"기업 {row}"}) for row, number in enumerate(numbers, 2)]


class TestPlanWrites:
    def test_new_numbers_are_created(self):
        plan = plan_writes(rows("111-11-11111", "222-22-22222"), {}, FIRM, ImportOptions())
        assert [fields["business_number"] for fields in plan.to_create] == ["111-11-11111", "222-22-22222"]
        assert plan.to_update == [] and plan.errors == []

    def test_a_number_of_the_same_kind_is_updated_when_told(self):
        known = uuid.uuid4()
        registered = {"111-11-11111": (known, FIRM)}
        plan = plan_writes(rows("111-11-11111"), registered, FIRM, ImportOptions(on_duplicate="update"))
        assert plan.to_update == [(known, {"business_number": "111-11-11111", "name": "기업 2"})]
        assert plan.to_create == [] and plan.errors == []

    def test_a_number_of_the_same_kind_is_reported_by_default(self):
        plan = plan_writes(rows("111-11-11111"), {"111-11-11111": (uuid.uuid4(), FIRM)}, FIRM, ImportOptions())
        assert plan.errors == [RowError(2, "사업자등록번호", "111-11-11111", "already registered")]
        assert plan.to_create == [] and plan.to_update == []

    def test_a_number_of_the_other_kind_is_always_reported(self):
        registered = {"111-11-11111": (uuid.uuid4(), AGENCY)}
        plan = plan_writes(rows("111-11-11111"), registered, FIRM, ImportOptions(on_duplicate="update"))
        assert plan.errors == [RowError(2, "사업자등록번호", "111-11-11111", "already registered as an agency")]
        assert plan.to_create == [] and plan.to_update == []
