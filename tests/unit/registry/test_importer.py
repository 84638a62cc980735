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
