"""Bulk import of firms or agencies by staff: validation (importer.py) then one transaction of writes.

Imported organizations get no user account. They are pending, or verified when staff tick it.
A dry run writes nothing. With all_or_nothing, any bad row means nothing is written;
without it, the valid rows are written and the bad ones reported. A business number
already registered updates that organization or is reported, as staff choose; one that
belongs to an organization of the other kind is always reported.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.identity.audit import record_audit
from service.identity.principal import Principal
from service.lib.clock import now
from service.lib.errors import Forbidden, ValidationFailed
from service.lib.tabular import off_loop
from service.registry.importer import (
    SPECS,
    ImportFileError,
    ImportOptions,
    ImportOutcome,
    ImportSpec,
    RowError,
    parse,
)
from service.registry.models import Organization, OrganizationKind, OrganizationStatus
from service.registry.service import OrganizationService

BATCH = 1000
OTHER_KIND_REASON = {
    OrganizationKind.FIRM: "already registered as a firm",
    OrganizationKind.AGENCY: "already registered as an agency",
}


def optional_defaults(spec: ImportSpec) -> dict[str, Any]:
    """Every inserted row gets every column of the kind, so executemany sends one statement shape."""
    return {f: [] if f in ("keywords",) else None for f in spec.optional_fields}


class ImportService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def import_organizations(
        self, staff: Principal, kind: OrganizationKind, content: bytes, filename: str, options: ImportOptions
    ) -> ImportOutcome:
        """Validate every row of a firm or agency file; write the valid ones unless told not to."""
        if not staff.is_staff:
            raise Forbidden("Only support-center staff may import organizations.")
        if options.on_duplicate not in {"update", "report"}:
            raise ValidationFailed.single("on_duplicate", "must be 'update' or 'report'")
        spec = SPECS[kind]
        known = await OrganizationService(self.session).known_category_codes()
        try:
            # Reading and checking up to 20,000 rows is CPU work: a worker thread keeps the loop free.
            parsed = await off_loop(parse, content, filename, known, spec)
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
                if existing[number][1] != kind:
                    reason = OTHER_KIND_REASON[existing[number][1]]
                    errors.append(RowError(row.row, "사업자등록번호", number, reason))
                    continue
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
        defaults = optional_defaults(spec)
        for start in range(0, len(to_create), BATCH):
            values = [
                {
                    "id": uuid.uuid4(),
                    "kind": kind,
                    "status": status,
                    "status_changed_at": stamp,
                    "created_at": stamp,
                    "updated_at": stamp,
                    **defaults,
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
                "kind": kind.value,
                "created": len(to_create),
                "updated": len(to_update),
                "skipped_rows": len(errors),
                "verified": options.verify,
                "updated_ids": [str(i) for i, _ in to_update][:1000],
            },
        )
        return ImportOutcome(parsed.total, valid, len(to_create), len(to_update), errors, False, True)
