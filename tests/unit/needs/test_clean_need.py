"""clean_need: each field's rule, in form order, and the required fields on creation."""

from datetime import timedelta

from service.lib.clock import today
from service.lib.errors import FieldErrors
from service.needs.schemas import NeedIn
from service.needs.service import clean_need


def errors_of(data: NeedIn, *, partial: bool = False) -> list[tuple[str, str]]:
    errors = FieldErrors()
    clean_need(data, errors, partial=partial)
    return [(e.field, e.message) for e in errors.items]


class TestCleanNeed:
    def test_a_good_need_is_cleaned(self):
        errors = FieldErrors()
        out = clean_need(
            NeedIn(title=" 청사 방역 ", category_codes=["CLN-DIS", "CLN-DIS"], budget_krw=1, needed_by=today()),
            errors,
            partial=False,
        )
        assert not errors.items
        assert out == {"title": "청사 방역", "category_codes": ["CLN-DIS"], "budget_krw": 1, "needed_by": today()}

    def test_creation_requires_title_categories_budget_and_date(self):
        assert errors_of(NeedIn()) == [
            ("title", "required"), ("category_codes", "required"), ("budget_krw", "required"), ("needed_by", "required")
        ]  # fmt: skip
        assert errors_of(NeedIn(), partial=True) == []

    def test_every_bad_field_is_named_in_form_order(self):
        data = NeedIn(
            title="x",
            description="가" * 5001,
            category_codes=["CLN"],  # a group, not a leaf
            budget_krw=0,
            quantity=0,
            needed_by=today() - timedelta(days=1),
            delivery_district="atlantis",
            preferred_firm_types=["pirate"],
        )
        assert [field for field, _ in errors_of(data, partial=True)] == [
            "title", "description", "category_codes", "budget_krw", "quantity", "needed_by", "delivery_district",
            "preferred_firm_types",
        ]  # fmt: skip

    def test_an_empty_category_list_is_its_own_error(self):
        assert errors_of(NeedIn(category_codes=[]), partial=True) == [
            ("category_codes", "at least one category is required")
        ]
