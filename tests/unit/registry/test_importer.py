"""Parsing and validating import files without a database."""

import pytest

from service.registry import taxonomy
from service.registry.importer import ImportFileError, parse, template_csv
from tests.factories import business_number
from tests.factories_registry import csv_bytes, firm_row, xlsx_bytes

LEAVES = {c.code for c in taxonomy.CATEGORIES if c.parent_code is not None}


def mixed_rows():
    return [
        firm_row(business_number(), name="좋은방역협동조합"),
        firm_row("123-45-67890", name="잘못된번호기업"),  # bad check digit
        firm_row(business_number(), name="마포인쇄", 자치구="없는구"),
        firm_row(business_number(), name="성북도시락", 기업유형="마을기업", 품목분류="CLN-DIS"),
        firm_row(business_number(), name="강남자활", 품목분류="XXX-YYY", 종업원수="열두명"),
    ]


@pytest.mark.parametrize(
    "content",
    [
        csv_bytes(mixed_rows(), "cp949"),
        csv_bytes(mixed_rows(), "euc-kr"),
        csv_bytes(mixed_rows(), "utf-8", bom=True),
        csv_bytes(mixed_rows(), "utf-8"),
    ],
    ids=["cp949", "euc-kr", "utf-8-bom", "utf-8"],
)
def test_encodings_mixed_good_and_bad_rows(content):
    result = parse(content, "firms.csv", LEAVES)
    assert result.total == 5
    assert [r.fields["name"] for r in result.rows] == ["좋은방역협동조합", "성북도시락"]
    assert result.rows[1].fields["firm_types"] == ["village_enterprise"]
    assert result.rows[0].fields["district"] == "eunpyeong"
    by_row = {(e.row, e.column) for e in result.errors}
    assert by_row == {(3, "사업자등록번호"), (4, "자치구"), (6, "품목분류"), (6, "종업원수")}
    bad_number = next(e for e in result.errors if e.row == 3)
    assert bad_number.value == "123-45-67890"
    assert "checksum" in bad_number.reason


def test_xlsx_is_read():
    result = parse(xlsx_bytes(mixed_rows()), "firms.xlsx", LEAVES)
    assert len(result.rows) == 2 and len(result.errors) == 4


def test_duplicate_business_number_within_file_is_reported():
    number = business_number()
    result = parse(csv_bytes([firm_row(number), firm_row(number, name="두번째")]), "f.csv", LEAVES)
    assert len(result.rows) == 1
    assert result.errors[0].row == 3 and "row 2" in result.errors[0].reason


def test_missing_required_column_rejects_the_file():
    with pytest.raises(ImportFileError, match="상호"):
        parse("사업자등록번호,자치구\n1234567891,마포구\n".encode(), "f.csv", LEAVES)


def test_binary_garbage_is_not_text():
    with pytest.raises(ImportFileError):
        parse(b"\xff\xfe\x00\x81\x81\xff" * 10, "f.csv", LEAVES)


def test_template_parses_to_one_valid_row():
    content = template_csv()
    assert content.startswith(b"\xef\xbb\xbf")
    result = parse(content, "template.csv", LEAVES)
    assert result.errors == [] and len(result.rows) == 1


def agency_mixed():
    from tests.factories_registry import agency_row

    return [
        agency_row(business_number(), name="서울특별시 은평구청"),
        agency_row(business_number(), name="서울주택도시공사", 기관유형="공사 · 공단", 자치구="강남구"),
        agency_row("123-45-67890", name="틀린번호기관"),
        agency_row(business_number(), name="어느기관", 자치구="기타", 지역=""),  # 기타 needs 지역
        agency_row(business_number(), name="", 기관유형="public_corporation"),
        agency_row(business_number(), name="국방부", 기관유형="중앙정부", 자치구="서울 외", 지역="세종특별자치시"),
    ]


@pytest.mark.parametrize("encoding", ["cp949", "euc-kr", "utf-8"])
def test_agency_rows_in_korean_encodings(encoding):
    from service.registry.importer import AGENCY_SPEC
    from tests.factories_registry import agency_csv_bytes

    result = parse(agency_csv_bytes(agency_mixed(), encoding, bom=encoding == "utf-8"), "a.csv", LEAVES, AGENCY_SPEC)
    assert result.total == 6
    assert [(r.fields["name"], r.fields["agency_type"]) for r in result.rows] == [
        ("서울특별시 은평구청", "district_office"),
        ("서울주택도시공사", "public_corporation"),
        ("국방부", "central_government"),
    ]
    assert result.rows[0].fields["annual_target_krw"] == 1_500_000_000
    assert result.rows[2].fields["region_name"] == "세종특별자치시"
    assert {(e.row, e.column) for e in result.errors} == {(4, "사업자등록번호"), (5, "지역"), (6, "기관명")}


def test_agency_template_parses_to_one_valid_row():
    from service.registry.importer import AGENCY_SPEC

    result = parse(template_csv(AGENCY_SPEC), "t.csv", LEAVES, AGENCY_SPEC)
    assert result.errors == [] and len(result.rows) == 1
