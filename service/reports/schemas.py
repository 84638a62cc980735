"""Response shapes of the figures."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from service.contracts.targets import TargetRow
from service.reports.models import ExportJob
from service.reports.service import FairSummary, SalesReport, SalesTotal


class SalesRowOut(msgspec.Struct, kw_only=True):
    key: str | None
    label: str
    contracts: int
    amount_krw: int


class SalesTotalOut(msgspec.Struct, kw_only=True):
    contracts: int
    amount_krw: int
    meetings: int
    agencies: int
    firms: int


class SalesReportOut(msgspec.Struct, kw_only=True):
    group_by: str
    year: int | None
    fair_ids: list[uuid.UUID]
    linked_only: bool
    rows: list[SalesRowOut]
    total: SalesTotalOut


def total_out(total: SalesTotal) -> SalesTotalOut:
    return SalesTotalOut(
        contracts=total.contracts,
        amount_krw=total.amount_krw,
        meetings=total.meetings,
        agencies=total.agencies,
        firms=total.firms,
    )


def sales_out(report: SalesReport) -> SalesReportOut:
    return SalesReportOut(
        group_by=report.group_by,
        year=report.filter.year,
        fair_ids=list(report.filter.fair_ids),
        linked_only=report.filter.linked_only,
        rows=[
            SalesRowOut(key=r.key, label=r.label, contracts=r.contracts, amount_krw=r.amount_krw) for r in report.rows
        ],
        total=total_out(report.total),
    )


class YoyRowOut(msgspec.Struct, kw_only=True):
    key: str | None
    label: str
    contracts: int
    amount_krw: int
    previous_contracts: int
    previous_amount_krw: int
    change_rate: float | None


class YoyOut(msgspec.Struct, kw_only=True):
    group_by: str
    year: int
    previous_year: int
    rows: list[YoyRowOut]
    total: SalesTotalOut
    previous_total: SalesTotalOut
    change_rate: float | None


class FairSummaryOut(msgspec.Struct, kw_only=True):
    fair_id: uuid.UUID | None
    name: str
    date: str | None
    agencies: int
    firms: int
    meetings: int
    linked_contracts: int
    linked_sales_krw: int


def fair_out(f: FairSummary, *, total: bool = False) -> FairSummaryOut:
    return FairSummaryOut(
        fair_id=None if total else f.fair_id,
        name=f.name,
        date=None if total else f.first_day,
        agencies=f.agencies,
        firms=f.firms,
        meetings=f.meetings,
        linked_contracts=f.linked_contracts,
        linked_sales_krw=f.linked_sales_krw,
    )


class FairReportOut(msgspec.Struct, kw_only=True):
    fairs: list[FairSummaryOut]
    total: FairSummaryOut


class TargetRowOut(msgspec.Struct, kw_only=True):
    agency_id: str
    name: str
    target_krw: int
    actual_krw: int
    achievement_rate: float | None
    contracts_krw: int
    purchases_krw: int


def target_row_out(row: TargetRow) -> TargetRowOut:
    return TargetRowOut(
        agency_id=row.agency_id,
        name=row.name,
        target_krw=row.target_krw,
        actual_krw=row.actual_krw,
        achievement_rate=row.achievement_rate,
        contracts_krw=row.contracts_krw,
        purchases_krw=row.purchases_krw,
    )


class TargetTotalOut(msgspec.Struct, kw_only=True):
    year: int
    agencies: int
    target_krw: int
    actual_krw: int
    achievement_rate: float | None
    contracts_krw: int
    purchases_krw: int


class ExportJobOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    status: str
    total_rows: int
    done_rows: int
    progress: float
    download_url: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None


def job_out(job: ExportJob) -> ExportJobOut:
    done = job.status == "done"
    return ExportJobOut(
        id=job.id,
        kind=job.kind,
        status=str(job.status),
        total_rows=job.total_rows,
        done_rows=job.done_rows,
        progress=1.0 if done else (round(job.done_rows / job.total_rows, 4) if job.total_rows else 0.0),
        download_url=f"/api/v1/exports/jobs/{job.id}/download" if done and job.file_name else None,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
