"""Error pages keep their frame: a path no route matches (answered by the router, before the auth
middleware) shows the signed-in header in the caller's language, and the way back survives the language
switch."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from tests.factories import create_staff, verified_firm
from tests.integration.matching.test_pages import sign_in

BASE = "http://127.0.0.1:8000"


async def test_an_unknown_path_shows_the_signed_in_header(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    anonymous = await client.get("/no-such-page")
    assert anonymous.status_code == 404 and 'action="/logout"' not in anonymous.text
    await sign_in(client, firm.email)
    page = await client.get("/no-such-page", headers={"referer": f"{BASE}/needs"})
    assert page.status_code == 404 and '<html lang="ko">' in page.text
    assert 'action="/logout"' in page.text and 'href="/me"' in page.text  # the signed-in header
    assert 'href="/needs">이전 페이지로 돌아가기' in page.text
    # the English switch carries the way back, and the page it lands on offers it
    switch = re.search(r'href="(/lang/en\?next=[^"]+)"', page.text)
    assert switch and unquote(switch.group(1)) == "/lang/en?next=/no-such-page?back=/needs"
    switched = await client.get(html.unescape(switch.group(1)), follow_redirects=False)
    assert switched.headers["location"] == "/no-such-page?back=/needs"
    english = await client.get(switched.headers["location"], headers={"referer": f"{BASE}/no-such-page"})
    assert english.status_code == 404 and '<html lang="en">' in english.text
    assert 'href="/needs">Go back to the page you came from' in english.text
    # a routed 404 and a bearer call stay as they were
    api = await client.get("/api/v1/no-such", headers={"authorization": "Bearer nope"})
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")


async def test_the_back_parameter_only_leads_inside_the_site(client, sessionmaker, settings):
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        page = await client.get("/no-such-page", params={"back": hostile})
        assert page.status_code == 404 and "이전 페이지로 돌아가기" not in page.text, hostile
    same = await client.get("/no-such-page", params={"back": "/no-such-page"})
    assert "이전 페이지로 돌아가기" not in same.text  # never a link back to the page itself
