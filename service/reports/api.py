"""JSON API of the figures and their files (CSV, XLSX, OCDS), and background export jobs."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.contracts.targets import check_year
from service.identity.principal import Principal, require_principal, require_staff
from service.lib.amounts import change_rate
from service.lib.errors import Conflict, ValidationFailed
from service.lib.i18n import set_locale
from service.reports import exports
from service.reports import repository as repo
from service.reports.export_service import ExportService, job_file
from service.reports.models import ExportStatus
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
from service.reports.service import ReportService, scoped

CSV = "text/csv"  # Litestar adds "; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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

    @get("/sales")
    async def sales_report(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
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
        return sales_out(await ReportService(db_session).sales(require_principal(principal), f, group_by))

    @get("/sales.csv", media_type=CSV)
    async def sales_csv(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        group_by: FromQuery[str] = "fair",
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        lang: FromQuery[str] = "ko",
    ) -> Response[bytes]:
        """The sales report as CSV (UTF-8 with BOM), the last row the totals with meetings, agencies, firms."""
        viewer = require_principal(principal)
        check_lang(lang)
        report = await ReportService(db_session).sales(viewer, sales_filter(year, fair_id, linked_only), group_by)
        body = b"".join(exports.csv_chunks(exports.header("sales", lang), exports.sales_rows(report, lang)))
        await ExportService(db_session).audit(viewer, "sales_csv", {**report.filter.describe(), "group_by": group_by,
                                                                     "lang": lang}, len(report.rows))  # fmt: skip
        return Response(body, media_type=CSV, headers=attachment(f"sales-{year or 'all'}-{group_by}.csv"))

    @get("/sales.xlsx", media_type=XLSX)
    async def sales_xlsx(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        group_by: FromQuery[str] = "fair",
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        lang: FromQuery[str] = "ko",
    ) -> Stream:
        """The sales report as XLSX: sheet 연계매출 (rows, 원 and 천원, totals row) and 요약 (totals)."""
        viewer = require_principal(principal)
        check_lang(lang)
        report = await ReportService(db_session).sales(viewer, sales_filter(year, fair_id, linked_only), group_by)
        path = temp_path(".xlsx")
        exports.sales_xlsx(report, path, lang, describe(report.filter, group_by))
        await ExportService(db_session).audit(viewer, "sales_xlsx", {**report.filter.describe(), "group_by": group_by,
                                                                      "lang": lang}, len(report.rows))  # fmt: skip
        return file_stream(path, f"sales-{year or 'all'}-{group_by}.xlsx", XLSX)

    @get("/sales/yoy")
    async def sales_year_over_year(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int],
        group_by: FromQuery[str] = "agency_type",
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
    ) -> YoyOut:
        """The year against the year before, per group (change_rate 0.25 = +25%)."""
        rows, current, previous = await ReportService(db_session).year_over_year(
            require_principal(principal), sales_filter(year, fair_id, linked_only), group_by
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
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
    ) -> FairReportOut:
        """Staff: per fair, agencies, firms, meetings held, linked contracts and linked sales (any date)."""
        report = await ReportService(db_session).fair_summary(require_principal(principal), year, tuple(fair_id or ()))
        return FairReportOut(fairs=[fair_out(f) for f in report.fairs], total=fair_out(report.total, total=True))

    @get("/fairs.csv", media_type=CSV)
    async def fair_report_csv(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        lang: FromQuery[str] = "ko",
    ) -> Response[bytes]:
        """The fair summary as CSV, with the totals row (agencies and firms counted once)."""
        viewer = require_principal(principal)
        check_lang(lang)
        report = await ReportService(db_session).fair_summary(viewer, year, tuple(fair_id or ()))
        body = b"".join(exports.csv_chunks(exports.header("fairs", lang), exports.fair_rows(report, lang)))
        filters = {"year": year, "fair_ids": [str(f) for f in fair_id or []], "lang": lang}
        await ExportService(db_session).audit(viewer, "fairs_csv", filters, len(report.fairs))
        return Response(body, media_type=CSV, headers=attachment(f"fairs-{year or 'all'}.csv"))

    @get("/fairs.xlsx", media_type=XLSX)
    async def fair_report_xlsx(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        lang: FromQuery[str] = "ko",
    ) -> Stream:
        """The fair summary as XLSX (sheet 상담회)."""
        viewer = require_principal(principal)
        check_lang(lang)
        report = await ReportService(db_session).fair_summary(viewer, year, tuple(fair_id or ()))
        path = temp_path(".xlsx")
        exports.fairs_xlsx(report, path, lang)
        filters = {"year": year, "fair_ids": [str(f) for f in fair_id or []], "lang": lang}
        await ExportService(db_session).audit(viewer, "fairs_xlsx", filters, len(report.fairs))
        return file_stream(path, f"fairs-{year or 'all'}.xlsx", XLSX)

    @get("/targets")
    async def target_report(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int],
    ) -> list[TargetRowOut]:
        """Per agency: target, actual (confirmed contracts + recorded purchases) and achievement rate."""
        report = await ReportService(db_session).targets(require_principal(principal), year)
        return [target_row_out(r) for r in report.rows]

    @get("/targets/total")
    async def target_total(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int],
    ) -> TargetTotalOut:
        """All agencies together: target, actual and achievement rate."""
        report = await ReportService(db_session).targets(require_principal(principal), year)
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
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int],
        lang: FromQuery[str] = "ko",
    ) -> Response[bytes]:
        viewer = require_principal(principal)
        check_lang(lang)
        report = await ReportService(db_session).targets(viewer, year)
        body = b"".join(exports.csv_chunks(exports.header("targets", lang), exports.target_rows(report, lang)))
        await ExportService(db_session).audit(viewer, "targets_csv", {"year": year, "lang": lang}, len(report.rows))
        return Response(body, media_type=CSV, headers=attachment(f"targets-{year}.csv"))

    @get("/targets.xlsx", media_type=XLSX)
    async def target_report_xlsx(
        self,
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int],
        lang: FromQuery[str] = "ko",
    ) -> Stream:
        viewer = require_principal(principal)
        check_lang(lang)
        report = await ReportService(db_session).targets(viewer, year)
        path = temp_path(".xlsx")
        exports.targets_xlsx(report, path, lang)
        await ExportService(db_session).audit(viewer, "targets_xlsx", {"year": year, "lang": lang}, len(report.rows))
        return file_stream(path, f"targets-{year}.xlsx", XLSX)


class ExportController(Controller):
    path = "/api/v1/exports"
    tags = ["reports"]

    async def _contracts(
        self,
        request: Request[Any, Any, Any],
        viewer: Principal,
        session: AsyncSession,
        kind: str,
        f: SalesFilter,
        lang: str,
    ) -> Response[Any]:
        f = scoped(viewer, f)
        total = await repo.count_contract_rows(session, f)
        service = ExportService(session)
        if total > exports.LARGE_EXPORT_ROWS:
            job = await service.create_job(viewer, kind, f, lang, total)
            return Response(
                job_out(job),
                status_code=202,
                media_type=MediaType.JSON,
                headers={"Location": f"/api/v1/exports/jobs/{job.id}"},
            )
        await service.audit(viewer, kind, {**f.describe(), "lang": lang}, total)
        sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
        name = f"contracts-{f.year or 'all'}"
        headers = exports.header("contracts", lang)
        if kind == "contracts_xlsx":
            path = temp_path(".xlsx")
            rows, amount = await repo.contract_totals(session, f)

            async def copy(won_xf: int, cheonwon_xf: int, output: Callable[[bytes], Awaitable[None]]) -> None:
                await repo.copy_export_xlsx_rows(session, f, lang, won_xf, cheonwon_xf, output)

            await exports.contracts_xlsx_rows(copy, path, lang, rows, amount)
            return file_stream(path, name + ".xlsx", XLSX)

        async def body() -> AsyncIterator[bytes]:
            # Its own connection: the request's session is finished once streaming starts.
            async with sessionmaker() as own:
                if kind == "ocds":
                    async for chunk in exports.ocds_chunks(repo.stream_contract_rows(own, f), str(request.url)):
                        yield chunk
                else:
                    yield exports.BOM.encode("utf-8")
                    async for chunk in repo.copy_export_csv(own, f, lang, headers):
                        yield chunk

        if kind == "ocds":
            return Stream(body(), media_type="application/json", headers=attachment(f"ocds-{f.year or 'all'}.json"))
        return Stream(body(), media_type=CSV, headers=attachment(name + ".csv"))

    @get("/contracts.csv", media_type=CSV)
    async def export_contracts_csv(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        lang: FromQuery[str] = "ko",
    ) -> Response[Any]:
        """Every confirmed contract behind the figures, streamed; over 100,000 rows: 202 and a background job."""
        check_lang(lang)
        return await self._contracts(
            request,
            require_principal(principal),
            db_session,
            "contracts_csv",
            sales_filter(year, fair_id, linked_only),
            lang,
        )

    @get("/contracts.xlsx", media_type=XLSX)
    async def export_contracts_xlsx(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
        fair_id: FromQuery[list[uuid.UUID] | None] = None,
        linked_only: FromQuery[bool] = False,
        lang: FromQuery[str] = "ko",
    ) -> Response[Any]:
        """Every confirmed contract as XLSX (sheet 계약목록, 원 and 천원, totals row); large: a background job."""
        check_lang(lang)
        return await self._contracts(
            request,
            require_principal(principal),
            db_session,
            "contracts_xlsx",
            sales_filter(year, fair_id, linked_only),
            lang,
        )

    @get("/ocds.json")
    async def export_ocds(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        year: FromQuery[int | None] = None,
    ) -> Response[Any]:
        """Staff: an OCDS 1.1 release package, one release per confirmed contract of the year."""
        staff = require_staff(principal)
        return await self._contracts(request, staff, db_session, "ocds", SalesFilter(year=check_year(year)), "ko")

    @get("/jobs/{job_id:uuid}")
    async def get_export_job(
        self,
        job_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
    ) -> ExportJobOut:
        """A background export: status, progress (0–1) and, when done, its download link."""
        return job_out(await ExportService(db_session).job_for(require_principal(principal), job_id))

    @get("/jobs/{job_id:uuid}/download")
    async def download_export(
        self,
        job_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal | None],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Stream:
        """The file of a finished background export (its requester or staff)."""
        job = await ExportService(db_session).job_for(require_principal(principal), job_id)
        path = job_file(settings, job)
        if job.status != ExportStatus.DONE or not path.exists():
            raise Conflict("This export is not ready.")
        media = {"contracts_csv": CSV, "contracts_xlsx": XLSX, "ocds": "application/json"}[job.kind]
        year = job.params.get("year") or "all"
        return file_stream(path, f"{job.kind.replace('_', '-')}-{year}{path.suffix}", media, remove=False)


ROUTES = [ReportController, ExportController]
