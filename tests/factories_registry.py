"""Builders of import files (CSV in several encodings, XLSX) for registry tests and benchmarks."""

from __future__ import annotations

import csv
import io
from typing import Any

from service.registry.importer import AGENCY_SPEC, COLUMNS

HEADERS = [h for h, _, _, _ in COLUMNS]
AGENCY_HEADERS = AGENCY_SPEC.headers


def firm_row(number: str, name: str = "은평나눔협동조합", **overrides: Any) -> dict[str, str]:
    row = {
        "상호": name,
        "사업자등록번호": number,
        "자치구": "은평구",
        "기업유형": "협동조합",
        "품목분류": "CLN-DIS; CLN-BLD",
        "소개": "방역 소독과 건물 청소",
        "키워드": "방역; 소독",
        "전화번호": "02-123-4567",
    }
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def agency_row(number: str, name: str = "서울특별시 은평구청", **overrides: Any) -> dict[str, str]:
    row = {
        "기관명": name,
        "사업자등록번호": number,
        "기관유형": "자치구",
        "자치구": "은평구",
        "전화번호": "02-351-6114",
        "연간구매목표액": "1,500,000,000",
    }
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def csv_bytes(
    rows: list[dict[str, str]], encoding: str = "utf-8", bom: bool = False, headers: list[str] | None = None
) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers or HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def agency_csv_bytes(rows: list[dict[str, str]], encoding: str = "utf-8", bom: bool = False) -> bytes:
    return csv_bytes(rows, encoding, bom, headers=AGENCY_HEADERS)


def xlsx_bytes(rows: list[dict[str, Any]], headers: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    headers = headers or HEADERS
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
