"""Running exports: audit rows, the choice between streaming and a background job, and the job.

An export of more than LARGE_EXPORT_ROWS rows becomes an `export_jobs` row; the timed job
claims it with FOR UPDATE SKIP LOCKED (safe with several processes), writes the file under
DATA_DIR/exports in batches while updating the progress, and marks it done. Files live on the
local disk of the instance that wrote them: with several hosts, DATA_DIR must be shared.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.identity.audit import record_audit
from service.identity.principal import Principal, require_staff
from service.lib.clock import now
from service.lib.errors import Conflict, NotFound, ValidationFailed
from service.reports import repository as repo
from service.reports.exports import BOM, LARGE_EXPORT_ROWS, contracts_xlsx_rows, header, ocds_chunks
from service.reports.models import ExportJob, ExportStatus
from service.reports.repository import SalesFilter
from service.reports.service import scoped

log = logging.getLogger("service.reports.exports")
KINDS = {"contracts_csv": "csv", "contracts_xlsx": "xlsx", "ocds": "json"}
STALE_AFTER = timedelta(hours=1)


def exports_dir(settings: Settings) -> Path:
    folder = settings.app.data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def filter_from_params(params: dict[str, Any]) -> SalesFilter:
    return SalesFilter(
        year=params.get("year"),
        fair_ids=tuple(uuid.UUID(f) for f in params.get("fair_ids", [])),
        linked_only=bool(params.get("linked_only")),
        agency_id=uuid.UUID(params["agency_id"]) if params.get("agency_id") else None,
        firm_id=uuid.UUID(params["firm_id"]) if params.get("firm_id") else None,
    )


class ExportService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def audit(
        self, actor: Principal, kind: str, filters: dict[str, Any], rows: int, job_id: uuid.UUID | None = None
    ) -> None:
        """Every export leaves a row: who, when (the audit time), which filters, how many rows."""
        await record_audit(
            self.session,
            actor_id=actor.user_id,
            action=f"export.{kind}",
            target_type="export",
            target_id=job_id,
            changes={"filters": filters, "rows": rows},
        )

    async def create_job(self, actor: Principal, kind: str, f: SalesFilter, lang: str, total: int) -> ExportJob:
        if kind not in KINDS:
            raise ValidationFailed.single("kind", "unknown export")
        params = {**f.describe(), "lang": lang}
        job = ExportJob(requested_by=actor.user_id, kind=kind, params=params, total_rows=total)
        self.session.add(job)
        await self.session.flush()
        await self.session.refresh(job)
        await self.audit(actor, kind, params, total, job.id)
        return job

    async def start(
        self, viewer: Principal, kind: str, f: SalesFilter, lang: str
    ) -> tuple[SalesFilter, int, ExportJob | None]:
        """The caller's rows of a contracts export (its own organization's; staff: all; OCDS: staff only),
        counted; more than LARGE_EXPORT_ROWS become a background job (returned), fewer are streamed at once."""
        if kind == "ocds":
            require_staff(viewer)
        f = scoped(viewer, f)
        total = await repo.count_contract_rows(self.session, f)
        if total > LARGE_EXPORT_ROWS:
            return f, total, await self.create_job(viewer, kind, f, lang, total)
        return f, total, None

    async def write_contracts_xlsx(self, f: SalesFilter, lang: str, path: Path) -> None:
        """The contracts export as XLSX, written to `path` while the request waits (small exports)."""
        rows, amount = await repo.contract_totals(self.session, f)

        async def copy(won_xf: int, cheonwon_xf: int, output: Callable[[bytes], Awaitable[None]]) -> None:
            await repo.copy_export_xlsx_rows(self.session, f, lang, won_xf, cheonwon_xf, output)

        await contracts_xlsx_rows(copy, path, lang, rows, amount)

    async def ready_file(self, viewer: Principal, job_id: uuid.UUID, settings: Settings) -> tuple[ExportJob, Path]:
        """The finished file of a background export (its requester or staff); 409 until it is written."""
        job = await self.job_for(viewer, job_id)
        path = job_file(settings, job)
        if job.status != ExportStatus.DONE or not path.exists():
            raise Conflict("This export is not ready.")
        return job, path

    async def job_for(self, viewer: Principal, job_id: uuid.UUID) -> ExportJob:
        job = await self.session.get(ExportJob, job_id)
        if job is None or not (viewer.is_staff or job.requested_by == viewer.user_id):
            raise NotFound("No such export.")
        return job


async def stream_contracts(
    sessionmaker: async_sessionmaker[AsyncSession], kind: str, f: SalesFilter, lang: str, url: str
) -> AsyncIterator[bytes]:
    """The contracts export as CSV (with BOM) or OCDS JSON, streamed from a server-side cursor.

    Its own connection: the request's session is finished once streaming starts.
    """
    async with sessionmaker() as own:
        if kind == "ocds":
            async for chunk in ocds_chunks(repo.stream_contract_rows(own, f), url):
                yield chunk
        else:
            yield BOM.encode("utf-8")
            async for chunk in repo.copy_export_csv(own, f, lang, header("contracts", lang)):
                yield chunk


def job_file(settings: Settings, job: ExportJob) -> Path:
    return exports_dir(settings) / f"{job.id}.{KINDS[job.kind]}"


async def _claim(sessionmaker: async_sessionmaker[AsyncSession]) -> ExportJob | None:
    async with sessionmaker.begin() as session:
        # A job left running by a process that died is taken up again after an hour.
        await session.execute(
            update(ExportJob)
            .where(ExportJob.status == ExportStatus.RUNNING, ExportJob.started_at < now() - STALE_AFTER)
            .values(status=ExportStatus.QUEUED)
        )
        job = await session.scalar(
            select(ExportJob)
            .where(ExportJob.status == ExportStatus.QUEUED)
            .order_by(ExportJob.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if job is None:
            return None
        job.status = ExportStatus.RUNNING
        job.started_at = now()
        job.done_rows = 0
        await session.flush()
        session.expunge(job)
        return job


async def run_export_jobs(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Write every queued export; return how many were finished. Idempotent and multi-process safe."""
    finished = 0
    while (job := await _claim(sessionmaker)) is not None:
        await run_one(sessionmaker, settings, job)
        finished += 1
    return finished


async def run_one(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, job: ExportJob) -> None:
    path = job_file(settings, job)
    partial = path.with_suffix(path.suffix + ".part")
    f = filter_from_params(job.params)
    lang = str(job.params.get("lang", "ko"))

    async def progress(done: int) -> None:
        async with sessionmaker.begin() as s:
            await s.execute(update(ExportJob).where(ExportJob.id == job.id).values(done_rows=done))

    try:
        async with sessionmaker() as session:
            headers = header("contracts", lang)
            if job.kind == "contracts_xlsx":
                rows, amount = await repo.contract_totals(session, f)

                async def copy(won_xf: int, cheonwon_xf: int, output: Callable[[bytes], Awaitable[None]]) -> None:
                    lines = 0

                    async def counted(chunk: bytes) -> None:
                        nonlocal lines
                        await output(chunk)
                        before, lines = lines, lines + chunk.count(b"\n")
                        if lines // 10_000 > before // 10_000:
                            await progress(lines)

                    await repo.copy_export_xlsx_rows(session, f, lang, won_xf, cheonwon_xf, counted)

                count = await contracts_xlsx_rows(copy, partial, lang, rows, amount)
            else:
                chunks: AsyncIterator[bytes]
                if job.kind == "ocds":
                    uri = f"{settings.app.base_url}/api/v1/exports/jobs/{job.id}/download"
                    chunks = ocds_chunks(_counted(repo.stream_contract_rows(session, f), progress), uri)
                else:
                    chunks = _with_bom(repo.copy_export_csv(session, f, lang, headers), progress, job.total_rows)
                with partial.open("wb") as handle:
                    async for chunk in chunks:
                        handle.write(chunk)
                count = job.total_rows
        partial.replace(path)
        async with sessionmaker.begin() as s:
            await s.execute(
                update(ExportJob)
                .where(ExportJob.id == job.id)
                .values(status=ExportStatus.DONE, done_rows=count, file_name=path.name, finished_at=now())
            )
    except Exception as exc:  # the job must end as failed, with the reason, rather than stay running
        log.exception("export %s failed", job.id)
        partial.unlink(missing_ok=True)
        async with sessionmaker.begin() as s:
            await s.execute(
                update(ExportJob)
                .where(ExportJob.id == job.id)
                .values(status=ExportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=now())
            )


async def _counted(rows: AsyncIterator[Any], progress: Any, every: int = 10_000) -> AsyncIterator[Any]:
    count = 0
    async for row in rows:
        yield row
        count += 1
        if count % every == 0:
            await progress(count)


async def _with_bom(chunks: AsyncIterator[bytes], progress: Any, total: int) -> AsyncIterator[bytes]:
    """The BOM, then PostgreSQL's CSV; progress estimated from the lines written."""
    yield BOM.encode("utf-8")
    lines = reported = 0
    async for chunk in chunks:
        yield chunk
        lines += chunk.count(b"\n")
        if lines - reported >= 10_000:
            reported = lines
            await progress(min(max(lines - 1, 0), total))


async def purge_old_files(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], days: int = 7) -> int:
    """Delete export files older than `days` and forget their jobs' files."""
    removed = 0
    async with sessionmaker.begin() as session:
        rows = await session.execute(
            text("SELECT id, file_name FROM export_jobs WHERE status = 'done' AND finished_at < :cutoff"),
            {"cutoff": now() - timedelta(days=days)},
        )
        for job_id, name in rows.all():
            if name:
                (exports_dir(settings) / name).unlink(missing_ok=True)
                removed += 1
            await session.execute(
                update(ExportJob).where(ExportJob.id == job_id).values(file_name=None, status=ExportStatus.FAILED,
                                                                       error="expired")
            )  # fmt: skip
    return removed
