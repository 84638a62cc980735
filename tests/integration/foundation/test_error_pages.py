"""Error pages keep the signed-in frame, speak the page's language and lead back where the user was."""

from tests.factories import create_staff, verified_firm


async def test_a_forbidden_page_keeps_the_header_and_links_back(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    client.cookies.clear()
    headers = {"cookie": f"pm_session={firm.token}; lang=ko", "referer": "http://127.0.0.1:8000/needs?page=2"}
    response = await client.get("/reports", headers=headers)
    assert response.status_code == 403
    html = response.text
    assert '<html lang="ko">' in html
    assert "지원센터 직원만 할 수 있는 일입니다." in html
    assert "Only support-center staff" not in html
    assert "로그아웃" in html or "/logout" in html  # the signed-in header
    assert 'href="/needs?page=2"' in html
    # the language switch keeps the page and carries the way back (its Referer will be the page itself)
    assert 'href="/lang/en?next=/reports%3Fback%3D/needs%253Fpage%253D2"' in html


async def test_a_referer_from_elsewhere_is_not_linked(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    client.cookies.clear()
    headers = {"cookie": f"pm_session={staff.token}; lang=en", "referer": "https://evil.example/x"}
    response = await client.get("/staff/mail/00000000-0000-0000-0000-000000000000", headers=headers)
    assert response.status_code == 404
    assert "evil.example" not in response.text
    assert "No such message." in response.text
    assert "The address may be mistyped" in response.text


async def test_an_unknown_path_answers_in_the_chosen_language(client):
    response = await client.get("/no/such/page", headers={"cookie": "lang=en"})
    assert response.status_code == 404
    assert '<html lang="en">' in response.text


def test_a_conflict_explains_itself():
    from types import SimpleNamespace

    from service.lib.errors import Conflict
    from service.lib.i18n import set_locale
    from service.plugin import jinja_environment

    set_locale("ko")
    request = SimpleNamespace(url=SimpleNamespace(path="/needs/1", query=""))
    html = (
        jinja_environment()
        .get_template("error.html")
        .render(
            error=Conflict("The need is already awarded."),
            principal=None,
            locale="ko",
            back="/needs/1",
            request=request,
            csrf_token=lambda: "t",
        )
    )
    assert "이미 낙찰된 구매 수요입니다." in html
    assert "다른 사람이나 다른 처리가 먼저 바꾸어서" in html
    assert 'href="/needs/1"' in html
