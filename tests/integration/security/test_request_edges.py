"""Request bodies an attacker or a broken client sends: not UTF-8, nested a thousand deep, lists of
50,000 items. Each is a clear 4xx naming the field, never a 5xx."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from service.fairs.models import MeetingStatus
from service.lib.request_limits import MAX_JSON_DEPTH, too_deep
from tests.factories import agency_payload, create_staff, register, verified_agency, verified_firm
from tests.factories_contracts import join, make_fair, make_meeting
from tests.factories_ops import csrf_from

JSON = {"content-type": "application/json"}


def assert_bad_body(response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "body" in [error["field"] for error in response.json()["errors"]]


class TestInvalidUtf8:
    @pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/register"])
    async def test_anonymous_writes(self, client, path):
        response = await client.post(path, content=b'{"email":"\xff\xfe(","password":"x1234567"}', headers=JSON)
        assert_bad_body(response)

    async def test_a_signed_in_write(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        response = await client.post(
            "/api/v1/needs",
            content=b'{"title":"\xc3\x28 \xed\xa0\x80"}',  # a broken 2-byte sequence, an encoded surrogate
            headers={**JSON, **agency.headers},
        )
        assert_bad_body(response)

    async def test_valid_korean_still_passes(self, client):
        payload = agency_payload()
        payload["organization"]["name"] = "마포구청"
        body = json.dumps(payload, ensure_ascii=False).encode()
        assert (await client.post("/api/v1/register", content=body, headers=JSON)).status_code == 201


class TestDeepNesting:
    @pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 300_000])  # the last checked in a thread
    async def test_refused_before_decoding(self, client, depth):
        body = b'{"email":' + b"[" * depth + b"]" * depth + b',"password":"x1234567"}'
        assert_bad_body(await client.post("/api/v1/auth/login", content=body, headers=JSON))

    async def test_an_unclosed_deep_body_is_refused_too(self, client):
        assert_bad_body(await client.post("/api/v1/register", content=b"[" * 5000, headers=JSON))

    async def test_ordinary_nesting_passes(self, client):
        account = await register(client, agency_payload())
        assert account.organization_id

    def test_brackets_inside_strings_do_not_count(self):
        assert not too_deep(b'{"a":"' + b"[" * 1000 + b'"}')
        assert not too_deep(b'{"a":"\\"' + b"{" * 1000 + b'"}')
        assert too_deep(b'{"a":' + b"[" * 40 + b"]" * 40 + b"}")
        assert not too_deep(b"[" + b"[1]," * 5000 + b"[1]]")  # many brackets, depth 2
        alternating = b"[{" * 20 + b"}]" * 20  # 40 levels, alternating kinds
        assert too_deep(alternating)
        assert not too_deep(b"[{" * 16 + b"}]" * 16)  # exactly 32
        assert too_deep(b"[" * 33 + b"]" * 33)


class TestOneCharset:
    """Litestar appends `; charset=utf-8` to every text/* media type: naming it again doubled it."""

    @staticmethod
    def assert_one_charset(response, media_type: str) -> None:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == f"{media_type}; charset=utf-8"

    async def test_directory_export_and_import_templates(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        for path in ("/api/v1/firms/export", "/api/v1/imports/firms/template", "/api/v1/imports/agencies/template"):
            self.assert_one_charset(await client.get(path, headers=staff.headers), "text/csv")

    async def test_meeting_invites(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        fair_id = await make_fair(sessionmaker)
        await join(sessionmaker, fair_id, agency, firm)
        meeting_id = await make_meeting(sessionmaker, agency, firm, fair_id=fair_id, status=MeetingStatus.BOOKED)
        for path in (f"/api/v1/meetings/{meeting_id}/invite.ics", f"/meetings/{meeting_id}/invite.ics"):
            self.assert_one_charset(await client.get(path, headers=firm.headers), "text/calendar")


class TestListBounds:
    """Lists in bodies hold at most 1,000 items; beyond, 422 naming the field (never the
    503 of asyncpg's 32,767-parameter limit)."""

    @staticmethod
    def assert_refused(response, field: str) -> None:
        assert response.status_code == 422, response.text[:500]
        assert response.headers["content-type"].startswith("application/problem+json")
        fields = [error["field"] for error in response.json()["errors"]]
        assert any(name.endswith(field) for name in fields), fields

    async def test_fifty_thousand_items(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        firm = await verified_firm(client, staff)
        many = ["CLN-DIS"] * 50_000
        need = {"title": "방역", "description": "청사 방역", "category_codes": many, "budget_krw": 1_000_000}
        self.assert_refused(await client.post("/api/v1/needs", json=need, headers=agency.headers), "category_codes")
        self.assert_refused(
            await client.patch(
                f"/api/v1/firms/{firm.organization_id}", json={"keywords": ["방역"] * 50_000}, headers=firm.headers
            ),
            "keywords",
        )
        payload = agency_payload()
        payload["organization"]["firm_types"] = ["cooperative"] * 50_000
        self.assert_refused(await client.post("/api/v1/register", json=payload), "firm_types")
        weights = {f"factor{i}": 1.0 for i in range(5_000)}
        self.assert_refused(
            await client.put("/api/v1/matching/settings", json={"weights": weights}, headers=staff.headers), "weights"
        )

    async def test_the_bound_is_a_thousand(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        firm = await verified_firm(client, staff)
        messages = []
        for count in (1000, 1001):
            response = await client.patch(
                f"/api/v1/firms/{firm.organization_id}", json={"keywords": ["방역"] * count}, headers=firm.headers
            )
            assert response.status_code == 422
            messages.append(response.json()["errors"][0]["message"])
        # 1,000 pass the schema and meet the profile's own rule (30 keywords); 1,001 stop at the schema
        assert "at most 30 keywords" in messages[0]
        assert "1000" in messages[1], messages[1]

    async def test_a_form_with_too_many_values_re_renders_with_the_field_error(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        agency = await verified_agency(client, staff)
        page = await client.get("/needs/new", headers=agency.headers)
        token = csrf_from(page.text)
        form = [("_csrf_token", token), ("title", "방역"), ("description", "청사 방역"), ("budget_krw", "1000000")]
        form += [("category_codes", "CLN-DIS")] * 5_000
        response = await client.post(
            "/needs/new",
            content=urlencode(form).encode(),
            headers={**agency.headers, "content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 422
        assert "1,000개 이하로 선택해 주세요" in response.text


class TestNestingCannotHideInStrings:
    def test_closing_brackets_in_a_string_do_not_cancel_real_ones(self):
        # 60 levels for real; a string of "]" in the middle would make a naive count see 30
        body = b"[" * 30 + b'"' + b"]" * 30 + b'",' + b"[" * 30 + b"1" + b"]" * 60
        assert too_deep(body)

    def test_escaped_quotes_and_backslashes(self):
        assert too_deep(b'["\\\\",' + b"[" * 40 + b"]" * 40 + b"]")  # the string ends after \\
        assert not too_deep(b'["\\"' + b"[" * 40 + b'",1]')  # \" does not end the string

    async def test_a_large_ordinary_body_still_reaches_the_handler(self, client):
        payload = agency_payload()
        payload["organization"]["keywords"] = ["[방역]"] * 1000
        payload["organization"]["description"] = "{[" * 150_000  # brackets inside a string
        response = await client.post("/api/v1/register", json=payload)
        assert response.status_code == 201, response.text[:300]  # an agency ignores the firm fields
