"""Purchase records and yearly targets: staff entry, import (dry run, all or nothing), achievement."""

from __future__ import annotations

import io

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.contracts.models import PurchaseRecord
from tests.factories import create_staff, verified_agency, verified_firm
from tests.factories_contracts import confirmed_contract

Client = AsyncTestClient[Litestar]
Maker = async_sessionmaker[AsyncSession]
CSV_TYPE = {"Content-Type": "text/csv"}


class TestEntry:
    async def test_target_purchases_and_achievement(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff, name="은평구청")
        firm = await verified_firm(client, staff)
        put = await client.put(
            f"/api/v1/targets/{agency.organization_id}/2021", json={"target_krw": 2_000_000}, headers=staff.headers
        )
        assert put.status_code == 200
        again = await client.put(
            f"/api/v1/targets/{agency.organization_id}/2021", json={"target_krw": 1_000_000}, headers=staff.headers
        )
        assert again.json()["target_krw"] == 1_000_000
        rec = await client.post(
            "/api/v1/purchases",
            json={"agency_id": agency.organization_id, "year": 2021, "amount_krw": 900_000, "note": "조달청 쇼핑몰"},
            headers=staff.headers,
        )
        assert rec.status_code == 201
        await confirmed_contract(client, agency, firm, amount_krw=190_000)
        rows = (await client.get("/api/v1/reports/targets", params={"year": 2021}, headers=staff.headers)).json()
        assert rows == [
            {
                "agency_id": agency.organization_id,
                "name": "은평구청",
                "target_krw": 1_000_000,
                "actual_krw": 1_090_000,
                "achievement_rate": 1.09,
                "contracts_krw": 190_000,
                "purchases_krw": 900_000,
            }
        ]
        total = (await client.get("/api/v1/reports/targets/total", params={"year": 2021}, headers=staff.headers)).json()
        assert total["achievement_rate"] == 1.09

    async def test_only_staff_enter_figures(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        own = await client.put(
            f"/api/v1/targets/{agency.organization_id}/2021", json={"target_krw": 5}, headers=agency.headers
        )
        assert own.status_code == 403
        bad = await client.post(
            "/api/v1/purchases",
            json={"agency_id": agency.organization_id, "year": 1999, "amount_krw": 0},
            headers=staff.headers,
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"year", "amount_krw"}


def _csv(text: str) -> bytes:
    return ("\ufeff" + text).encode("utf-8")


class TestImport:
    async def test_dry_run_then_apply(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        await verified_agency(client, staff, name="성동구청")
        agency = await verified_agency(client, staff, name="서울시설공단")
        body = _csv(
            "기관,연도,구분,금액,비고\r\n"
            '성동구청,2021,목표,"1,000,000",\r\n'
            f"{agency.organization_id},2021,구매,250000,공공구매 실적\r\n"
            "서울시설공단,2021,purchase,250000원,\r\n"
        )
        dry = await client.post("/api/v1/purchases/import", content=body, headers={**staff.headers, **CSV_TYPE})
        assert dry.status_code == 200, dry.text
        assert dry.json() == {"dry_run": True, "rows": 3, "targets": 1, "purchases": 2, "purchases_krw": 500_000,
                              "applied": False}  # fmt: skip
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(PurchaseRecord)) == 0
        done = await client.post(
            "/api/v1/purchases/import?dry_run=false", content=body, headers={**staff.headers, **CSV_TYPE}
        )
        assert done.json()["applied"] is True
        total = (await client.get("/api/v1/reports/targets/total", params={"year": 2021}, headers=staff.headers)).json()
        assert (total["target_krw"], total["actual_krw"]) == (1_000_000, 500_000)

    async def test_one_bad_row_rejects_the_file(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        await verified_agency(client, staff, name="성동구청")
        body = _csv(
            "agency,year,kind,amount_krw\r\n"
            "성동구청,2021,purchase,1000\r\n"
            "없는기관,2021,purchase,1000\r\n"
            "성동구청,20x1,gift,-5\r\n"
            "성동구청,2021,target,10\r\n"
            "성동구청,2021,target,20\r\n"
        )
        response = await client.post(
            "/api/v1/purchases/import?dry_run=false", content=body, headers={**staff.headers, **CSV_TYPE}
        )
        assert response.status_code == 422
        fields = [e["field"] for e in response.json()["errors"]]
        assert fields == ["row 3.agency", "row 4.year", "row 4.kind", "row 4.amount_krw", "row 6.kind"]
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(PurchaseRecord)) == 0

    async def test_xlsx_and_bad_files(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        await verified_agency(client, staff, name="노원구청")
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["기관명", "연도", "구분", "금액(원)"])
        sheet.append(["노원구청", 2021, "구매실적", 1_234_000])
        sheet.append(["노원구청", 2021, "목표", 2_000_000.0])
        buffer = io.BytesIO()
        book.save(buffer)
        response = await client.post(
            "/api/v1/purchases/import?dry_run=false", content=buffer.getvalue(), headers=staff.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["purchases_krw"] == 1_234_000
        broken = await client.post("/api/v1/purchases/import", content=b"PK\x03\x04junk", headers=staff.headers)
        assert broken.status_code == 422
        headerless = await client.post(
            "/api/v1/purchases/import", content=_csv("a,b\r\n1,2\r\n"), headers=staff.headers
        )
        assert headerless.status_code == 422
        latin = await client.post("/api/v1/purchases/import", content="기관".encode("cp949"), headers=staff.headers)
        assert latin.status_code == 422


class TestImportLikeTheRegistry:
    """The multipart field `file`, CSV in UTF-8 (BOM or not) or CP949/EUC-KR, XLSX, zip limits."""

    ROWS = '기관,연도,구분,금액,비고\r\n노원구청,2021,구매,300000,조달\r\n노원구청,2021,목표,"1,000,000",\r\n'

    @staticmethod
    def xlsx() -> bytes:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["기관명", "연도", "구분", "금액(원)", "비고"])
        sheet.append(["노원구청", 2021, "구매실적", 300_000, "조달"])
        sheet.append(["노원구청", 2021, "목표", 1_000_000.0, None])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    async def test_multipart_files_in_every_encoding_and_xlsx(
        self, client: Client, sessionmaker: Maker, settings: Settings
    ) -> None:
        staff = await create_staff(client, sessionmaker, settings)
        await verified_agency(client, staff, name="노원구청")
        files = {
            "utf-8": ("p.csv", self.ROWS.encode("utf-8")),
            "utf-8 with BOM": ("p.csv", b"\xef\xbb\xbf" + self.ROWS.encode("utf-8")),
            "cp949": ("p.csv", self.ROWS.encode("cp949")),
            "euc-kr": ("p.csv", self.ROWS.encode("euc-kr")),
            "xlsx": ("p.xlsx", self.xlsx()),
        }
        for name, (filename, content) in files.items():
            response = await client.post(
                "/api/v1/purchases/import",
                files={"file": (filename, content, "application/octet-stream")},
                headers=staff.headers,
            )
            assert response.status_code == 200, (name, response.text)
            assert response.json() == {"dry_run": True, "rows": 2, "targets": 1, "purchases": 1,
                                       "purchases_krw": 300_000, "applied": False}, name  # fmt: skip
        raw_cp949 = await client.post(
            "/api/v1/purchases/import", content=self.ROWS.encode("cp949"), headers={**staff.headers, **CSV_TYPE}
        )
        assert raw_cp949.status_code == 200 and raw_cp949.json()["rows"] == 2, raw_cp949.text
        written = await client.post(
            "/api/v1/purchases/import?dry_run=false",
            files={"file": ("p.xlsx", self.xlsx(), "application/octet-stream")},
            headers=staff.headers,
        )
        assert written.json()["applied"] is True
        async with sessionmaker() as session:
            assert await session.scalar(select(func.sum(PurchaseRecord.amount_krw))) == 300_000

    async def test_bad_files_name_the_field(self, client: Client, sessionmaker: Maker, settings: Settings) -> None:
        from tests.factories_registry import shared_strings, xlsx_with_part

        staff = await create_staff(client, sessionmaker, settings)
        bomb = xlsx_with_part("xl/sharedStrings.xml", shared_strings(600_000))
        for filename, content in (("b.xlsx", bomb), ("u.csv", "기관".encode("utf-16"))):
            response = await client.post(
                "/api/v1/purchases/import",
                files={"file": (filename, content, "application/octet-stream")},
                headers=staff.headers,
            )
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "file"
        missing = await client.post("/api/v1/purchases/import", files={"other": ("x.csv", b"a")}, headers=staff.headers)
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
