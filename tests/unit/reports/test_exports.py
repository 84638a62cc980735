"""File writers: CSV read back with the csv module, formula injection, XLSX read back with openpyxl."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from service.contracts.targets import TargetReport, TargetRow, target_totals
from service.reports.arithmetic import GroupRow
from service.reports.exports import (
    BOM,
    csv_chunks,
    header,
    neutralise,
    sales_rows,
    sales_xlsx,
    target_rows,
    targets_xlsx,
)
from service.reports.repository import SalesFilter
from service.reports.service import SalesReport, SalesTotal


def report() -> SalesReport:
    rows = [
        GroupRow("a", '=HYPERLINK("http://evil")', 2, 1_500_500),
        GroupRow("b", "은평구청", 1, 787_076_000),
        GroupRow(None, "@SUM(1)", 1, 999),
    ]
    total = SalesTotal(contracts=4, amount_krw=1_500_500 + 787_076_000 + 999, meetings=435, agencies=65, firms=116)
    return SalesReport(group_by="agency", filter=SalesFilter(year=2021), rows=rows, total=total)


class TestNeutralise:
    @given(st.text())
    def test_no_cell_starts_a_formula(self, text: str) -> None:
        assert not str(neutralise(text)).startswith(("=", "+", "-", "@", "\t", "\r"))

    @given(st.text())
    def test_safe_text_is_unchanged(self, text: str) -> None:
        if not text.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert neutralise(text) == text

    def test_numbers_stay_numbers(self) -> None:
        assert neutralise(-5) == -5


class TestCsv:
    def test_bom_korean_headers_and_rows_read_back(self) -> None:
        raw = b"".join(csv_chunks(header("sales", "ko"), sales_rows(report(), "ko")))
        assert raw.startswith(BOM.encode("utf-8"))
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0] == ["구분코드", "구분", "계약건수", "금액(원)", "상담건수", "참여기관", "참여기업"]
        assert rows[1][1] == '\'=HYPERLINK("http://evil")'
        assert rows[2][1] == "은평구청"
        assert rows[3][1] == "'@SUM(1)"
        assert rows[-1] == ["", "합계", "4", str(1_500_500 + 787_076_000 + 999), "435", "65", "116"]

    def test_english_headers(self) -> None:
        raw = b"".join(csv_chunks(header("sales", "en"), sales_rows(report(), "en")))
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0][:4] == ["key", "label", "contracts", "amount_krw"]
        assert rows[-1][1] == "Total"

    @given(st.lists(st.lists(st.text(max_size=8), min_size=2, max_size=2), max_size=30))
    def test_any_text_round_trips(self, cells: list[list[str]]) -> None:
        raw = b"".join(csv_chunks(["a", "b"], cells))
        back = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        assert back[1:] == [[str(neutralise(c)) for c in row] for row in cells]


class TestXlsx:
    def test_sheets_formats_and_totals(self, tmp_path: Path) -> None:
        path = tmp_path / "sales.xlsx"
        sales_xlsx(report(), path, "ko", "year=2021")
        book = load_workbook(path)
        assert book.sheetnames == ["연계매출", "요약"]
        sheet = book["연계매출"]
        assert [c.value for c in sheet[1]] == ["구분코드", "구분", "계약건수", "금액(원)", "금액(천원)"]
        assert sheet["B2"].value == '\'=HYPERLINK("http://evil")'
        assert sheet["D3"].value == 787_076_000
        assert sheet["D3"].number_format == '#,##0"원"'
        assert sheet["E3"].number_format == '#,##0,"천원"'
        assert sheet["B5"].value == "합계"
        assert sheet["D5"].value == 1_500_500 + 787_076_000 + 999
        summary = {row[0].value: row[1].value for row in book["요약"].iter_rows()}
        assert summary["상담건수"] == 435
        assert summary["참여기관"] == 65
        assert summary["참여기업"] == 116
        assert summary["금액"] == 788_577_499


class TestAchievementAsPercent:
    """달성률 in files: the ratio kept, and beside it the percentage (issue 14: 109%, also in CSV/XLSX)."""

    def report(self) -> TargetReport:
        rows = [TargetRow("a", "서울시청", 170_000_000_000, 80_000_000_000, 104_700_000_000)]
        return TargetReport(year=2021, rows=rows, total=target_totals(rows))

    def test_csv_has_a_percent_column(self) -> None:
        head = header("targets", "ko")
        assert head[-2:] == ["달성률", "달성률(%)"]
        rows = list(target_rows(self.report(), "ko"))
        assert str(rows[0][-1]) == "108.6" and str(rows[-1][-1]) == "108.6"

    def test_xlsx_has_a_percent_column(self, tmp_path: Path) -> None:
        path = tmp_path / "t.xlsx"
        targets_xlsx(self.report(), path, "ko")
        sheet = load_workbook(path).active
        assert sheet.cell(1, 8).value == "달성률(%)"
        assert sheet.cell(2, 8).value == 108.6
        assert sheet.cell(2, 7).number_format == "0.0%"
