"""Builders of import files (CSV in several encodings, XLSX) for registry tests and benchmarks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
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


def xlsx_with_part(
    part: str, pieces: Iterator[bytes], rows: list[dict[str, Any]] | None = None, declared_size: int | None = None
) -> bytes:
    """A real workbook whose `part` (e.g. xl/sharedStrings.xml) is replaced by the streamed `pieces`,
    deflated: highly repetitive XML makes a small file that expands enormously (a zip bomb).
    `declared_size` writes a false uncompressed size into the part's headers."""
    import zipfile

    import xlsxwriter

    # xlsxwriter keeps texts in xl/sharedStrings.xml, as Excel does (openpyxl writes them inline).
    saved = io.BytesIO()
    workbook = xlsxwriter.Workbook(saved, {"in_memory": True})
    sheet = workbook.add_worksheet()
    for r, row in enumerate([dict(zip(HEADERS, HEADERS, strict=True)), *(rows or [firm_row("123-45-67891")])]):
        for c, header in enumerate(HEADERS):
            sheet.write_string(r, c, str(row.get(header, "")))
    workbook.close()
    base = zipfile.ZipFile(saved)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in base.infolist():
            if info.filename != part:
                out.writestr(info.filename, base.read(info.filename))
        info = zipfile.ZipInfo(part)
        info.compress_type = zipfile.ZIP_DEFLATED
        with out.open(info, "w") as member:
            for piece in pieces:
                member.write(piece)
    data = buffer.getvalue()
    if declared_size is None:
        return data
    # Patch the uncompressed size (local header offset 22, central directory offset 24) of `part`.
    name = part.encode()
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (local := patched.find(signature, start)) >= 0:
            name_offset = local + (30 if signature == b"PK\x03\x04" else 46)
            if patched[name_offset : name_offset + len(name)] == name:
                patched[local + offset : local + offset + 4] = declared_size.to_bytes(4, "little")
            start = local + 4
    return bytes(patched)


def shared_strings(count: int, text: bytes = b"a") -> Iterator[bytes]:
    """A sharedStrings.xml of `count` entries, generated in pieces (never whole in memory)."""
    ns = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    yield b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="' + ns + b'">'
    entry = b"<si><t>" + text + b"</t></si>"
    for start in range(0, count, 100_000):
        yield entry * min(100_000, count - start)
    yield b"</sst>"
