"""Pure contract and purchase-file rules: the default channel, amounts/dates/titles, agency lookup by name."""

import uuid
from datetime import date, timedelta
from types import SimpleNamespace

from service.contracts.models import ContractChannel
from service.contracts.purchases import AgencyNames, check_row
from service.contracts.service import check_amount_date_title, check_channel
from service.lib.clock import today
from service.lib.errors import FieldErrors


def fields(errors: FieldErrors) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in errors.items]


class TestChannel:
    def test_without_a_channel_a_fair_meeting_makes_a_fair_contract(self):
        out = {"channel": None, "meeting_id": uuid.uuid4()}
        check_channel(out, SimpleNamespace(fair_id=uuid.uuid4()), errors := FieldErrors())  # type: ignore[arg-type]
        assert out["channel"] == ContractChannel.FAIR and not errors.items

    def test_without_a_channel_another_meeting_is_a_daily_consultation_and_none_is_other(self):
        out = {"channel": None, "meeting_id": uuid.uuid4()}
        check_channel(out, SimpleNamespace(fair_id=None), FieldErrors())  # type: ignore[arg-type]
        assert out["channel"] == ContractChannel.DAILY_CONSULTATION
        out = {"channel": None, "meeting_id": None}
        check_channel(out, None, FieldErrors())
        assert out["channel"] == ContractChannel.OTHER

    def test_a_fair_contract_names_its_meeting_and_unknown_channels_are_refused(self):
        check_channel({"channel": "fair", "meeting_id": None}, None, errors := FieldErrors())
        assert fields(errors) == [("meeting_id", "a contract from a fair names the meeting it came from")]
        check_channel({"channel": "lottery", "meeting_id": None}, None, errors := FieldErrors())
        assert [field for field, _ in fields(errors)] == ["channel"]


class TestAmountDateTitle:
    def test_good_values_pass_and_the_title_is_stripped(self):
        out = {"amount_krw": 1_000, "contract_date": date(2021, 5, 1), "title": "  방역 용역 "}
        check_amount_date_title(out, errors := FieldErrors())
        assert not errors.items and out["title"] == "방역 용역"

    def test_each_bad_value_is_named(self):
        out = {"amount_krw": True, "contract_date": today() + timedelta(days=1), "title": " "}
        check_amount_date_title(out, errors := FieldErrors())
        assert [field for field, _ in fields(errors)] == ["amount_krw", "contract_date", "title"]
        check_amount_date_title({**out, "amount_krw": 5, "contract_date": date(1999, 12, 31)}, errors := FieldErrors())
        assert ("contract_date", "must be in 2000 or later") in fields(errors)


class TestPurchaseRows:
    agency_id = uuid.uuid4()
    twin_ids = (uuid.uuid4(), uuid.uuid4())
    agencies = AgencyNames([(agency_id, "은평구청 "), (twin_ids[0], "구청"), (twin_ids[1], "구청")])

    def test_an_agency_is_found_by_id_or_by_a_name_only_it_has(self):
        assert self.agencies.find(str(self.agency_id).upper(), FieldErrors(), "agency") == self.agency_id
        assert self.agencies.find("은평구청", FieldErrors(), "agency") == self.agency_id
        assert self.agencies.find("구청", errors := FieldErrors(), "agency") is None
        assert fields(errors) == [("agency", "several agencies have this name")]
        assert self.agencies.find("없는기관", errors := FieldErrors(), "agency") is None
        assert fields(errors) == [("agency", "unknown agency")]

    def test_a_good_row_becomes_an_import_row(self):
        cell = {"agency": "은평구청", "year": "2021", "kind": "목표", "amount_krw": "1,000", "note": " 메모 "}
        row = check_row(3, cell, self.agencies, errors := FieldErrors())
        assert not errors.items
        assert row is not None and (row.row, row.agency_id, row.year, row.kind, row.note) == (
            3,
            self.agency_id,
            2021,
            "target",
            "메모",
        )

    def test_a_bad_row_is_none_with_every_bad_cell_named(self):
        cell = {"agency": "없는기관", "year": "", "kind": "?", "amount_krw": "-1"}
        assert check_row(4, cell, self.agencies, errors := FieldErrors()) is None
        expected = ["row 4.agency", "row 4.year", "row 4.kind", "row 4.amount_krw"]
        assert [field for field, _ in fields(errors)] == expected
