"""Bulk import of firms from CSV or XLSX: pure decoding, parsing and row validation.

Files carry Korean column headers (COLUMNS). CSV may be UTF-8 (with or without BOM) or
CP949/EUC-KR; XLSX is read with openpyxl in read-only mode (first sheet). Every row is
validated with the same rules as registration (validation.clean_profile); problems are
reported as (row, column, value, reason) where row is the spreadsheet row number (the
header is row 1) and column is the Korean header.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from service.lib.errors import FieldErrors
from service.registry.districts import BY_CODE
from service.registry.models import FirmType, OrganizationKind
from service.registry.schemas import OrganizationIn
from service.registry.validation import clean_profile

# Korean header -> OrganizationIn field, in template order. (header, field, required, example)
COLUMNS: tuple[tuple[str, str, bool, str], ...] = (
    ("상호", "name", True, "푸른청소 사회적협동조합"),
    ("사업자등록번호", "business_number", True, "123-45-67891"),
    ("자치구", "district", True, "마포구"),
    ("지역", "region_name", False, ""),
    ("전화번호", "phone", False, "02-123-4567"),
    ("이메일", "email", False, "contact@example.kr"),
    ("기업유형", "firm_types", True, "사회적협동조합"),
    ("인증번호", "certification_number", False, ""),
    ("인증만료일", "certified_until", False, ""),
    ("품목분류", "category_codes", True, "CLN-DIS; CLN-BLD"),
    ("계약가능금액", "capacity_krw", False, "50000000"),
    ("종업원수", "employees", False, "12"),
    ("취약계층비율", "vulnerable_employee_ratio", False, "0.4"),
    ("소개", "description", True, "방역·건물 청소 전문"),
    ("키워드", "keywords", False, "방역; 소독"),
    ("웹사이트", "website", False, "https://example.kr"),
)
HEADER_OF = {f: h for h, f, _, _ in COLUMNS}
FIELD_OF = {h: f for h, f, _, _ in COLUMNS}
LIST_FIELDS = {"firm_types", "category_codes", "keywords"}
INT_FIELDS = {"capacity_krw", "employees"}
MAX_ROWS = 20_000

FIRM_TYPE_NAMES: dict[str, str] = {
    "사회적기업": FirmType.SOCIAL_ENTERPRISE,
    "인증사회적기업": FirmType.SOCIAL_ENTERPRISE,
    "사회적기업(인증)": FirmType.SOCIAL_ENTERPRISE,
    "예비사회적기업": FirmType.PRE_SOCIAL_ENTERPRISE,
    "협동조합": FirmType.COOPERATIVE,
    "사회적협동조합": FirmType.SOCIAL_COOPERATIVE,
    "마을기업": FirmType.VILLAGE_ENTERPRISE,
    "자활기업": FirmType.SELF_SUFFICIENCY,
    "소셜벤처": FirmType.SOCIAL_VENTURE,
}
DISTRICT_NAMES = {d.name_ko: d.code for d in BY_CODE.values()} | {"기타": "other", "서울 외": "other"}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class ParsedRow:
    row: int
    fields: dict[str, Any]


@dataclass
class ParseResult:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, headers)."""


def decode(content: bytes) -> str:
    """UTF-8 (BOM optional), else CP949 (a superset of EUC-KR)."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp949")
    except UnicodeDecodeError as exc:
        raise ImportFileError("the file is neither UTF-8 nor CP949/EUC-KR text") from exc


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(content: bytes, filename: str) -> list[list[str]]:
    """Rows of cells (strings), header first."""
    if filename.lower().endswith(".xlsx") or content.startswith(b"PK\x03\x04"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ImportFileError("not a readable .xlsx file") from exc
        try:
            sheet = workbook.worksheets[0]
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    text = decode(content)
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""))]


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.replace(",", ";").replace("\n", ";").split(";") if p.strip()]


def _row_to_input(cells: dict[str, str], errors: list[tuple[str, str]]) -> OrganizationIn:
    values: dict[str, Any] = {}
    for header, fname, _, _ in COLUMNS:
        raw = cells.get(header, "")
        if raw == "":
            continue
        try:
            if fname in LIST_FIELDS:
                parts = _split(raw)
                if fname == "firm_types":
                    parts = [FIRM_TYPE_NAMES.get(p.replace(" ", ""), p) for p in parts]
                elif fname == "category_codes":
                    parts = [p.upper() for p in parts]
                values[fname] = parts
            elif fname in INT_FIELDS:
                values[fname] = int(raw.replace(",", "").replace("원", "").strip())
            elif fname == "vulnerable_employee_ratio":
                number = float(raw.rstrip("%"))
                values[fname] = number / 100 if raw.endswith("%") else number
            elif fname == "certified_until":
                values[fname] = date.fromisoformat(raw.replace(".", "-").replace("/", "-"))
            elif fname == "district":
                values[fname] = DISTRICT_NAMES.get(raw, raw.lower())
            else:
                values[fname] = raw
        except ValueError:
            errors.append((fname, "not a valid " + ("date (YYYY-MM-DD)" if fname == "certified_until" else "number")))
    return OrganizationIn(**values)


def parse(content: bytes, filename: str, known_categories: set[str]) -> ParseResult:
    """Parse and validate every row; never touches the database."""
    table = read_table(content, filename)
    while table and not any(table[-1]):
        table.pop()
    if not table:
        raise ImportFileError("the file is empty")
    header = [h.lstrip("\ufeff").strip() for h in table[0]]
    missing = [h for h, _, required, _ in COLUMNS if required and h not in header]
    if missing:
        raise ImportFileError("missing column(s): " + ", ".join(missing))
    if len(table) - 1 > MAX_ROWS:
        raise ImportFileError(f"at most {MAX_ROWS:,} rows per file")
    result = ParseResult()
    seen: dict[str, int] = {}
    for index, raw_row in enumerate(table[1:], start=2):
        if not any(raw_row):
            continue
        result.total += 1
        cells = {h: (raw_row[i] if i < len(raw_row) else "") for i, h in enumerate(header)}
        conversion: list[tuple[str, str]] = []
        data = _row_to_input(cells, conversion)
        field_errors = FieldErrors()
        for fname, message in conversion:
            field_errors.add(fname, message)
        fields = clean_profile(
            OrganizationKind.FIRM, data, field_errors, prefix="", partial=False, known_categories=known_categories
        )
        number = fields.get("business_number")
        if number and not field_errors:
            if number in seen:
                field_errors.add("business_number", f"duplicate of row {seen[number]} in this file")
            else:
                seen[number] = index
        if field_errors:
            order = list(HEADER_OF)
            reported = dict.fromkeys((e.field, e.message) for e in field_errors.items)
            for fname, message in sorted(reported, key=lambda fm: order.index(fm[0]) if fm[0] in order else 99):
                column = HEADER_OF.get(fname, fname)
                result.errors.append(RowError(index, column, cells.get(column, ""), message))
            continue
        result.rows.append(ParsedRow(index, fields))
    return result


def template_csv() -> bytes:
    """The import template: UTF-8 with BOM (Excel opens it correctly), header and one example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([h for h, _, _, _ in COLUMNS])
    writer.writerow([example for _, _, _, example in COLUMNS])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


# --- Writing (database) ---------------------------------------------------------------------


@dataclass
class ImportOptions:
    dry_run: bool = True
    all_or_nothing: bool = True
    # "update": a business number already registered updates that firm; "report": it is an error.
    on_duplicate: str = "report"
    verify: bool = False


@dataclass
class ImportOutcome:
    total: int
    valid: int
    created: int
    updated: int
    errors: list[RowError]
    dry_run: bool
    written: bool


EXPORT_HEADERS = (
    "상호",
    "사업자등록번호",
    "자치구",
    "기업유형",
    "품목분류",
    "소개",
    "키워드",
    "전화번호",
    "이메일",
    "웹사이트",
)


def export_csv(rows: list[dict[str, Any]]) -> bytes:
    """Directory export: UTF-8 with BOM so Excel opens Hangul correctly. Rows keyed by EXPORT_HEADERS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADERS)
    for row in rows:
        writer.writerow([_safe(row.get(h, "")) for h in EXPORT_HEADERS])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _safe(value: Any) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
