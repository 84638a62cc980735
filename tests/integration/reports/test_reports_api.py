"""The report endpoints: figures, who sees what, files, audit rows, OCDS, background exports."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook
from referencing import Registry, Resource
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.identity.models import AuditEvent
from service.needs.models import Need
from service.reports.export_service import run_export_jobs
from tests.factories import agency_payload, register
from tests.integration.reports.conftest import Small

Client = AsyncTestClient[Litestar]
Maker = async_sessionmaker[AsyncSession]
OCDS = Path("/work/shared/data/ocds-1.1.5")
if not OCDS.exists():  # the schemas travel with the shared folder next to the repository
    OCDS = Path(__file__).resolve().parents[4] / "shared" / "data" / "ocds-1.1.5"


async def sales(client: Client, who: Any, **params: Any) -> Any:
    response = await client.get("/api/v1/reports/sales", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestSalesFigures:
    async def test_staff_totals_by_fair(self, client: Client, small: Small) -> None:
        body = await sales(client, small.staff, year=2021, group_by="fair")
        rows = {r["key"]: r for r in body["rows"]}
        assert rows[small.fair_id]["amount_krw"] == 15_000_000
        assert rows[small.fair_id]["label"] == "2021 1차 온라인상담회"
        assert rows[None]["amount_krw"] == 1_000
        assert body["total"] == {"contracts": 3, "amount_krw": 15_001_000, "meetings": 2, "agencies": 2, "firms": 2}

    async def test_linked_only_and_fair_filter(self, client: Client, small: Small) -> None:
        body = await sales(client, small.staff, year=2021, group_by="agency_type", linked_only="true")
        assert body["total"]["amount_krw"] == 15_000_000
        assert {r["key"]: r["amount_krw"] for r in body["rows"]} == {"district_office": 10_000_000,
                                                                     "city_affiliate": 5_000_000}  # fmt: skip
        by_fair = await sales(client, small.staff, year=2021, group_by="month", fair_id=small.fair_id)
        assert {r["key"]: r["amount_krw"] for r in by_fair["rows"]} == {"2021-07": 10_000_000, "2021-08": 5_000_000}
        other_year = await sales(client, small.staff, year=2020, group_by="fair")
        assert other_year["total"] == {"contracts": 0, "amount_krw": 0, "meetings": 0, "agencies": 0, "firms": 0}

    async def test_every_group_by_answers(self, client: Client, small: Small) -> None:
        for group_by in ("fair", "agency", "agency_type", "firm", "firm_type", "district", "category", "month"):
            body = await sales(client, small.staff, year=2021, group_by=group_by)
            assert sum(r["amount_krw"] for r in body["rows"]) == 15_001_000, group_by

    async def test_year_over_year(self, client: Client, small: Small) -> None:
        response = await client.get(
            "/api/v1/reports/sales/yoy", params={"year": 2021, "group_by": "agency"}, headers=small.staff.headers
        )
        assert response.status_code == 200
        body = response.json()
        assert body["previous_total"]["amount_krw"] == 0
        assert body["change_rate"] is None
        assert sum(r["amount_krw"] for r in body["rows"]) == 15_001_000

    async def test_fair_summary(self, client: Client, small: Small) -> None:
        response = await client.get("/api/v1/reports/fairs", params={"year": 2021}, headers=small.staff.headers)
        assert response.status_code == 200
        fair = response.json()["fairs"][0]
        assert (fair["agencies"], fair["firms"], fair["meetings"]) == (2, 2, 2)
        assert (fair["linked_contracts"], fair["linked_sales_krw"]) == (2, 15_000_000)
        assert fair["date"] == "2021-06-10"


class TestWhoSeesWhat:
    async def test_agency_sees_its_own_rows(self, client: Client, small: Small) -> None:
        body = await sales(client, small.a1, year=2021, group_by="agency")
        assert [r["key"] for r in body["rows"]] == [small.a1.organization_id]
        assert body["total"]["amount_krw"] == 10_001_000
        assert body["total"]["meetings"] == 1  # its own held meeting, not the cancelled one

    async def test_firm_sees_its_own_rows(self, client: Client, small: Small) -> None:
        body = await sales(client, small.f2, year=2021, group_by="firm")
        assert [r["key"] for r in body["rows"]] == [small.f2.organization_id]
        assert body["total"]["amount_krw"] == 5_001_000
        # even when it names another agency's fair rows or groups, nothing else appears
        other = await sales(client, small.f2, year=2021, group_by="agency")
        assert {r["key"] for r in other["rows"]} == {small.a1.organization_id, small.a2.organization_id}
        assert sum(r["amount_krw"] for r in other["rows"]) == 5_001_000

    async def test_refusals(self, client: Client, small: Small) -> None:
        assert (await client.get("/api/v1/reports/sales", params={"year": 2021})).status_code == 401
        pending = await register(client, agency_payload())
        refused = await client.get("/api/v1/reports/sales", params={"year": 2021}, headers=pending.headers)
        assert refused.status_code == 403
        bad = await client.get("/api/v1/reports/sales", params={"group_by": "colour"}, headers=small.staff.headers)
        assert bad.status_code == 422
        for who in (small.a1, small.f1):
            fairs = await client.get("/api/v1/reports/fairs", params={"year": 2021}, headers=who.headers)
            assert fairs.status_code == 403
            ocds = await client.get("/api/v1/exports/ocds.json", params={"year": 2021}, headers=who.headers)
            assert ocds.status_code == 403
        targets = await client.get("/api/v1/reports/targets", params={"year": 2021}, headers=small.f1.headers)
        assert targets.status_code == 403
        own = await client.get("/api/v1/reports/targets", params={"year": 2021}, headers=small.a1.headers)
        assert own.status_code == 200
        assert [r["agency_id"] for r in own.json()] == [small.a1.organization_id]


class TestFiles:
    async def test_sales_csv_reads_back_and_is_audited(self, client: Client, sessionmaker: Maker, small: Small) -> None:
        response = await client.get(
            "/api/v1/reports/sales.csv", params={"year": 2021, "group_by": "firm"}, headers=small.staff.headers
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][1] == "구분"
        labels = [r[1] for r in rows[1:-1]]
        assert "'=cmd|' /C calc'!A0" in labels  # the firm's name, neutralised
        assert rows[-1][1:] == ["합계", "3", "15001000", "2", "2", "2"]
        async with sessionmaker() as session:
            audit = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "export.sales_csv"))).one()
        assert audit.actor_id == uuid.UUID(small.staff.user_id)
        assert audit.changes["rows"] == 2
        assert audit.changes["filters"]["year"] == 2021

    async def test_sales_xlsx_reads_back(self, client: Client, small: Small) -> None:
        response = await client.get(
            "/api/v1/reports/sales.xlsx",
            params={"year": 2021, "group_by": "fair", "lang": "en"},
            headers=small.staff.headers,
        )
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == ["Linked sales", "Summary"]
        sheet = book["Linked sales"]
        last = list(sheet.iter_rows(values_only=True))[-1]
        assert last[1] == "Total"
        assert last[3] == 15_001_000

    async def test_contract_rows_csv_streams_confirmed_contracts(self, client: Client, small: Small) -> None:
        response = await client.get(
            "/api/v1/exports/contracts.csv", params={"year": 2021, "lang": "en"}, headers=small.staff.headers
        )
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) == 3
        assert sum(int(r["amount_krw"]) for r in rows) == 15_001_000
        assert {r["firm"] for r in rows} == {"'=cmd|' /C calc'!A0", "마포협동조합"}  # neutralised by the query
        assert {r["agency_type"] for r in rows} == {"District office", "City affiliate"}
        assert {r["firm_types"] for r in rows} == {"Social enterprise", "Cooperative"}
        assert all(len(r["business_number"]) == 12 and r["business_number"][3] == "-" for r in rows)
        mine = await client.get("/api/v1/exports/contracts.csv", params={"year": 2021}, headers=small.a2.headers)
        assert len(list(csv.reader(io.StringIO(mine.content.decode("utf-8-sig"))))) == 2  # header + its one

    async def test_contract_rows_xlsx(self, client: Client, small: Small) -> None:
        response = await client.get(
            "/api/v1/exports/contracts.xlsx", params={"year": 2021}, headers=small.staff.headers
        )
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content), data_only=True)["계약목록"]
        values = list(sheet.iter_rows(values_only=True))
        assert len(values) == 1 + 3 + 1
        assert values[-1][0] == "합계"
        assert values[-1][12] == 15_001_000
        assert values[0][12:] == ("금액(원)", "금액(천원)")
        assert sorted(v[12] for v in values[1:-1]) == [1_000, 5_000_000, 10_000_000]
        assert "'=cmd|' /C calc'!A0" in {v[4] for v in values}
        assert {v[3] for v in values[1:-1]} == {"자치구", "투자·출연기관"}
        assert sheet.cell(2, 14).number_format == '#,##0,"천원"'

    async def test_xlsx_keeps_markup_and_control_characters_as_text(self, client: Client, small: Small) -> None:
        from tests.factories_contracts import confirmed_contract

        title = 'A<b>&"c\\d\te'
        await confirmed_contract(client, small.a1, small.f2, title=title, amount_krw=7, contract_date="2021-12-01")
        response = await client.get(
            "/api/v1/exports/contracts.xlsx", params={"year": 2021}, headers=small.staff.headers
        )
        values = list(
            load_workbook(io.BytesIO(response.content), data_only=True)["계약목록"].iter_rows(values_only=True)
        )
        assert title in {v[8] for v in values}
        csv_rows = await client.get("/api/v1/exports/contracts.csv", params={"year": 2021}, headers=small.staff.headers)
        assert title in {r[8] for r in csv.reader(io.StringIO(csv_rows.content.decode("utf-8-sig")))}


def _ocds_validator() -> tuple[Draft4Validator, dict[str, Any]]:
    package = json.loads((OCDS / "release-package-schema.json").read_text())
    release = json.loads((OCDS / "release-schema.json").read_text())
    registry: Registry[Any] = Registry().with_resources(
        [(s["id"], Resource.from_contents(s, default_specification=_draft4())) for s in (package, release)]
    )
    return Draft4Validator(package, registry=registry, format_checker=FormatChecker()), release


def _draft4() -> Any:
    from referencing.jsonschema import DRAFT4

    return DRAFT4


def _undeclared(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> list[str]:
    """Paths of emitted fields that the release schema does not define (OCDS would accept them silently)."""
    if "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    out: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, item in value.items():
            if key not in props:
                out.append(f"{path}.{key}")
            else:
                out += _undeclared(item, props[key], root, f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += _undeclared(item, schema["items"], root, f"{path}[{i}]")
    return out


class TestOcds:
    async def test_release_package_is_valid_and_every_field_is_defined(
        self, client: Client, sessionmaker: Maker, small: Small
    ) -> None:
        async with sessionmaker.begin() as session:
            need = Need(
                agency_id=uuid.UUID(small.a1.organization_id), title="청사 방역", description="분기별 방역",
                category_codes=["CLN-DIS"], budget_krw=12_000_000, needed_by=date(2021, 9, 1),
            )  # fmt: skip
            session.add(need)
            await session.flush()
            await session.execute(
                text("UPDATE contracts SET need_id = :need WHERE amount_krw = 10000000"), {"need": need.id}
            )
        response = await client.get("/api/v1/exports/ocds.json", params={"year": 2021}, headers=small.staff.headers)
        assert response.status_code == 200
        document = response.json()
        validator, release_schema = _ocds_validator()
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
        assert len(document["releases"]) == 3
        # this jsonschema has no date-time or uri format checkers installed: check those by hand
        assert urlsplit(document["uri"]).scheme == "http"
        moments = [document["publishedDate"]]
        for release in document["releases"]:
            moments += [release["date"], release["awards"][0]["date"], release["contracts"][0]["dateSigned"]]
        assert all(datetime.fromisoformat(m).tzinfo is not None for m in moments)
        for release in document["releases"]:
            assert _undeclared(release, release_schema, release_schema, "release") == []
            assert release["ocid"].startswith("ocds-pmatch-")
            assert release["contracts"][0]["value"]["currency"] == "KRW"
        with_need = [r for r in document["releases"] if "tender" in r]
        assert len(with_need) == 1
        assert with_need[0]["tender"]["value"] == {"amount": 12_000_000, "currency": "KRW"}
        assert sum(r["contracts"][0]["value"]["amount"] for r in document["releases"]) == 15_001_000

    def test_the_checker_catches_an_undefined_field(self) -> None:
        _, schema = _ocds_validator()
        assert _undeclared({"ocid": "x", "colour": "red"}, schema, schema, "release") == ["release.colour"]


class TestBackgroundExport:
    async def test_more_than_100000_rows_becomes_a_job(
        self, client: Client, sessionmaker: Maker, settings: Settings, small: Small
    ) -> None:
        async with sessionmaker.begin() as session:
            await session.execute(
                text(
                    "INSERT INTO contracts (agency_id, firm_id, amount_krw, contract_date, title, channel, status, "
                    "reported_side, confirmed_at) SELECT :a, :f, 1000 + g % 7, date '2021-01-01' + (g % 365), "
                    "'bulk ' || g, 'other', 'confirmed', 'staff', now() FROM generate_series(1, 100001) g"
                ),
                {"a": uuid.UUID(small.a2.organization_id), "f": uuid.UUID(small.f1.organization_id)},
            )
        response = await client.get("/api/v1/exports/contracts.csv", params={"year": 2021}, headers=small.staff.headers)
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["status"] == "queued"
        assert job["total_rows"] == 100_004
        assert await run_export_jobs(sessionmaker, settings) == 1
        assert await run_export_jobs(sessionmaker, settings) == 0  # idempotent: nothing left to do
        status = (await client.get(f"/api/v1/exports/jobs/{job['id']}", headers=small.staff.headers)).json()
        assert status["status"] == "done"
        assert status["progress"] == 1.0
        assert status["done_rows"] == 100_004
        other = await client.get(f"/api/v1/exports/jobs/{job['id']}", headers=small.a1.headers)
        assert other.status_code == 404
        download = await client.get(status["download_url"], headers=small.staff.headers)
        assert download.status_code == 200
        lines = download.content.decode("utf-8-sig").splitlines()
        assert len(lines) == 1 + 100_004
