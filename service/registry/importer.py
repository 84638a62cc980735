"""Bulk import of organizations (firms or agencies) from CSV or XLSX: decoding, parsing, row checks.

Files carry the Korean column headers staff use (one ImportSpec per organization kind:
FIRM_SPEC, AGENCY_SPEC). Files are read by service.lib.tabular:
CSV in UTF-8 (with or without BOM) or CP949/EUC-KR, XLSX (first sheet, within the zip limits;
formula cells are read as formulas and refused, never evaluated). Every row is validated with
the same rules as registration (validation.clean_profile); problems are reported as
(row, column, value, reason) where row is the spreadsheet row number (the header is row 1)
and column is the Korean header.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from service.lib import tabular
from service.lib.errors import FieldErrors
from service.lib.tabular import MAX_COLUMNS, TabularFileError
from service.registry.districts import BY_CODE
from service.registry.models import AgencyType, FirmType, OrganizationKind
from service.registry.schemas import OrganizationIn
from service.registry.taxonomy import category_code
from service.registry.validation import clean_profile

# Firm columns: (Korean header, OrganizationIn field, required, example), in template order.
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
# Agency columns. The business number (for a public body its 고유번호, same checksum) is the
# key that recognises an agency already registered.
AGENCY_COLUMNS: tuple[tuple[str, str, bool, str], ...] = (
    ("기관명", "name", True, "서울특별시 마포구청"),
    ("사업자등록번호", "business_number", True, "105-83-00012"),
    ("기관유형", "agency_type", True, "자치구"),
    ("자치구", "district", True, "마포구"),
    ("지역", "region_name", False, ""),
    ("전화번호", "phone", False, "02-3153-8114"),
    ("이메일", "email", False, "buy@mapo.go.kr"),
    ("연간구매목표액", "annual_target_krw", False, "1500000000"),
)
LIST_FIELDS = {"firm_types", "category_codes", "keywords"}
INT_FIELDS = {"capacity_krw", "employees", "annual_target_krw"}
MAX_ROWS = 20_000
MAX_CELL_CHARS = 5_000

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
# The names staff use for 기관유형 (spaces and the middle dot are ignored when matching).
AGENCY_TYPE_NAMES: dict[str, str] = {
    "서울시": AgencyType.SEOUL_CITY,
    "서울특별시": AgencyType.SEOUL_CITY,
    "본청": AgencyType.SEOUL_CITY,
    "자치구": AgencyType.DISTRICT_OFFICE,
    "구청": AgencyType.DISTRICT_OFFICE,
    "투자출연기관": AgencyType.CITY_AFFILIATE,
    "서울시투자출연기관": AgencyType.CITY_AFFILIATE,
    "투자기관": AgencyType.CITY_AFFILIATE,
    "출연기관": AgencyType.CITY_AFFILIATE,
    "산하기관": AgencyType.CITY_AFFILIATE,
    "교육청": AgencyType.EDUCATION,
    "교육기관": AgencyType.EDUCATION,
    "교육": AgencyType.EDUCATION,
    "중앙정부": AgencyType.CENTRAL_GOVERNMENT,
    "중앙부처": AgencyType.CENTRAL_GOVERNMENT,
    "정부부처": AgencyType.CENTRAL_GOVERNMENT,
    "공기업": AgencyType.PUBLIC_CORPORATION,
    "공사공단": AgencyType.PUBLIC_CORPORATION,
    "공사": AgencyType.PUBLIC_CORPORATION,
    "공단": AgencyType.PUBLIC_CORPORATION,
    "공공기관": AgencyType.PUBLIC_CORPORATION,
    "기타": AgencyType.OTHER,
}
DISTRICT_NAMES = {d.name_ko: d.code for d in BY_CODE.values()} | {"기타": "other", "서울 외": "other"}


@dataclass(frozen=True)
class ImportSpec:
    """What one organization kind's import file looks like: its columns and aliases of headers."""

    kind: OrganizationKind
    columns: tuple[tuple[str, str, bool, str], ...]
    # Other headers staff use for the same column -> the canonical header.
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> list[str]:
        return [h for h, _, _, _ in self.columns]

    @property
    def header_of(self) -> dict[str, str]:
        return {f: h for h, f, _, _ in self.columns}

    @property
    def required(self) -> list[str]:
        return [h for h, _, required, _ in self.columns if required]

    @property
    def optional_fields(self) -> list[str]:
        return [f for _, f, required, _ in self.columns if not required]


FIRM_SPEC = ImportSpec(
    OrganizationKind.FIRM, COLUMNS, {"기업명": "상호", "업체명": "상호", "고유번호": "사업자등록번호"}
)
AGENCY_SPEC = ImportSpec(
    OrganizationKind.AGENCY,
    AGENCY_COLUMNS,
    {"기관": "기관명", "고유번호": "사업자등록번호", "기관구분": "기관유형", "구매목표액": "연간구매목표액"},
)
SPECS: dict[OrganizationKind, ImportSpec] = {OrganizationKind.FIRM: FIRM_SPEC, OrganizationKind.AGENCY: AGENCY_SPEC}


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


# The file as a whole cannot be read (format, encoding, headers, size, zip limits).
ImportFileError = TabularFileError


def read_table(content: bytes, filename: str) -> list[list[str]]:
    """Rows of cells (strings), header first; at most MAX_ROWS + 2 rows are read."""
    return tabular.read_table(content, filename, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.replace(",", ";").replace("\n", ";").split(";") if p.strip()]


FORMULA_REASON = "looks like a spreadsheet formula (=, +, -, @); enter the value itself"


def looks_like_formula(value: str) -> bool:
    """A cell a spreadsheet would run as a formula or DDE command (CSV injection).

    Phone numbers (+82 ...) and negative numbers stay allowed; the field rules judge them.
    """
    text = value.lstrip()
    if not text:
        return False
    if text[0] in "=@":
        return True
    if text[0] in "+-":
        rest = text[1:].lstrip()
        return "|" in text or not rest or not (rest[0].isdigit() or rest[0] == "(")
    return False


def _normalise(value: str) -> str:
    return value.replace(" ", "").replace("·", "").replace("ㆍ", "")


def _row_to_input(spec: ImportSpec, cells: dict[str, str], errors: list[tuple[str, str]]) -> OrganizationIn:
    values: dict[str, Any] = {}
    for header, fname, _, _ in spec.columns:
        raw = cells.get(header, "")
        if raw == "":
            continue
        if len(raw) > MAX_CELL_CHARS:
            errors.append((fname, f"longer than {MAX_CELL_CHARS:,} characters"))
            continue
        if looks_like_formula(raw):
            errors.append((fname, FORMULA_REASON))
            continue
        try:
            values[fname] = _cell_value(fname, raw)
        except ValueError:
            errors.append((fname, "not a valid " + ("date (YYYY-MM-DD)" if fname == "certified_until" else "number")))
    return OrganizationIn(**values)


def _cell_value(fname: str, raw: str) -> Any:
    """The value of one cell for the profile field `fname` (Korean names of types, districts and
    agency types mapped to their codes); ValueError when a number or date cannot be read."""
    if fname in LIST_FIELDS:
        parts = _split(raw)
        if fname == "firm_types":
            return [FIRM_TYPE_NAMES.get(_normalise(p), p) for p in parts]
        if fname == "category_codes":
            return [category_code(p) for p in parts]
        return parts
    if fname in INT_FIELDS:
        return int(raw.replace(",", "").replace("원", "").strip())
    if fname == "vulnerable_employee_ratio":
        number = float(raw.rstrip("%"))
        return number / 100 if raw.endswith("%") else number
    if fname == "certified_until":
        return date.fromisoformat(raw.replace(".", "-").replace("/", "-"))
    if fname == "district":
        return DISTRICT_NAMES.get(raw, raw.lower())
    if fname == "agency_type":
        return AGENCY_TYPE_NAMES.get(_normalise(raw), raw.lower())
    return raw


_HEADER_SPACE = re.compile(r"\s+")


def _canonical_header(spec: ImportSpec, raw: str) -> str:
    header = _HEADER_SPACE.sub("", raw.lstrip("\ufeff")).rstrip("*")
    return spec.aliases.get(header, header)


def parse(content: bytes, filename: str, known_categories: set[str], spec: ImportSpec = FIRM_SPEC) -> ParseResult:
    """Parse and validate every row of one kind's file; never touches the database."""
    header, body = _header_and_body(spec, read_table(content, filename))
    result = ParseResult()
    seen: dict[str, int] = {}
    for index, raw_row in enumerate(body, start=2):
        if not any(raw_row):
            continue
        result.total += 1
        cells: dict[str, str] = {}
        for i, h in enumerate(header):
            if h and h not in cells:  # the first of two same-named columns wins
                cells[h] = raw_row[i] if i < len(raw_row) else ""
        fields, field_errors, unreadable = _check_row(spec, cells, known_categories)
        number = fields.get("business_number")
        if number and not field_errors:
            if number in seen:
                field_errors.add("business_number", f"duplicate of row {seen[number]} in this file")
            else:
                seen[number] = index
        if field_errors:
            result.errors.extend(_row_errors(spec, index, cells, field_errors, unreadable))
            continue
        result.rows.append(ParsedRow(index, fields))
    return result


def _check_row(
    spec: ImportSpec, cells: dict[str, str], known_categories: set[str]
) -> tuple[dict[str, Any], FieldErrors, set[str]]:
    """One row's cleaned profile fields, its errors, and the fields whose cell could not be read."""
    conversion: list[tuple[str, str]] = []
    data = _row_to_input(spec, cells, conversion)
    field_errors = FieldErrors()
    for fname, message in conversion:
        field_errors.add(fname, message)
    for h, fname, required, _ in spec.columns:
        if required and not cells.get(h):
            field_errors.add(fname, "required")
    fields = clean_profile(spec.kind, data, field_errors, prefix="", partial=False, known_categories=known_categories)
    return fields, field_errors, {f for f, _ in conversion}


def _header_and_body(spec: ImportSpec, table: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """The canonical column names and the rows below them; ImportFileError when the file as a whole
    cannot be imported (empty, a required column missing, too many rows)."""
    while table and not any(table[-1]):
        table.pop()
    if not table:
        raise ImportFileError("the file is empty")
    header = [_canonical_header(spec, h) for h in table[0]]
    missing = [h for h in spec.required if h not in header]
    if missing:
        raise ImportFileError("missing column(s): " + ", ".join(missing))
    if len(table) - 1 > MAX_ROWS:
        raise ImportFileError(f"at most {MAX_ROWS:,} rows per file")
    return header, table[1:]


def _row_errors(
    spec: ImportSpec, index: int, cells: dict[str, str], field_errors: FieldErrors, unreadable: set[str]
) -> list[RowError]:
    """One row's errors in column order, each once; a cell that could not be read is not also
    reported as "required"."""
    header_of = spec.header_of
    order = list(header_of)
    reported = dict.fromkeys(
        (e.field, e.message) for e in field_errors.items if not (e.message == "required" and e.field in unreadable)
    )
    errors = []
    for fname, message in sorted(reported, key=lambda fm: order.index(fm[0]) if fm[0] in order else 99):
        column = header_of.get(fname, fname)
        errors.append(RowError(index, column, cells.get(column, "")[:200], message))
    return errors


def template_csv(spec: ImportSpec = FIRM_SPEC) -> bytes:
    """The import template: UTF-8 with BOM (Excel opens it correctly), header and one example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(spec.headers)
    writer.writerow([example for _, _, _, example in spec.columns])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


# --- Writing (database) ---------------------------------------------------------------------


@dataclass
class ImportOptions:
    dry_run: bool = True
    all_or_nothing: bool = True
    # "update": a business number already registered updates that organization; "report": it is an error.
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
