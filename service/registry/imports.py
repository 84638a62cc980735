"""Bulk import of firms or agencies by staff: validation (importer.py) then one transaction of writes.

Imported organizations get no user account. They are pending, or verified when staff tick it.
A dry run writes nothing. With all_or_nothing, any bad row means nothing is written;
without it, the valid rows are written and the bad ones reported. A business number
already registered updates that organization or is reported, as staff choose; one that
belongs to an organization of the other kind is always reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    ParsedRow,
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
        registered = await self._registered([r.fields["business_number"] for r in parsed.rows])
        plan = plan_writes(parsed.rows, registered, kind, options)
        errors = sorted([*parsed.errors, *plan.errors], key=lambda e: e.row)
        valid = len(plan.to_create) + len(plan.to_update)
        if options.dry_run or (options.all_or_nothing and errors):
            return ImportOutcome(parsed.total, valid, 0, 0, errors, options.dry_run, False)
        await self._write(spec, kind, options, plan)
        await record_audit(
            self.session,
            actor_id=staff.user_id,
            action="organization.import",
            target_type="organization",
            target_id=None,
            changes={
                "file": filename,
                "kind": kind.value,
                "created": len(plan.to_create),
                "updated": len(plan.to_update),
                "skipped_rows": len(errors),
                "verified": options.verify,
                "updated_ids": [str(i) for i, _ in plan.to_update][:1000],
            },
        )
        return ImportOutcome(parsed.total, valid, len(plan.to_create), len(plan.to_update), errors, False, True)

    async def _registered(self, numbers: list[str]) -> dict[str, tuple[uuid.UUID, OrganizationKind]]:
        """The organizations already holding any of these business numbers, by number."""
        registered: dict[str, tuple[uuid.UUID, OrganizationKind]] = {}
        for start in range(0, len(numbers), 5000):
            chunk = numbers[start : start + 5000]
            result = await self.session.execute(
                select(Organization.business_number, Organization.id, Organization.kind).where(
                    Organization.business_number.in_(chunk)
                )
            )
            registered.update({str(n): (i, k) for n, i, k in result.all()})
        return registered

    async def _write(self, spec: ImportSpec, kind: OrganizationKind, options: ImportOptions, plan: WritePlan) -> None:
        stamp = now()
        status = OrganizationStatus.VERIFIED if options.verify else OrganizationStatus.PENDING
        defaults = optional_defaults(spec)
        for start in range(0, len(plan.to_create), BATCH):
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
                for fields in plan.to_create[start : start + BATCH]
            ]
            await self.session.execute(insert(Organization), values)
        for org_id, fields in plan.to_update:
            await self.session.execute(
                update(Organization)
                .where(Organization.id == org_id)
                .values(**fields, updated_at=stamp)
                .execution_options(synchronize_session=False)
            )


@dataclass
class WritePlan:
    """What an import writes: new organizations, updates of registered ones, and the rows refused."""

    to_create: list[dict[str, Any]] = field(default_factory=list)
    to_update: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def plan_writes(
    rows: Iterable[ParsedRow],
    registered: dict[str, tuple[uuid.UUID, OrganizationKind]],
    kind: OrganizationKind,
    options: ImportOptions,
) -> WritePlan:
    """A row whose business number is new creates an organization; one registered as the same kind is
    updated (on_duplicate="update") or reported ("report"); one registered as the other kind is
    always reported."""
    plan = WritePlan()
    for row in rows:
        number = row.fields["business_number"]
        if number not in registered:
            plan.to_create.append(row.fields)
            continue
        org_id, registered_kind = registered[number]
        if registered_kind != kind:
            plan.errors.append(RowError(row.row, "사업자등록번호", number, OTHER_KIND_REASON[registered_kind]))
        elif options.on_duplicate == "report":
            plan.errors.append(RowError(row.row, "사업자등록번호", number, "already registered"))
        else:
            plan.to_update.append((org_id, row.fields))
    return plan
