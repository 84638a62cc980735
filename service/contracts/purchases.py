"""Purchase records and yearly targets: staff entry and CSV/XLSX import.

The import is all or nothing: every row is checked first and any error rejects the whole
file, listing each bad row; a dry run checks and reports what would be written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.models import MAX_AMOUNT_KRW, PurchaseRecord, PurchaseTarget
from service.contracts.schemas import ImportResult, PurchaseIn
from service.identity.audit import record_audit
from service.identity.principal import Principal
from service.lib import tabular
from service.lib.clock import now
from service.lib.errors import FieldErrors, NotFound, ValidationFailed
from service.lib.tabular import TabularFileError, off_loop
from service.registry.models import Organization, OrganizationKind

MAX_IMPORT_ROWS = 20_000
MIN_YEAR, MAX_YEAR = 2000, 2100

# Header aliases (Korean and English) → field.
HEADERS = {
    "agency": "agency", "agency_id": "agency", "agency_name": "agency", "기관": "agency", "기관명": "agency",
    "year": "year", "연도": "year", "년도": "year",
    "kind": "kind", "구분": "kind",
    "amount_krw": "amount_krw", "amount": "amount_krw", "금액": "amount_krw", "금액(원)": "amount_krw",
    "note": "note", "비고": "note",
}  # fmt: skip
KINDS = {"target": "target", "목표": "target", "purchase": "purchase", "구매": "purchase", "구매실적": "purchase"}


@dataclass(frozen=True)
class ImportRow:
    row: int
    agency_id: uuid.UUID
    year: int
    kind: str
    amount_krw: int
    note: str


class AgencyNames:
    """Agencies as an import names them: by id, or by a name only one agency has."""

    def __init__(self, agencies: Iterable[tuple[uuid.UUID, str]]) -> None:
        self.by_id: dict[str, uuid.UUID] = {}
        self.by_name: dict[str, list[uuid.UUID]] = {}
        for agency_id, name in agencies:
            self.by_id[str(agency_id)] = agency_id
            self.by_name.setdefault(name.strip(), []).append(agency_id)

    def find(self, ref: str, errors: FieldErrors, field: str) -> uuid.UUID | None:
        agency_id = self.by_id.get(ref.lower())
        if agency_id is not None:
            return agency_id
        matches = self.by_name.get(ref, [])
        if len(matches) == 1:
            return matches[0]
        errors.add(field, "unknown agency" if not matches else "several agencies have this name")
        return None


def check_row(index: int, cell: dict[str, Any], agencies: AgencyNames, errors: FieldErrors) -> ImportRow | None:
    """One row of a purchase file (agency, year, kind, amount, note), or None with its errors added."""
    prefix = f"row {index}."
    before = len(errors.items)
    agency_id = agencies.find(str(cell.get("agency") or "").strip(), errors, prefix + "agency")
    year = parse_amount(cell.get("year"))
    if year is None:
        errors.add(prefix + "year", "must be a year like 2021")
    else:
        check_year(year, errors, prefix + "year")
    kind = KINDS.get(str(cell.get("kind") or "").strip().lower())
    if kind is None:
        errors.add(prefix + "kind", "must be target (목표) or purchase (구매)")
    amount = parse_amount(cell.get("amount_krw"))
    low = 0 if kind == "target" else 1
    if amount is None or not low <= amount <= MAX_AMOUNT_KRW:
        errors.add(prefix + "amount_krw", f"must be a whole number of 원 from {low} to {MAX_AMOUNT_KRW:,}")
    note = str(cell.get("note") or "").strip()
    if len(note) > 2000:
        errors.add(prefix + "note", "must be at most 2,000 characters")
    if len(errors.items) > before or agency_id is None or year is None or kind is None or amount is None:
        return None
    return ImportRow(index, agency_id, year, kind, amount, note)


def check_year(year: int, errors: FieldErrors, field: str = "year") -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors.add(field, f"must be between {MIN_YEAR} and {MAX_YEAR}")


def parse_amount(raw: Any) -> int | None:
    """Whole 원 from a cell: 1,234,000 / "1234000" / 1234000.0; None if not a whole number."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    text = str(raw or "").strip().replace(",", "").replace(" ", "").removesuffix("원")
    if not text.lstrip("-").isdigit():
        return None
    return int(text)


def read_rows(content: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows of a CSV or XLSX file (read as every import reads them: service.lib.tabular) as
    {field: cell} by known headers. XLSX formula cells give the value the spreadsheet cached."""
    try:
        table = tabular.read_table(content, filename, max_rows=MAX_IMPORT_ROWS, formulas=False)
    except TabularFileError as exc:
        raise ValidationFailed.single("file", str(exc)) from None
    raw_rows = [r for r in table if any(r)]
    if not raw_rows:
        raise ValidationFailed.single("file", "the file is empty")
    header = [HEADERS.get(c.strip().lower(), HEADERS.get(c.strip(), "")) for c in raw_rows[0]]
    missing = {"agency", "year", "kind", "amount_krw"} - set(header)
    if missing:
        raise ValidationFailed.single("file", "missing column(s): " + ", ".join(sorted(missing)))
    if len(raw_rows) - 1 > MAX_IMPORT_ROWS:
        raise ValidationFailed.single("file", f"at most {MAX_IMPORT_ROWS:,} rows per file")
    out = []
    for cells in raw_rows[1:]:
        out.append({name: cells[i] if i < len(cells) else None for i, name in enumerate(header) if name})
    return out


class PurchaseService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _agency(self, agency_id: uuid.UUID) -> Organization:
        org = await self.session.get(Organization, agency_id)
        if org is None or org.kind != OrganizationKind.AGENCY:
            raise NotFound("No such agency.")
        return org

    async def record_purchase(self, staff: Principal, data: PurchaseIn, source: str = "manual") -> PurchaseRecord:
        errors = FieldErrors()
        check_year(data.year, errors)
        if not 0 < data.amount_krw <= MAX_AMOUNT_KRW:
            errors.add("amount_krw", f"must be a whole number of 원 from 1 to {MAX_AMOUNT_KRW:,}")
        if len(data.note) > 2000:
            errors.add("note", "must be at most 2,000 characters")
        errors.raise_if_any()
        await self._agency(data.agency_id)
        record = PurchaseRecord(
            agency_id=data.agency_id,
            year=data.year,
            amount_krw=data.amount_krw,
            note=data.note.strip(),
            source=source,
            recorded_by=staff.user_id,
        )
        self.session.add(record)
        await self.session.flush()
        await record_audit(
            self.session,
            actor_id=staff.user_id,
            action="purchase.record",
            target_type="organization",
            target_id=data.agency_id,
            changes={"year": data.year, "amount_krw": data.amount_krw},
        )
        return record

    async def set_target(self, staff: Principal, agency_id: uuid.UUID, year: int, target_krw: int) -> PurchaseTarget:
        errors = FieldErrors()
        check_year(year, errors)
        if not 0 <= target_krw <= MAX_AMOUNT_KRW:
            errors.add("target_krw", f"must be a whole number of 원 from 0 to {MAX_AMOUNT_KRW:,}")
        errors.raise_if_any()
        await self._agency(agency_id)
        old = await self.session.scalar(
            select(PurchaseTarget.target_krw).where(PurchaseTarget.agency_id == agency_id, PurchaseTarget.year == year)
        )
        await self.session.execute(
            insert(PurchaseTarget)
            .values(agency_id=agency_id, year=year, target_krw=target_krw, set_by=staff.user_id)
            .on_conflict_do_update(
                constraint="uq_purchase_targets_agency_year",
                set_={"target_krw": target_krw, "set_by": staff.user_id, "updated_at": now()},
            )
        )
        await record_audit(
            self.session,
            actor_id=staff.user_id,
            action="target.set",
            target_type="organization",
            target_id=agency_id,
            changes={"year": year, "target_krw": {"old": old, "new": target_krw}},
        )
        target = await self.session.scalar(
            select(PurchaseTarget)
            .where(PurchaseTarget.agency_id == agency_id, PurchaseTarget.year == year)
            .execution_options(populate_existing=True)
        )
        assert target is not None
        return target

    async def list_purchases(
        self, year: int | None, agency_id: uuid.UUID | None, offset: int, limit: int
    ) -> tuple[list[PurchaseRecord], int]:
        conditions = []
        if year is not None:
            conditions.append(PurchaseRecord.year == year)
        if agency_id is not None:
            conditions.append(PurchaseRecord.agency_id == agency_id)
        total = await self.session.scalar(select(func.count()).select_from(PurchaseRecord).where(*conditions)) or 0
        rows = await self.session.scalars(
            select(PurchaseRecord)
            .where(*conditions)
            .order_by(PurchaseRecord.year.desc(), PurchaseRecord.created_at.desc(), PurchaseRecord.id)
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total

    async def import_file(self, staff: Principal, content: bytes, filename: str, *, dry_run: bool) -> ImportResult:
        """Check every row of a CSV/XLSX file (read in a worker thread); write them unless a dry run."""
        rows = await self.check_rows(await off_loop(read_rows, content, filename))
        targets = [r for r in rows if r.kind == "target"]
        purchases = [r for r in rows if r.kind == "purchase"]
        result = ImportResult(
            dry_run=dry_run,
            rows=len(rows),
            targets=len(targets),
            purchases=len(purchases),
            purchases_krw=sum(r.amount_krw for r in purchases),
            applied=not dry_run,
        )
        if dry_run:
            return result
        for row in targets:
            await self.set_target(staff, row.agency_id, row.year, row.amount_krw)
        if purchases:
            self.session.add_all(
                PurchaseRecord(
                    agency_id=r.agency_id,
                    year=r.year,
                    amount_krw=r.amount_krw,
                    note=r.note,
                    source="import",
                    recorded_by=staff.user_id,
                )
                for r in purchases
            )
            await self.session.flush()
        await record_audit(
            self.session, actor_id=staff.user_id, action="purchase.import", target_type="purchase_records",
            target_id=None,
            changes={"rows": len(rows), "targets": len(targets), "purchases": len(purchases),
                     "purchases_krw": result.purchases_krw},
        )  # fmt: skip
        return result

    async def check_rows(self, cells: list[dict[str, Any]]) -> list[ImportRow]:
        """Validate every row; raise one ValidationFailed listing all bad cells as `row N.field`."""
        agencies = AgencyNames(
            (
                await self.session.execute(
                    select(Organization.id, Organization.name).where(Organization.kind == OrganizationKind.AGENCY)
                )
            ).tuples()
        )
        errors = FieldErrors()
        out: list[ImportRow] = []
        seen_targets: dict[tuple[uuid.UUID, int], int] = {}
        for index, cell in enumerate(cells, start=2):  # row 1 is the header
            row = check_row(index, cell, agencies, errors)
            if row is None:
                continue
            if row.kind == "target":
                first = seen_targets.setdefault((row.agency_id, row.year), index)
                if first != index:
                    errors.add(f"row {index}.kind", f"a second target for this agency and year (first in row {first})")
                    continue
            out.append(row)
        errors.raise_if_any()
        if not out:
            raise ValidationFailed.single("file", "no rows to import")
        return out
