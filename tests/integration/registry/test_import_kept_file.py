"""The import page: category names as well as codes, the code list shown, the checked file kept for the import."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from service.registry.models import Organization
from service.registry.uploads import KEEP_FOR_SECONDS, UploadStore
from tests.factories import business_number, create_staff
from tests.factories_registry import csv_bytes, firm_row
from tests.integration.registry.test_import_page import csrf_from


def token_of(html: str) -> str:
    match = re.search(r'name="upload_token" value="([^"]+)"', html)
    assert match, "no kept file on the page"
    return match.group(1)


async def test_names_codes_and_the_kept_file(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    page = await client.get("/staff/imports", headers=staff.headers)
    assert "<code>CLN-DIS</code>" in page.text and "방역·소독" in page.text  # the code list
    number = business_number()
    rows = [firm_row(number, name="이름으로분류협동조합", 품목분류="방역·소독; 건물 청소")]
    csrf = csrf_from(page.text)
    checked = await client.post(
        "/staff/imports",
        data={"_csrf_token": csrf, "mode": "check", "verify": "on"},
        files={"file": ("firms.csv", csv_bytes(rows), "text/csv")},
        headers=staff.headers,
    )
    assert checked.status_code == 200, checked.text
    assert "1개 행 중 1개" in checked.text or "1 of 1" in checked.text or "1" in checked.text
    token = token_of(checked.text)
    assert "firms.csv" in checked.text
    assert 'name="file" type="file" accept=".csv,.xlsx,text/csv">' in checked.text  # no longer required

    imported = await client.post(
        "/staff/imports",
        data={"_csrf_token": csrf, "mode": "import", "verify": "on", "upload_token": token, "upload_name": "firms.csv"},
        headers=staff.headers,
    )
    assert imported.status_code == 200, imported.text
    assert 'name="upload_token"' not in imported.text  # imported: the kept file is gone
    async with sessionmaker() as session:
        org = await session.scalar(select(Organization).where(Organization.business_number == number))
    assert org is not None and org.category_codes == ["CLN-DIS", "CLN-BLD"]
    assert not list((settings.app.data_dir / "imports").glob(f"{token}*"))

    again = await client.post(
        "/staff/imports",
        data={"_csrf_token": csrf, "mode": "import", "upload_token": token},
        headers={**staff.headers, "hx-request": "true"},
    )
    assert again.status_code == 200  # htmx swaps only 2xx: the refusal is shown behind a 200
    assert "보관 기간이 지났습니다" in again.text


async def test_unknown_category_names_are_row_errors(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    page = await client.get("/staff/imports", headers=staff.headers)
    response = await client.post(
        "/staff/imports",
        data={"_csrf_token": csrf_from(page.text), "mode": "check"},
        files={"file": ("firms.csv", csv_bytes([firm_row(business_number(), 품목분류="없는분류")]), "text/csv")},
        headers=staff.headers,
    )
    assert re.search(r"<td[^>]*>2</td><td[^>]*>품목분류</td>", response.text), response.text[-3000:]


def test_kept_files_expire_and_tokens_are_checked(tmp_path):
    store = UploadStore(tmp_path)
    token = store.keep(b"a,b\n", "x.csv")
    assert store.load(token) == (b"a,b\n", "x.csv")
    assert store.load("../../etc/passwd") is None and store.load("short") is None
    store.sweep(now=time.time() + KEEP_FOR_SECONDS + 1)
    assert store.load(token) is None
