"""Every query behind the figures. Aggregates run in PostgreSQL over confirmed contracts,
using the partial covering index `ix_contracts_confirmed_date` (contract_date INCLUDE
amount, parties, fair, meeting, category), so a yearly report reads one index range.

Groupings by an organization attribute (agency type, firm type, district) first aggregate
per organization and then join the few thousand organizations, instead of joining every
contract row.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

GROUP_BYS = ("fair", "agency", "agency_type", "firm", "firm_type", "district", "category", "month")
LIVE_MEETING = "('booked', 'held')"  # meetings that took (or will take) place: not cancelled, not no-show


@dataclass(frozen=True)
class SalesFilter:
    """What a report covers. `agency_id` / `firm_id` restrict to one organization's rows."""

    year: int | None = None
    fair_ids: tuple[uuid.UUID, ...] = ()
    linked_only: bool = False
    agency_id: uuid.UUID | None = None
    firm_id: uuid.UUID | None = None
    channels: tuple[str, ...] = field(default=())

    def with_year(self, year: int | None) -> SalesFilter:
        return SalesFilter(year, self.fair_ids, self.linked_only, self.agency_id, self.firm_id, self.channels)

    def describe(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "fair_ids": [str(f) for f in self.fair_ids],
            "linked_only": self.linked_only,
            "agency_id": str(self.agency_id) if self.agency_id else None,
            "firm_id": str(self.firm_id) if self.firm_id else None,
        }


def contract_where(f: SalesFilter, alias: str = "c") -> tuple[str, dict[str, Any]]:
    conds = [f"{alias}.status = 'confirmed'"]
    params: dict[str, Any] = {}
    if f.year is not None:
        conds.append(f"{alias}.contract_date >= :start AND {alias}.contract_date < :end")
        params.update(start=date(f.year, 1, 1), end=date(f.year + 1, 1, 1))
    if f.fair_ids:
        conds.append(f"{alias}.fair_id = ANY(:fair_ids)")
        params["fair_ids"] = list(f.fair_ids)
    if f.linked_only:
        conds.append(f"{alias}.meeting_id IS NOT NULL")
    if f.agency_id is not None:
        conds.append(f"{alias}.agency_id = :scope_agency")
        params["scope_agency"] = f.agency_id
    if f.firm_id is not None:
        conds.append(f"{alias}.firm_id = :scope_firm")
        params["scope_firm"] = f.firm_id
    if f.channels:
        conds.append(f"{alias}.channel::text = ANY(:channels)")
        params["channels"] = list(f.channels)
    return " AND ".join(conds), params


# A declared firm type that counts on a day: a social enterprise's certification must be in
# force then, a preliminary one's designation must not have ended (registry/certification.py).
COUNTED_TYPE = (
    "({type} NOT IN ('social_enterprise', 'pre_social_enterprise') "
    "OR ({type} = 'social_enterprise' AND {until} >= {day}) "
    "OR ({type} = 'pre_social_enterprise' AND ({until} IS NULL OR {until} >= {day})))"
)


def _by_org(column: str, where: str) -> str:
    return (
        f"SELECT c.{column} AS org_id, count(*) AS n, sum(c.amount_krw) AS amount "
        f"FROM contracts c WHERE {where} GROUP BY c.{column}"
    )


def grouped_sql(group_by: str, where: str) -> str:
    """(key, name, contracts, amount) per group."""
    base = f"FROM contracts c WHERE {where}"
    if group_by == "fair":
        return (
            "SELECT s.fair_id::text AS key, f.name AS name, s.n, s.amount FROM "
            f"(SELECT c.fair_id, count(*) AS n, sum(c.amount_krw) AS amount {base} GROUP BY c.fair_id) s "
            "LEFT JOIN fairs f ON f.id = s.fair_id"
        )
    if group_by in ("agency", "firm"):
        return (
            "SELECT o.id::text AS key, o.name AS name, s.n, s.amount "
            f"FROM ({_by_org(group_by + '_id', where)}) s JOIN organizations o ON o.id = s.org_id"
        )
    if group_by == "agency_type":
        return (
            "SELECT o.agency_type::text AS key, NULL AS name, sum(s.n) AS n, sum(s.amount) AS amount "
            f"FROM ({_by_org('agency_id', where)}) s JOIN organizations o ON o.id = s.org_id GROUP BY o.agency_type"
        )
    if group_by == "firm_type":
        # A firm of two types counts in both rows; the report total is computed separately. A
        # certified type (registry/certification.py) counts only for contracts signed while the
        # certification was in force; a firm left with no type counts in the "no type" row.
        return (
            "SELECT t.firm_type AS key, NULL AS name, count(*) AS n, sum(c.amount_krw) AS amount "
            "FROM contracts c JOIN organizations o ON o.id = c.firm_id "
            "LEFT JOIN LATERAL (SELECT ft FROM unnest(o.firm_types) AS ft "
            f"WHERE {COUNTED_TYPE.format(type='ft', until='o.certified_until', day='c.contract_date')}) "
            f"AS t(firm_type) ON true WHERE {where} GROUP BY t.firm_type"
        )
    if group_by == "district":
        return (
            "SELECT o.district AS key, NULL AS name, sum(s.n) AS n, sum(s.amount) AS amount "
            f"FROM ({_by_org('firm_id', where)}) s JOIN organizations o ON o.id = s.org_id GROUP BY o.district"
        )
    if group_by == "category":
        return (
            f"SELECT c.category_code AS key, NULL AS name, count(*) AS n, sum(c.amount_krw) AS amount {base} GROUP BY 1"
        )
    if group_by == "month":
        return (
            "SELECT to_char(c.contract_date, 'YYYY-MM') AS key, NULL AS name, count(*) AS n, "
            f"sum(c.amount_krw) AS amount {base} GROUP BY 1"
        )
    raise ValueError(group_by)


async def grouped(session: AsyncSession, f: SalesFilter, group_by: str) -> list[Row[Any]]:
    where, params = contract_where(f)
    return list((await session.execute(text(grouped_sql(group_by, where)), params)).all())


async def contract_totals(session: AsyncSession, f: SalesFilter) -> tuple[int, int]:
    where, params = contract_where(f)
    row = (
        await session.execute(
            text(f"SELECT count(*), coalesce(sum(c.amount_krw), 0) FROM contracts c WHERE {where}"), params
        )
    ).one()
    return int(row[0]), int(row[1])


FAIR_YEAR = "extract(year FROM (f.days->0->>'date')::date)"


async def fair_ids_of(session: AsyncSession, f: SalesFilter) -> list[uuid.UUID]:
    """The fairs a report covers: those named, else those held in the year, else all."""
    if f.fair_ids:
        return list(f.fair_ids)
    if f.year is None:
        return list((await session.scalars(text("SELECT id FROM fairs"))).all())
    return list(
        (await session.scalars(text(f"SELECT f.id FROM fairs f WHERE {FAIR_YEAR} = :year"), {"year": f.year})).all()
    )


async def participation(session: AsyncSession, f: SalesFilter) -> tuple[int, int, int]:
    """(meetings held, distinct agencies, distinct firms) of the covered fairs.

    Staff see the fairs' participants; an agency or firm sees its own meetings and the
    distinct organizations in them.
    """
    fairs = await fair_ids_of(session, f)
    if not fairs:
        return 0, 0, 0
    params: dict[str, Any] = {"fairs": fairs}
    scope = ""
    if f.agency_id is not None:
        scope += " AND m.agency_id = :scope_agency"
        params["scope_agency"] = f.agency_id
    if f.firm_id is not None:
        scope += " AND m.firm_id = :scope_firm"
        params["scope_firm"] = f.firm_id
    row = (
        await session.execute(
            text(
                "SELECT count(*), count(DISTINCT m.agency_id), count(DISTINCT m.firm_id) FROM meetings m "
                f"WHERE m.fair_id = ANY(:fairs) AND m.status::text IN {LIVE_MEETING}{scope}"
            ),
            params,
        )
    ).one()
    meetings, agencies, firms = int(row[0]), int(row[1]), int(row[2])
    if not scope:
        counts = (
            await session.execute(
                text(
                    "SELECT count(DISTINCT organization_id) FILTER (WHERE kind = 'agency'), "
                    "count(DISTINCT organization_id) FILTER (WHERE kind = 'firm') "
                    "FROM fair_participants WHERE fair_id = ANY(:fairs)"
                ),
                {"fairs": fairs},
            )
        ).one()
        agencies, firms = int(counts[0]), int(counts[1])
    return meetings, agencies, firms


async def fair_summaries(
    session: AsyncSession, year: int | None, fair_ids: tuple[uuid.UUID, ...] = ()
) -> list[Row[Any]]:
    """Per fair: date, agencies, firms, meetings held, linked contracts and linked sales (all dates)."""
    conds: list[str] = []
    params: dict[str, Any] = {}
    if fair_ids:
        conds.append("f.id = ANY(:fair_ids)")
        params["fair_ids"] = list(fair_ids)
    if year is not None:
        conds.append(f"{FAIR_YEAR} = :year")
        params["year"] = year
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    participants = "SELECT count(DISTINCT p.organization_id) FROM fair_participants p WHERE p.fair_id = f.id"
    linked = "FROM contracts c WHERE c.fair_id = f.id AND c.status = 'confirmed'"
    sql = f"""
        SELECT f.id, f.name, (f.days->0->>'date')::date AS first_day,
          ({participants} AND p.kind = 'agency') AS agencies,
          ({participants} AND p.kind = 'firm') AS firms,
          (SELECT count(*) FROM meetings m WHERE m.fair_id = f.id AND m.status::text IN {LIVE_MEETING}) AS meetings,
          (SELECT count(*) {linked}) AS contracts,
          (SELECT coalesce(sum(c.amount_krw), 0) {linked}) AS amount
        FROM fairs f {where} ORDER BY first_day, f.name"""
    return list((await session.execute(text(sql), params)).all())


async def distinct_participants(session: AsyncSession, fair_ids: list[uuid.UUID]) -> tuple[int, int]:
    if not fair_ids:
        return 0, 0
    row = (
        await session.execute(
            text(
                "SELECT count(DISTINCT organization_id) FILTER (WHERE kind = 'agency'), "
                "count(DISTINCT organization_id) FILTER (WHERE kind = 'firm') FROM fair_participants "
                "WHERE fair_id = ANY(:fairs)"
            ),
            {"fairs": fair_ids},
        )
    ).one()
    return int(row[0]), int(row[1])


CONTRACT_ROWS_SQL = """
    SELECT c.id, c.contract_date, c.amount_krw, c.title, c.category_code, c.channel::text AS channel,
      c.meeting_id, c.fair_id, f.name AS fair_name, c.need_id, c.confirmed_at,
      a.id AS agency_id, a.name AS agency_name, a.agency_type::text AS agency_type,
      fi.id AS firm_id, fi.name AS firm_name, fi.business_number, fi.firm_types, fi.district,
      n.title AS need_title, n.description AS need_description, n.budget_krw AS need_budget_krw
    FROM contracts c
      JOIN organizations a ON a.id = c.agency_id
      JOIN organizations fi ON fi.id = c.firm_id
      LEFT JOIN fairs f ON f.id = c.fair_id
      LEFT JOIN needs n ON n.id = c.need_id
    WHERE {where}
    ORDER BY c.contract_date, c.id"""


async def count_contract_rows(session: AsyncSession, f: SalesFilter) -> int:
    where, params = contract_where(f)
    return int(await session.scalar(text(f"SELECT count(*) FROM contracts c WHERE {where}"), params) or 0)


async def stream_contract_rows(session: AsyncSession, f: SalesFilter) -> AsyncIterator[Row[Any]]:
    """Confirmed contracts with their parties, read through a server-side cursor in batches."""
    where, params = contract_where(f)
    result = await session.stream(text(CONTRACT_ROWS_SQL.format(where=where)).execution_options(yield_per=2000), params)
    async for row in result:
        yield row


# -- export rows, labelled and made formula-safe by PostgreSQL --------------------------------
# For a million rows the Python per-row work is the cost, so the export query returns text that
# is ready to write: labels joined from code → label lists sent as arrays, business numbers
# formatted, and text that a spreadsheet would run as a formula prefixed with an apostrophe.
def formula_safe(expr: str) -> str:
    return f"(CASE WHEN left({expr}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || {expr} ELSE {expr} END)"


def _export_parts(where: str, lang: str) -> tuple[str, list[str], str]:
    """(label CTEs, the 13 cell expressions, FROM … WHERE) of the contract export."""
    name = "name_ko" if lang == "ko" else "name_en"
    label_cte = ", ".join(
        f"{t}(code, label) AS (SELECT * FROM unnest(CAST(:{t}_codes AS text[]), CAST(:{t}_labels AS text[])))"
        for t in ("lat", "lft", "ldi", "lch")
    )
    bn = "fi.business_number"
    columns = [
        "c.id::text",
        "to_char(c.contract_date, 'YYYY-MM-DD')",
        formula_safe("a.name"),
        "coalesce(lat.label, '')",
        formula_safe("fi.name"),
        f"CASE WHEN {bn} IS NULL THEN '' "
        f"ELSE substr({bn}, 1, 3) || '-' || substr({bn}, 4, 2) || '-' || substr({bn}, 6) END",
        "coalesce((SELECT string_agg(lft.label, ', ' ORDER BY t.n) FROM unnest(fi.firm_types) WITH ORDINALITY "
        "AS t(code, n) JOIN lft ON lft.code = t.code), '')",
        "coalesce(ldi.label, fi.district)",
        formula_safe("c.title"),
        f"coalesce(cat.{name}, '')",
        "coalesce(lch.label, c.channel::text)",
        formula_safe("coalesce(f.name, '')"),
        "c.amount_krw",
    ]
    source = f"""
        FROM contracts c
          JOIN organizations a ON a.id = c.agency_id
          JOIN organizations fi ON fi.id = c.firm_id
          LEFT JOIN fairs f ON f.id = c.fair_id
          LEFT JOIN categories cat ON cat.code = c.category_code
          LEFT JOIN lat ON lat.code = a.agency_type::text
          LEFT JOIN ldi ON ldi.code = fi.district
          LEFT JOIN lch ON lch.code = c.channel::text
        WHERE {where}"""
    return label_cte, columns, source


def export_cells_sql(where: str, lang: str, headers: list[str]) -> str:
    label_cte, columns, source = _export_parts(where, lang)
    select = ", ".join(f'{expr} AS "{title}"' for expr, title in zip(columns, headers, strict=True))
    return f"WITH {label_cte} SELECT {select} {source} ORDER BY c.contract_date, c.id"


def _xml_text(expr: str) -> str:
    """XML-escaped text with no backslash, tab or line break left (they become character references),
    so that COPY's text format passes each row through unchanged. One regex test per cell; the
    replacements run only on the rare text that needs them."""
    escaped = f"replace(replace(replace({expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    for char, reference in (("E'\\\\'", "&#92;"), ("chr(9)", "&#9;"), ("chr(10)", "&#10;"), ("chr(13)", "&#13;")):
        escaped = f"replace({escaped}, {char}, '{reference}')"
    cleaned = f"regexp_replace({escaped}, '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f]', '', 'g')"
    return f"(CASE WHEN {expr} ~ '[&<>\\\\\\x01-\\x1f]' THEN {cleaned} ELSE {expr} END)"


# Cells whose text comes from our own code lists, UUIDs, dates or digits: never escaped, never empty.
_PLAIN_COLUMNS = {0, 1, 3, 5, 6, 7, 9, 10}
_MAYBE_EMPTY = {3, 5, 6, 9, 11}


def export_xlsx_rows_sql(where: str, lang: str) -> str:
    """Each contract as the worksheet `<row>` XML: inline strings, then the amount in 원 and 천원 cells.

    Row numbers start at 2 (row 1 is the header); :won_xf and :cheonwon_xf are the style
    indexes xlsxwriter gave the two number formats.
    """
    label_cte, columns, source = _export_parts(where, lang)
    values = ", ".join(f"{expr} AS v{i}" for i, expr in enumerate(columns))
    cells = []
    for i, letter in enumerate("ABCDEFGHIJKL"):
        text = f"v{i}" if i in _PLAIN_COLUMNS else _xml_text(f"v{i}")
        cell = f"""'<c r="{letter}' || n || '" t="inlineStr"><is><t>' || {text} || '</t></is></c>'"""
        cells.append(
            f"CASE WHEN v{i} = '' THEN '' ELSE {cell} END" if i in _MAYBE_EMPTY or i not in _PLAIN_COLUMNS else cell
        )
    amount = (
        """'<c r="M' || n || '" s="' || :won_xf || '"><v>' || v12 || '</v></c>'"""
        """ || '<c r="N' || n || '" s="' || :cheonwon_xf || '"><v>' || v12 || '</v></c>'"""
    )
    row = """'<row r="' || n || '">' || """ + " || ".join(cells) + f" || {amount} || '</row>'"
    return f"""
        WITH {label_cte}, cells AS (
          SELECT {values}, row_number() OVER (ORDER BY c.contract_date, c.id) + 1 AS n {source}
        )
        SELECT {row} AS xml FROM cells ORDER BY n"""


def label_params(lang: str) -> dict[str, list[str]]:
    from service.contracts.labels import CHANNELS
    from service.registry.districts import BY_CODE as DISTRICTS
    from service.reports.labels import AGENCY_TYPES, FIRM_TYPES

    index = 0 if lang == "ko" else 1
    params: dict[str, list[str]] = {}
    for key, table in (("lat", AGENCY_TYPES), ("lft", FIRM_TYPES), ("lch", CHANNELS)):
        params[f"{key}_codes"] = list(table)
        params[f"{key}_labels"] = [names[index] for names in table.values()]
    params["ldi_codes"] = list(DISTRICTS)
    params["ldi_labels"] = [d.name_ko if lang == "ko" else d.name_en for d in DISTRICTS.values()]
    return params


_NAMED = re.compile(r"(?<![:\w]):([a-z_]+)")


def positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """`:name` parameters → asyncpg's `$n`, with the argument list in order."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _NAMED.sub(number, sql), [params[name] for name in order]


async def raw_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside its (begun) transaction."""
    connection = await session.connection()
    await connection.execute(text("SELECT 1"))  # begins the transaction that cursors need
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def copy_export_xlsx_rows(
    session: AsyncSession,
    f: SalesFilter,
    lang: str,
    won_xf: int,
    cheonwon_xf: int,
    output: Callable[[bytes], Awaitable[None]],
) -> None:
    """COPY the worksheet rows (one `<row>` per line) to `output`, chunk by chunk."""
    where, params = contract_where(f)
    named = {**params, **label_params(lang), "won_xf": str(won_xf), "cheonwon_xf": str(cheonwon_xf)}
    sql, args = positional(export_xlsx_rows_sql(where, lang), named)
    raw = await raw_connection(session)
    await raw.copy_from_query(sql, *args, output=output, format="text")


async def copy_export_csv(session: AsyncSession, f: SalesFilter, lang: str, headers: list[str]) -> AsyncIterator[bytes]:
    """The export as CSV written by PostgreSQL itself (COPY … TO STDOUT), streamed in chunks."""
    where, params = contract_where(f)
    sql, args = positional(export_cells_sql(where, lang, headers), {**params, **label_params(lang)})
    raw = await raw_connection(session)
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=16)

    async def put(chunk: bytes) -> None:
        await queue.put(bytes(chunk))

    async def run() -> None:
        try:
            await raw.copy_from_query(sql, *args, output=put, format="csv", header=True)
        finally:
            await queue.put(None)

    task = asyncio.create_task(run())
    try:
        while (chunk := await queue.get()) is not None:
            yield chunk
        await task  # re-raise a failure of the COPY
    finally:
        if not task.done():
            task.cancel()
