"""The program table as CSV (UTF-8 with BOM, for Excel) and XLSX: one row per program row, with the
month columns; amounts in won (the XLSX shows them in 억원 by its cell format)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from service.programs.labels import program_name
from service.programs.report import ProgramReport, ProgramRow

HEADERS = {
    "ko": ["사업명", "세부내용", "코드", "단위", "목표", "실적", "달성률(%)"],
    "en": ["Program", "Detail", "Code", "Unit", "Target", "Result", "Achievement (%)"],
}
UNIT_NAMES = {"ko": {"count": "건·회", "krw": "원"}, "en": {"count": "count", "krw": "KRW"}}


def header(lang: str) -> list[str]:
    months = [f"{m}월" if lang == "ko" else f"M{m}" for m in range(1, 13)]
    return HEADERS[lang] + months


def rate_percent(row: ProgramRow) -> Decimal | str:
    if row.achievement_rate is None:
        return ""
    return (Decimal(str(row.achievement_rate)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rows(report: ProgramReport, lang: str) -> Iterator[list[Any]]:
    for row in report.rows:
        target: Any = "" if row.target is None else row.target
        yield [program_name(lang), row.name, row.code, UNIT_NAMES[lang][row.unit], target, row.actual,
               rate_percent(row), *row.monthly]  # fmt: skip


def csv_bytes(report: ProgramReport, lang: str) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(lang))
    for values in rows(report, lang):
        writer.writerow(values)
    return buffer.getvalue().encode("utf-8")


def write_xlsx(report: ProgramReport, path: Path, lang: str) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("공공시장 확대지원" if lang == "ko" else "Programs")
    bold = book.add_format({"bold": True})
    won = book.add_format({"num_format": "#,##0"})
    count = book.add_format({"num_format": "#,##0"})
    percent = book.add_format({"num_format": "0.0"})
    sheet.set_column(0, 1, 34)
    sheet.set_column(2, 3, 18)
    sheet.set_column(4, 18, 14)
    for column, title in enumerate(header(lang)):
        sheet.write_string(0, column, title, bold)
    for r, values in enumerate(rows(report, lang), start=1):
        number = won if report.rows[r - 1].unit == "krw" else count
        for column, value in enumerate(values):
            if column == 6:
                if value != "":
                    sheet.write_number(r, column, float(value), percent)
            elif isinstance(value, int):
                sheet.write_number(r, column, value, number)
            elif value != "":
                sheet.write_string(r, column, str(value))
    book.close()
