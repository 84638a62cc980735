"""Files of the figures: CSV (UTF-8 with BOM, formula-safe), XLSX (xlsxwriter in constant-memory
mode, a totals row, 원 and 천원 formats, Korean sheet names) and OCDS 1.1 release packages.

Writers take iterables and yield bytes (or write a file), so that a million contracts never sit
in memory; the HTTP layer streams what they produce.
"""

from __future__ import annotations

import csv
import functools
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import msgspec
import xlsxwriter

from service.contracts.targets import TargetReport, TargetRow
from service.lib.clock import SEOUL, now
from service.registry.districts import district_name
from service.registry.taxonomy import category_name
from service.reports.service import FairSummaryReport, SalesReport

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 2_000
LARGE_EXPORT_ROWS = 100_000  # larger exports run as a background job
WON_FORMAT = '#,##0"원"'
CHEONWON_FORMAT = '#,##0,"천원"'  # the trailing comma shows the value ÷ 1,000 (rounded half up by Excel)


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# -- headers ------------------------------------------------------------------------------
HEADERS: dict[str, dict[str, tuple[str, str]]] = {
    "sales": {
        "key": ("구분코드", "key"),
        "label": ("구분", "label"),
        "contracts": ("계약건수", "contracts"),
        "amount_krw": ("금액(원)", "amount_krw"),
        "meetings": ("상담건수", "meetings"),
        "agencies": ("참여기관", "agencies"),
        "firms": ("참여기업", "firms"),
    },
    "fairs": {
        "fair_id": ("상담회ID", "fair_id"),
        "name": ("상담회", "fair"),
        "first_day": ("일자", "date"),
        "agencies": ("참여기관", "agencies"),
        "firms": ("참여기업", "firms"),
        "meetings": ("상담건수", "meetings"),
        "linked_contracts": ("연계계약건수", "linked_contracts"),
        "linked_sales_krw": ("연계매출(원)", "linked_sales_krw"),
    },
    "targets": {
        "agency_id": ("기관ID", "agency_id"),
        "name": ("기관", "agency"),
        "target_krw": ("목표(원)", "target_krw"),
        "contracts_krw": ("계약실적(원)", "contracts_krw"),
        "purchases_krw": ("기타구매실적(원)", "purchases_krw"),
        "actual_krw": ("구매실적(원)", "actual_krw"),
        "achievement_rate": ("달성률", "achievement_rate"),
        "achievement_percent": ("달성률(%)", "achievement_percent"),
    },
    "contracts": {
        "id": ("계약ID", "contract_id"),
        "contract_date": ("계약일", "contract_date"),
        "agency_name": ("기관", "agency"),
        "agency_type": ("기관유형", "agency_type"),
        "firm_name": ("기업", "firm"),
        "business_number": ("사업자등록번호", "business_number"),
        "firm_types": ("기업유형", "firm_types"),
        "district": ("기업 소재 자치구", "firm_district"),
        "title": ("계약명", "title"),
        "category": ("품목", "category"),
        "channel": ("경로", "channel"),
        "fair_name": ("상담회", "fair"),
        "amount_krw": ("금액(원)", "amount_krw"),
    },
}
TOTAL_LABEL = {"ko": "합계", "en": "Total"}


def header(kind: str, lang: str) -> list[str]:
    index = 0 if lang == "ko" else 1
    return [names[index] for names in HEADERS[kind].values()]


# -- rows of each file ----------------------------------------------------------------------
def sales_rows(report: SalesReport, lang: str) -> Iterator[list[Any]]:
    for row in report.rows:
        yield [row.key or "", row.label, row.contracts, row.amount_krw, "", "", ""]
    t = report.total
    yield ["", TOTAL_LABEL[lang], t.contracts, t.amount_krw, t.meetings, t.agencies, t.firms]


def fair_rows(report: FairSummaryReport, lang: str) -> Iterator[list[Any]]:
    for f in report.fairs:
        yield [str(f.fair_id), f.name, f.first_day, f.agencies, f.firms, f.meetings, f.linked_contracts,
               f.linked_sales_krw]  # fmt: skip
    t = report.total
    label = "합계 (기관·기업은 중복 제외)" if lang == "ko" else "Total (distinct agencies and firms)"
    yield ["", label, "", t.agencies, t.firms, t.meetings, t.linked_contracts, t.linked_sales_krw]


def percent_value(row: TargetRow) -> Decimal | str:
    """actual ÷ target in percent, rounded once (184,700 ÷ 170,000 → 108.6), for the 달성률(%) column
    beside the ratio; no target → empty."""
    if row.target_krw <= 0:
        return ""
    return (Decimal(row.actual_krw) * 100 / Decimal(row.target_krw)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def target_rows(report: TargetReport, lang: str) -> Iterator[list[Any]]:
    for r in report.rows:
        rate = "" if r.achievement_rate is None else r.achievement_rate
        yield [r.agency_id, r.name, r.target_krw, r.contracts_krw, r.purchases_krw, r.actual_krw, rate,
               percent_value(r)]  # fmt: skip
    t = report.total
    rate = "" if t.achievement_rate is None else t.achievement_rate
    yield ["", TOTAL_LABEL[lang], t.target_krw, t.contracts_krw, t.purchases_krw, t.actual_krw, rate,
           percent_value(t)]  # fmt: skip


# -- CSV ------------------------------------------------------------------------------------
def csv_chunks(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel shows Korean), CRLF lines, formula-like text neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([neutralise(h) for h in head])
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(v) for v in row])
        if count % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


# -- XLSX -----------------------------------------------------------------------------------
class XlsxSheetWriter:
    """One constant-memory worksheet: header, rows in order, then a totals row with SUM formulas.

    `money_columns` are written in 원; each gets a twin column in 천원 right after it when
    `with_cheonwon` is set (the same number, shown ÷ 1,000 by the cell format).
    """

    def __init__(
        self,
        book: xlsxwriter.Workbook,
        name: str,
        head: Sequence[str],
        money_columns: Sequence[int],
        sum_columns: Sequence[int] = (),
        *,
        with_cheonwon: bool = True,
        lang: str = "ko",
    ) -> None:
        self.sheet = book.add_worksheet(name)
        self.bold = book.add_format({"bold": True})
        self.won = book.add_format({"num_format": WON_FORMAT})
        self.cheonwon = book.add_format({"num_format": CHEONWON_FORMAT})
        self.won_total = book.add_format({"num_format": WON_FORMAT, "bold": True, "top": 1})
        self.cheonwon_total = book.add_format({"num_format": CHEONWON_FORMAT, "bold": True, "top": 1})
        self.total_format = book.add_format({"bold": True, "top": 1})
        self.money = set(money_columns)
        self.sums = set(sum_columns) | self.money
        self.with_cheonwon = with_cheonwon
        self.lang = lang
        # output column of each input column (a 천원 twin shifts the ones after it)
        self.out_col: list[int] = []
        out = 0
        full_head: list[str] = []
        for i, title in enumerate(head):
            self.out_col.append(out)
            full_head.append(title)
            out += 1
            if i in self.money and with_cheonwon:
                full_head.append(title.replace("(원)", "(천원)").replace("_krw", "_thousand_krw"))
                out += 1
        self.width = out
        for col, title in enumerate(full_head):
            self.sheet.write_string(0, col, title, self.bold)
            self.sheet.set_column(col, col, 16 if col else 38)
        self.row = 1
        self.totals = [0] * len(head)

    def write(self, values: Sequence[Any]) -> None:
        for i, value in enumerate(values):
            col = self.out_col[i]
            if i in self.money and isinstance(value, int):
                self.sheet.write_number(self.row, col, value, self.won)
                if self.with_cheonwon:
                    self.sheet.write_number(self.row, col + 1, value, self.cheonwon)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                self.sheet.write_number(self.row, col, value)
            elif value is None or value == "":
                continue
            else:
                self.sheet.write_string(self.row, col, str(neutralise(value)))
            if i in self.sums and isinstance(value, int):
                self.totals[i] += value
        self.row += 1

    def write_totals(self, label_column: int = 0, overrides: dict[int, Any] | None = None) -> None:
        """The totals row: SUM formulas with their value cached (so readers without Excel see it)."""
        overrides = overrides or {}
        self.sheet.write_string(self.row, self.out_col[label_column], TOTAL_LABEL[self.lang], self.total_format)
        first, last = 2, self.row  # 1-based rows of the data
        for i in sorted(self.sums | set(overrides)):
            col = self.out_col[i]
            value = overrides.get(i, self.totals[i])
            letter = xlsxwriter.utility.xl_col_to_name(col)
            formula = f"=SUM({letter}{first}:{letter}{last})" if i not in overrides else None
            fmt = self.won_total if i in self.money else self.total_format
            if formula and last >= first:
                self.sheet.write_formula(self.row, col, formula, fmt, value)
            else:
                self.sheet.write_number(self.row, col, value, fmt)
            if i in self.money and self.with_cheonwon:
                twin = xlsxwriter.utility.xl_col_to_name(col + 1)
                twin_formula = f"=SUM({twin}{first}:{twin}{last})" if i not in overrides else None
                if twin_formula and last >= first:
                    self.sheet.write_formula(self.row, col + 1, twin_formula, self.cheonwon_total, value)
                else:
                    self.sheet.write_number(self.row, col + 1, value, self.cheonwon_total)
        self.row += 1


CopyRows = Callable[[int, int, Callable[[bytes], Awaitable[None]]], Awaitable[None]]


async def contracts_xlsx_rows(copy_rows: CopyRows, path: Path, lang: str, rows: int, total_krw: int) -> int:
    """Every confirmed contract (sheet 계약목록, 원 and 천원) and the totals row.

    xlsxwriter spends ~5 µs per cell in Python: 70 s for a million 13-column rows here. So
    PostgreSQL writes the data rows as the same `<row>` XML that xlsxwriter's constant-memory
    mode writes for inline strings and numbers (`repository.export_xlsx_rows_sql`), and COPY
    streams it into the worksheet's row file; header and totals rows, styles and the rest of
    the package stay xlsxwriter's. This relies on its constant-memory internals (`fh`,
    `previous_row`, `_write_single_row`), pinned by uv.lock; the tests read every file back.
    `copy_rows(won_xf, cheonwon_xf, output)` must send exactly `rows` rows summing to `total_krw`.
    """
    book = new_workbook(path)
    writer = XlsxSheetWriter(
        book, "계약목록" if lang == "ko" else "Contracts", header("contracts", lang), [12], lang=lang
    )
    sheet = writer.sheet
    if not (sheet.constant_memory and hasattr(sheet, "_write_single_row")):
        raise RuntimeError("the contract export needs an xlsxwriter worksheet in constant-memory mode")
    sheet._write_single_row(writer.row)  # flush the header row, as xlsxwriter does before a new row
    sheet.fh.flush()
    binary = sheet.fh.buffer

    async def output(chunk: bytes) -> None:
        binary.write(chunk)

    await copy_rows(writer.won._get_xf_index(), writer.cheonwon._get_xf_index(), output)
    writer.row += rows
    writer.totals[12] = total_krw
    sheet.previous_row = writer.row - 1  # nothing pending: the totals row starts clean
    writer.write_totals(label_column=0)
    close_workbook(book)
    return rows


def close_workbook(book: xlsxwriter.Workbook) -> None:
    """Close (zip) the workbook with fast deflate: level 1 is 2–3× faster than 6 on sheet XML, ~20% larger.

    xlsxwriter has no compression option, so its ZipFile is wrapped for this call only (close()
    is synchronous: no other coroutine runs in between).
    """
    import xlsxwriter.workbook as workbook_module

    original = workbook_module.ZipFile
    workbook_module.ZipFile = functools.partial(original, compresslevel=1)  # type: ignore[misc]
    try:
        book.close()
    finally:
        workbook_module.ZipFile = original  # type: ignore[misc]


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    return xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})


def write_summary_sheet(book: xlsxwriter.Workbook, items: Sequence[tuple[str, Any]], lang: str) -> None:
    sheet = book.add_worksheet("요약" if lang == "ko" else "Summary")
    bold = book.add_format({"bold": True})
    won = book.add_format({"num_format": WON_FORMAT})
    cheonwon = book.add_format({"num_format": CHEONWON_FORMAT})
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 2, 22)
    for row, (label, value) in enumerate(items):
        sheet.write_string(row, 0, label, bold)
        if isinstance(value, tuple):  # money: (원,) → 원 and 천원
            sheet.write_number(row, 1, value[0], won)
            sheet.write_number(row, 2, value[0], cheonwon)
        elif isinstance(value, (int, float)):
            sheet.write_number(row, 1, value)
        else:
            sheet.write_string(row, 1, str(neutralise(value)))


def sales_xlsx(report: SalesReport, path: Path, lang: str, filters: str) -> None:
    book = new_workbook(path)
    sheet = XlsxSheetWriter(
        book, "연계매출" if lang == "ko" else "Linked sales", header("sales", lang)[:4], [3], [2], lang=lang
    )
    for row in report.rows:
        sheet.write([row.key or "", row.label, row.contracts, row.amount_krw])
    # The firm_type rows overlap (a firm of two types counts twice): the totals come from SQL.
    t = report.total
    sheet.write_totals(label_column=1, overrides={2: t.contracts, 3: t.amount_krw})
    ko = lang == "ko"
    write_summary_sheet(
        book,
        [
            ("조건" if ko else "Filters", filters),
            ("계약건수" if ko else "Contracts", t.contracts),
            ("금액" if ko else "Amount", (t.amount_krw,)),
            ("상담건수" if ko else "Meetings held", t.meetings),
            ("참여기관" if ko else "Agencies", t.agencies),
            ("참여기업" if ko else "Firms", t.firms),
        ],
        lang,
    )
    book.close()


def fairs_xlsx(report: FairSummaryReport, path: Path, lang: str) -> None:
    book = new_workbook(path)
    sheet = XlsxSheetWriter(book, "상담회" if lang == "ko" else "Fairs", header("fairs", lang), [7], [5, 6], lang=lang)
    for f in report.fairs:
        sheet.write([str(f.fair_id), f.name, f.first_day, f.agencies, f.firms, f.meetings, f.linked_contracts,
                     f.linked_sales_krw])  # fmt: skip
    t = report.total
    sheet.write_totals(label_column=1, overrides={3: t.agencies, 4: t.firms})
    book.close()


def targets_xlsx(report: TargetReport, path: Path, lang: str) -> None:
    book = new_workbook(path)
    sheet = XlsxSheetWriter(
        book,
        "구매목표" if lang == "ko" else "Targets",
        header("targets", lang),
        [2, 3, 4, 5],
        with_cheonwon=False,
        lang=lang,
    )
    percent = book.add_format({"num_format": "0.0%"})
    points = book.add_format({"num_format": "0.0"})
    for r in report.rows:
        sheet.write([r.agency_id, r.name, r.target_krw, r.contracts_krw, r.purchases_krw, r.actual_krw, "", ""])
        write_rate(sheet, r, percent, points)
    sheet.write_totals(label_column=1)
    write_rate(sheet, report.total, percent, points)
    book.close()


def write_rate(sheet: XlsxSheetWriter, row: TargetRow, percent: Any, points: Any) -> None:
    """The ratio (shown as 108.6%) and, beside it, the same as a number of percent (108.6)."""
    if row.achievement_rate is not None:
        sheet.sheet.write_number(sheet.row - 1, sheet.out_col[6], row.achievement_rate, percent)
        sheet.sheet.write_number(sheet.row - 1, sheet.out_col[7], float(percent_value(row)), points)


# -- OCDS -----------------------------------------------------------------------------------
OCDS_VERSION = "1.1"
PUBLISHER = "서울시사회적경제지원센터 (procure-match)"
NEED_TO_TENDER_STATUS = {"open": "active", "closed": "complete", "awarded": "complete"}


def ocid_prefix() -> str:
    """The registered ocid prefix (configurable through OCDS_OCID_PREFIX)."""
    return os.environ.get("OCDS_OCID_PREFIX", "ocds-pmatch")


def _moment(day: date) -> str:
    return datetime.combine(day, time(0, 0), tzinfo=SEOUL).isoformat()


def ocds_release(row: Any, lang: str = "ko") -> dict[str, Any]:
    """One release per confirmed contract: parties, buyer, tender (from the need), award, contract."""
    contract_id = str(row.id)
    value = {"amount": row.amount_krw, "currency": "KRW"}
    buyer = {"id": f"agency-{row.agency_id}", "name": row.agency_name}
    supplier = {"id": f"firm-{row.firm_id}", "name": row.firm_name}
    firm_party: dict[str, Any] = {**supplier, "roles": ["supplier"]}
    if row.business_number:
        # 사업자등록번호 issued by the National Tax Service.
        firm_party["identifier"] = {"scheme": "KR-BRN", "id": row.business_number, "legalName": row.firm_name}
    if row.district:
        firm_party["address"] = {"region": district_name(row.district, lang), "countryName": "대한민국"}
    award_id = f"award-{contract_id}"
    release: dict[str, Any] = {
        "ocid": f"{ocid_prefix()}-{contract_id}",
        "id": f"{contract_id}-{row.confirmed_at.strftime('%Y%m%dT%H%M%S')}" if row.confirmed_at else contract_id,
        "date": (row.confirmed_at or datetime.combine(row.contract_date, time(0), tzinfo=SEOUL)).isoformat(),
        "tag": ["contract"],
        "initiationType": "tender",
        "language": "ko",
        "parties": [{**buyer, "roles": ["buyer", "procuringEntity"]}, firm_party],
        "buyer": buyer,
    }
    if row.need_id is not None:
        tender: dict[str, Any] = {"id": f"need-{row.need_id}", "title": row.need_title, "procuringEntity": buyer}
        if row.need_description:
            tender["description"] = row.need_description
        if row.need_budget_krw is not None:
            tender["value"] = {"amount": row.need_budget_krw, "currency": "KRW"}
        release["tender"] = tender
    release["awards"] = [
        {
            "id": award_id,
            "title": row.title,
            "status": "active",
            "date": _moment(row.contract_date),
            "value": value,
            "suppliers": [supplier],
        }
    ]
    contract: dict[str, Any] = {
        "id": contract_id,
        "awardID": award_id,
        "title": row.title,
        "status": "active",
        "value": value,
        "dateSigned": _moment(row.contract_date),
    }
    if row.category_code:
        contract["items"] = [
            {
                "id": "1",
                "description": category_name(row.category_code, lang),
                "classification": {"scheme": "procure-match", "id": row.category_code,
                                   "description": category_name(row.category_code, lang)},
            }
        ]  # fmt: skip
    release["contracts"] = [contract]
    return release


async def ocds_chunks(rows: AsyncIterator[Any], uri: str, progress: Any = None) -> AsyncIterator[bytes]:
    """A release package written incrementally: the envelope, then each release, then the end."""
    head = {"uri": uri, "version": OCDS_VERSION, "publishedDate": now().isoformat(), "publisher": {"name": PUBLISHER}}
    opening = msgspec.json.encode(head)[:-1] + b',"releases":['
    yield opening
    encoder = msgspec.json.Encoder()
    first = True
    batch: list[bytes] = []
    count = 0
    async for row in rows:
        batch.append((b"" if first else b",") + encoder.encode(ocds_release(row)))
        first = False
        count += 1
        if len(batch) >= 1000:
            yield b"".join(batch)
            batch = []
            if progress is not None:
                await progress(count)
    yield b"".join(batch) + b"]}"
