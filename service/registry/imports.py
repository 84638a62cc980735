"""Bulk import of firms by staff: validation (importer.py) then one transaction of writes.

Imported firms get no user account. They are pending, or verified when staff tick it.
A dry run writes nothing. With all_or_nothing, any bad row means nothing is written;
without it, the valid rows are written and the bad ones reported.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.audit import record_audit
from service.accounts.principal import Principal
from service.lib.clock import now
from service.lib.errors import ValidationFailed
from service.registry.importer import (
    ImportFileError,
    ImportOptions,
    ImportOutcome,
    RowError,
    parse,
)
from service.registry.models import Organization, OrganizationKind, OrganizationStatus
from service.registry.service import OrganizationService

BATCH = 1000
# Every row gets every column so executemany sends one statement shape.
OPTIONAL_DEFAULTS: dict[str, Any] = {
    "region_name": None,
    "phone": None,
    "email": None,
    "certification_number": None,
    "certified_until": None,
    "capacity_krw": None,
    "employees": None,
    "vulnerable_employee_ratio": None,
    "keywords": [],
    "website": None,
}


class ImportService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def import_firms(
        self, staff: Principal, content: bytes, filename: str, options: ImportOptions
    ) -> ImportOutcome:
        if options.on_duplicate not in {"update", "report"}:
            raise ValidationFailed.single("on_duplicate", "must be 'update' or 'report'")
        known = await OrganizationService(self.session).known_category_codes()
        try:
            parsed = parse(content, filename, known)
        except ImportFileError as exc:
            raise ValidationFailed.single("file", str(exc)) from exc
        errors = list(parsed.errors)
        numbers = [r.fields["business_number"] for r in parsed.rows]
        existing: dict[str, tuple[uuid.UUID, OrganizationKind]] = {}
        for start in range(0, len(numbers), 5000):
            chunk = numbers[start : start + 5000]
            result = await self.session.execute(
                select(Organization.business_number, Organization.id, Organization.kind).where(
                    Organization.business_number.in_(chunk)
                )
            )
            existing.update({str(n): (i, k) for n, i, k in result.all()})
        to_create: list[dict[str, Any]] = []
        to_update: list[tuple[uuid.UUID, dict[str, Any]]] = []
        for row in parsed.rows:
            number = row.fields["business_number"]
            if number in existing:
                if options.on_duplicate == "report":
                    errors.append(RowError(row.row, "사업자등록번호", number, "already registered"))
                    continue
                to_update.append((existing[number][0], row.fields))
            else:
                to_create.append(row.fields)
        errors.sort(key=lambda e: e.row)
        valid = len(to_create) + len(to_update)
        write = not options.dry_run and not (options.all_or_nothing and errors)
        if not write:
            return ImportOutcome(parsed.total, valid, 0, 0, errors, options.dry_run, False)
        stamp = now()
        status = OrganizationStatus.VERIFIED if options.verify else OrganizationStatus.PENDING
        for start in range(0, len(to_create), BATCH):
            values = [
                {
                    "id": uuid.uuid4(),
                    "kind": OrganizationKind.FIRM,
                    "status": status,
                    "status_changed_at": stamp,
                    "created_at": stamp,
                    "updated_at": stamp,
                    **OPTIONAL_DEFAULTS,
                    **fields,
                }
                for fields in to_create[start : start + BATCH]
            ]
            await self.session.execute(insert(Organization), values)
        for org_id, fields in to_update:
            await self.session.execute(
                update(Organization)
                .where(Organization.id == org_id)
                .values(**fields, updated_at=stamp)
                .execution_options(synchronize_session=False)
            )
        await record_audit(
            self.session,
            actor_id=staff.user_id,
            action="organization.import",
            target_type="organization",
            target_id=None,
            changes={
                "file": filename,
                "created": len(to_create),
                "updated": len(to_update),
                "skipped_rows": len(errors),
                "verified": options.verify,
                "updated_ids": [str(i) for i, _ in to_update][:1000],
            },
        )
        return ImportOutcome(parsed.total, valid, len(to_create), len(to_update), errors, False, True)
