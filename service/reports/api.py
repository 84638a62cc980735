"""JSON API of the figures and their files (CSV, XLSX, OCDS), and background export jobs."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from service.config import Settings
from service.contracts.targets import check_year
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.amounts import change_rate
from service.lib.deps import provide_service
from service.lib.errors import ValidationFailed
from service.lib.i18n import set_locale
from service.reports import exports
from service.reports.export_service import ExportService, stream_contracts
from service.reports.repository import SalesFilter
from service.reports.schemas import (
    ExportJobOut,
    FairReportOut,
    SalesReportOut,
    TargetRowOut,
    TargetTotalOut,
    YoyOut,
    YoyRowOut,
    fair_out,
    job_out,
    sales_out,
    target_row_out,
    total_out,
)
from service.reports.service import ReportService

CSV = "text/csv"  # Litestar adds "; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SERVICES = {"reports": provide_service(ReportService), "exports_service": provide_service(ExportService)}


def sales_filter(
    year: int | None, fair_id: list[uuid.UUID] | None, linked_only: bool, channel: list[str] | None = None
) -> SalesFilter:
    check_year(year)
    return SalesFilter(year=year, fair_ids=tuple(fair_id or ()), linked_only=linked_only, channels=tuple(channel or ()))


def check_lang(lang: str) -> str:
    if lang not in ("ko", "en"):
        raise ValidationFailed.single("lang", "must be ko or en")
    set_locale(lang)  # labels of the rows in the file's language
    return lang


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


def file_stream(path: Path, name: str, media_type: str, remove: bool = True) -> Stream:
    """Stream a written file in 64 KiB chunks; a temporary file is removed afterwards."""

    async def chunks() -> AsyncIterator[bytes]:
        try:
            with path.open("rb") as handle:
                while block := handle.read(65536):
                    yield block
        finally:
            if remove:
                path.unlink(missing_ok=True)  # noqa: ASYNC240
                if path.parent.name.startswith("pm-export-"):
                    path.parent.rmdir()

    return Stream(chunks(), media_type=media_type, headers=attachment(name))


def temp_path(suffix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix="pm-export-")) / f"export{suffix}"


def describe(f: SalesFilter, group_by: str | None = None) -> str:
    parts = [f"year={f.year or 'all'}"]
    if f.fair_ids:
        parts.append("fairs=" + ",".join(str(x) for x in f.fair_ids))
    if f.linked_only:
        parts.append("linked_only")
    if group_by:
        parts.append(f"group_by={group_by}")
    return "; ".join(parts)


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    dependencies = SERVICES

    @get("/sales")
    async def sales_report(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        group_by: FromQuery[str] = "fair",
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        channel: FromQuery[list[str] | None] = None,
    ) -> SalesReportOut:
        """Confirmed contracts grouped by fair, agency, agency_type, firm, firm_type, district, category or month.

        `total.meetings` counts meetings held (booked or held, not cancelled or no-show) in the
        covered fairs (named by `fair_id`, else those held in `year`); `agencies`/`firms` count
        their distinct participants. Agencies and firms see only their own rows.
        """
        f = sales_filter(year, fair_id, linked_only, channel)
        return sales_out(await reports.sales(viewer, f, group_by))

    @get("/sales.csv", media_type=CSV)
    async def sales_csv(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        exports_service: NamedDependency[ExportService],
        group_by: FromQuery[str] = "fair",
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        lang: FromQuery[str] = "ko",
    ) -> Response[bytes]:
        """The sales report as CSV (UTF-8 with BOM), the last row the totals with meetings, agencies, firms."""
        check_lang(lang)
        report = await reports.sales(viewer, sales_filter(year, fair_id, linked_only), group_by)
        body = b"".join(exports.csv_chunks(exports.header("sales", lang), exports.sales_rows(report, lang)))
        await exports_service.audit(viewer, "sales_csv", {**report.filter.describe(), "group_by": group_by,
                                                                     "lang": lang}, len(report.rows))  # fmt: skip
        return Response(body, media_type=CSV, headers=attachment(f"sales-{year or 'all'}-{group_by}.csv"))

    @get("/sales.xlsx", media_type=XLSX)
    async def sales_xlsx(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        exports_service: NamedDependency[ExportService],
        group_by: FromQuery[str] = "fair",
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        lang: FromQuery[str] = "ko",
    ) -> Stream:
        """The sales report as XLSX: sheet 연계매출 (rows, 원 and 천원, totals row) and 요약 (totals)."""
        check_lang(lang)
        report = await reports.sales(viewer, sales_filter(year, fair_id, linked_only), group_by)
        path = temp_path(".xlsx")
        exports.sales_xlsx(report, path, lang, describe(report.filter, group_by))
        await exports_service.audit(viewer, "sales_xlsx", {**report.filter.describe(), "group_by": group_by,
                                                                      "lang": lang}, len(report.rows))  # fmt: skip
        return file_stream(path, f"sales-{year or 'all'}-{group_by}.xlsx", XLSX)

    @get("/sales/yoy")
    async def sales_year_over_year(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        year: FromQuery[int],
        group_by: FromQuery[str] = "agency_type",
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
    ) -> YoyOut:
        """The year against the year before, per group (change_rate 0.25 = +25%)."""
        rows, current, previous = await reports.year_over_year(
            viewer, sales_filter(year, fair_id, linked_only), group_by
        )
        return YoyOut(
            group_by=group_by,
            year=year,
            previous_year=year - 1,
            rows=[
                YoyRowOut(
                    key=r.key,
                    label=r.label,
                    contracts=r.contracts,
                    amount_krw=r.amount_krw,
                    previous_contracts=r.previous_contracts,
                    previous_amount_krw=r.previous_amount_krw,
                    change_rate=r.change_rate,
                )
                for r in rows
            ],
            total=total_out(current),
            previous_total=total_out(previous),
            change_rate=change_rate(current.amount_krw, previous.amount_krw),
        )

    @get("/fairs")
    async def fair_report(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
    ) -> FairReportOut:
        """Staff: per fair, agencies, firms, meetings held, linked contracts and linked sales (any date)."""
        report = await reports.fair_summary(viewer, year, tuple(fair_id or ()))
        return FairReportOut(fairs=[fair_out(f) for f in report.fairs], total=fair_out(report.total, total=True))

    @get("/fairs.csv", media_type=CSV)
    async def fair_report_csv(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        exports_service: NamedDependency[ExportService],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        lang: FromQuery[str] = "ko",
    ) -> Response[bytes]:
        """The fair summary as CSV, with the totals row (agencies and firms counted once)."""
        check_lang(lang)
        report = await reports.fair_summary(viewer, year, tuple(fair_id or ()))
        body = b"".join(exports.csv_chunks(exports.header("fairs", lang), exports.fair_rows(report, lang)))
        filters = {"year": year, "fair_ids": [str(f) for f in fair_id or []], "lang": lang}
        await exports_service.audit(viewer, "fairs_csv", filters, len(report.fairs))
        return Response(body, media_type=CSV, headers=attachment(f"fairs-{year or 'all'}.csv"))

    @get("/fairs.xlsx", media_type=XLSX)
    async def fair_report_xlsx(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        exports_service: NamedDependency[ExportService],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        lang: FromQuery[str] = "ko",
    ) -> Stream:
        """The fair summary as XLSX (sheet 상담회)."""
        check_lang(lang)
        report = await reports.fair_summary(viewer, year, tuple(fair_id or ()))
        path = temp_path(".xlsx")
        exports.fairs_xlsx(report, path, lang)
        filters = {"year": year, "fair_ids": [str(f) for f in fair_id or []], "lang": lang}
        await exports_service.audit(viewer, "fairs_xlsx", filters, len(report.fairs))
        return file_stream(path, f"fairs-{year or 'all'}.xlsx", XLSX)

    @get("/targets")
    async def target_report(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        year: FromQuery[int],
    ) -> list[TargetRowOut]:
        """Per agency: target, actual (confirmed contracts + recorded purchases) and achievement rate."""
        report = await reports.targets(viewer, year)
        return [target_row_out(r) for r in report.rows]

    @get("/targets/total")
    async def target_total(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        year: FromQuery[int],
    ) -> TargetTotalOut:
        """All agencies together: target, actual and achievement rate."""
        report = await reports.targets(viewer, year)
        t = report.total
        return TargetTotalOut(
            year=year,
            agencies=len(report.rows),
            target_krw=t.target_krw,
            actual_krw=t.actual_krw,
            achievement_rate=t.achievement_rate,
            contracts_krw=t.contracts_krw,
            purchases_krw=t.purchases_krw,
        )

    @get("/targets.csv", media_type=CSV)
    async def target_report_csv(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        exports_service: NamedDependency[ExportService],
        year: FromQuery[int],
        lang: FromQuery[str] = "ko",
    ) -> Response[bytes]:
        check_lang(lang)
        report = await reports.targets(viewer, year)
        body = b"".join(exports.csv_chunks(exports.header("targets", lang), exports.target_rows(report, lang)))
        await exports_service.audit(viewer, "targets_csv", {"year": year, "lang": lang}, len(report.rows))
        return Response(body, media_type=CSV, headers=attachment(f"targets-{year}.csv"))

    @get("/targets.xlsx", media_type=XLSX)
    async def target_report_xlsx(
        self,
        viewer: NamedDependency[Principal],
        reports: NamedDependency[ReportService],
        exports_service: NamedDependency[ExportService],
        year: FromQuery[int],
        lang: FromQuery[str] = "ko",
    ) -> Stream:
        check_lang(lang)
        report = await reports.targets(viewer, year)
        path = temp_path(".xlsx")
        exports.targets_xlsx(report, path, lang)
        await exports_service.audit(viewer, "targets_xlsx", {"year": year, "lang": lang}, len(report.rows))
        return file_stream(path, f"targets-{year}.xlsx", XLSX)


class ExportController(Controller):
    path = "/api/v1/exports"
    tags = ["reports"]
    dependencies = SERVICES

    async def _contracts(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        service: ExportService,
        kind: str,
        f: SalesFilter,
        lang: str,
    ) -> Response[Any]:
        f, total, job = await service.start(viewer, kind, f, lang)
        if job is not None:
            return Response(
                job_out(job),
                status_code=202,
                media_type=MediaType.JSON,
                headers={"Location": f"/api/v1/exports/jobs/{job.id}"},
            )
        await service.audit(viewer, kind, {**f.describe(), "lang": lang}, total)
        name = f"contracts-{f.year or 'all'}"
        if kind == "contracts_xlsx":
            path = temp_path(".xlsx")
            await service.write_contracts_xlsx(f, lang, path)
            return file_stream(path, name + ".xlsx", XLSX)
        body = stream_contracts(request.app.state.sessionmaker, kind, f, lang, str(request.url))
        if kind == "ocds":
            return Stream(body, media_type="application/json", headers=attachment(f"ocds-{f.year or 'all'}.json"))
        return Stream(body, media_type=CSV, headers=attachment(name + ".csv"))

    @get("/contracts.csv", media_type=CSV)
    async def export_contracts_csv(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        exports_service: NamedDependency[ExportService],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        lang: FromQuery[str] = "ko",
    ) -> Response[Any]:
        """Every confirmed contract behind the figures, streamed; over 100,000 rows: 202 and a background job."""
        check_lang(lang)
        return await self._contracts(
            request,
            viewer,
            exports_service,
            "contracts_csv",
            sales_filter(year, fair_id, linked_only),
            lang,
        )

    @get("/contracts.xlsx", media_type=XLSX)
    async def export_contracts_xlsx(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        exports_service: NamedDependency[ExportService],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        lang: FromQuery[str] = "ko",
    ) -> Response[Any]:
        """Every confirmed contract as XLSX (sheet 계약목록, 원 and 천원, totals row); large: a background job."""
        check_lang(lang)
        return await self._contracts(
            request,
            viewer,
            exports_service,
            "contracts_xlsx",
            sales_filter(year, fair_id, linked_only),
            lang,
        )

    @get("/ocds.json", guards=[staff_only])
    async def export_ocds(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Principal],
        exports_service: NamedDependency[ExportService],
        year: FromQuery[int | None] = None,
    ) -> Response[Any]:
        """Staff: an OCDS 1.1 release package, one release per confirmed contract of the year."""
        return await self._contracts(request, staff, exports_service, "ocds", SalesFilter(year=check_year(year)), "ko")

    @get("/jobs/{job_id:uuid}")
    async def get_export_job(
        self,
        job_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        exports_service: NamedDependency[ExportService],
    ) -> ExportJobOut:
        """A background export: status, progress (0–1) and, when done, its download link."""
        return job_out(await exports_service.job_for(viewer, job_id))

    @get("/jobs/{job_id:uuid}/download")
    async def download_export(
        self,
        job_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal],
        exports_service: NamedDependency[ExportService],
        settings: NamedDependency[Settings],
    ) -> Stream:
        """The file of a finished background export (its requester or staff)."""
        job, path = await exports_service.ready_file(viewer, job_id, settings)
        media = {"contracts_csv": CSV, "contracts_xlsx": XLSX, "ocds": "application/json"}[job.kind]
        year = job.params.get("year") or "all"
        return file_stream(path, f"{job.kind.replace('_', '-')}-{year}{path.suffix}", media, remove=False)


ROUTES = [ReportController, ExportController]
