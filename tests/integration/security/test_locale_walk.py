"""Every page in both languages: no sentence of the other language.

The walk reuses the authorization matrix's page rules (every HTML route, each with a call that
reaches it: a real fair, meeting, contract or need, and the empty or invalid form posts), as four
actors (anonymous, a firm, an agency, staff), once with the `lang=ko` cookie and once with
`lang=en`. A Korean page fails on an English sentence (three or more English words in a row
outside the allowlist); an English page fails on any Hangul. Text the page marks with another
`lang` (the language switch) is skipped, as are scripts and styles.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from tests.factories_ops import World, build_world, csrf_pair, fill_path, route_table
from tests.integration.security.test_authorization_matrix import RULES, Case, Rule

WALKERS = ("anonymous", "firm_a", "agency_x", "staff")
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]+")
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,:;()/–-]+[A-Za-z][A-Za-z'’]*){2,}")
# names, codes and formats that are the same in both languages
ALLOWED_IN_KOREAN = (
    "procure-match",
    "YYYY-MM-DD",
    "Open Contracting Data Standard",
    "OCDS",
)
TEXT_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt", "value")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class VisibleText(HTMLParser):
    """The words a reader meets: text nodes and labelling attributes, without scripts, styles and
    elements marked with another language than the page's."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = ""
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.chunks: list[str] = []

    def skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.page_lang = values.get("lang") or ""
        lang = values.get("lang")
        skip = tag in ("script", "style") or bool(lang and self.page_lang and lang != self.page_lang)
        if not skip and not self.skipping():
            hidden_value = tag == "input" and values.get("type") in ("hidden", "checkbox", "radio")
            for name in TEXT_ATTRIBUTES:
                if values.get(name) and not (name == "value" and (hidden_value or tag != "input")):
                    self.chunks.append(str(values[name]))
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping() and data.strip():
            self.chunks.append(data.strip())


def foreign_sentences(html: str, locale: str, data: tuple[str, ...] = ()) -> list[str]:
    """The other language's sentences on a page; `data` (what users typed: names, titles) is not the interface."""
    parser = VisibleText()
    parser.feed(html)
    found: list[str] = []
    for chunk in parser.chunks:
        text = chunk
        for value in data:
            text = text.replace(value, " ")
        if locale == "en":
            found += [chunk] if HANGUL.search(text) else []
            continue
        for allowed in ALLOWED_IN_KOREAN:
            text = text.replace(allowed, " ")
        # codes in capitals (CLN-DIS; CLN-BLD) are not sentences
        found += [m.group(0) for m in ENGLISH_RUN.finditer(text) if re.search(r"[a-z]", m.group(0))]
    return found


# tables whose text is the interface's, not users' (the taxonomy has a Korean and an English name)
INTERFACE_TABLES = {"categories", "alembic_version"}


async def user_data(sessionmaker: Any) -> tuple[str, ...]:
    """Every text users (and the test factories) entered, longest first, so it can be told from the interface."""
    values: set[str] = set()
    async with sessionmaker() as session:
        columns = await session.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND data_type IN ('text', 'character varying', 'citext', 'jsonb', 'ARRAY', 'USER-DEFINED')"
            )
        )
        for table, column in columns.all():
            if table in INTERFACE_TABLES:
                continue
            rows = await session.execute(text(f'SELECT DISTINCT "{column}"::text FROM "{table}" LIMIT 5000'))
            for (value,) in rows.all():
                if value and HANGUL.search(value):
                    values.add(value)
                    values.update(part.strip() for part in re.split(r'[{}",;\[\]:]', value) if HANGUL.search(part))
    return tuple(sorted(values, key=len, reverse=True))


async def fetch(
    client: AsyncTestClient[Litestar], world: World, method: str, template: str, case: Case, actor: str, locale: str
) -> tuple[str, int, str]:
    call = await case.prepare(client, world, actor)
    client.cookies.clear()
    token = call.token if call.token is not None else world.token(actor)
    url = fill_path(template, call.values)
    headers = {"cookie": f"lang={locale}" + (f"; pm_session={token}" if token else "")}
    kwargs: dict[str, Any] = {"params": call.params} if call.params else {}
    if method != "GET":
        pair = await csrf_pair(client, session=token)
        headers = pair.headers(token)
        headers["cookie"] += f"; lang={locale}"
        kwargs["data"] = {**(call.data or {}), "_csrf_token": pair.token}
    response = await client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
    client.cookies.clear()
    return url, response.status_code, response.text if "html" in response.headers.get("content-type", "") else ""


def page_rules(app: Litestar) -> list[tuple[str, str, Rule]]:
    routes = route_table(app)
    return [(m, t, rule) for (m, t), rule in sorted(RULES.items()) if rule.surface == "page" and (m, t) in routes]


async def walk(client: AsyncTestClient[Litestar], world: World, app: Litestar, locale: str) -> tuple[list[str], int]:
    seen: list[tuple[str, str]] = []
    for method, template, rule in page_rules(app):
        if template in ("/logout", "/lang/{code:str}"):
            continue
        for case in rule.cases:
            for actor in WALKERS:
                url, status, html = await fetch(client, world, method, template, case, actor, locale)
                if html:
                    seen.append((f"{method} {url} as {actor} ({status})", html))
    data = await user_data(world.sessionmaker) if locale == "en" else ()
    problems = [f"{where}: {s!r}" for where, html in seen for s in foreign_sentences(html, locale, data)]
    return problems, len(seen)


class TestLocaleWalk:
    async def test_korean_pages_have_no_english_sentence(self, app, client, sessionmaker, settings):
        world = await build_world(client, sessionmaker, settings)
        problems, pages = await walk(client, world, app, "ko")
        assert pages > 100
        assert not problems, "English in Korean pages:\n" + "\n".join(sorted(set(problems)))

    async def test_english_pages_have_no_hangul(self, app, client, sessionmaker, settings):
        world = await build_world(client, sessionmaker, settings)
        problems, pages = await walk(client, world, app, "en")
        assert pages > 100
        assert not problems, "Hangul in English pages:\n" + "\n".join(sorted(set(problems)))


def test_the_detector_finds_each_language():
    korean = '<html lang="ko"><p>저장되었습니다. reason: a reason is required</p><a lang="en">English</a></html>'
    assert foreign_sentences(korean, "ko") == ["reason: a reason is required"]
    english = '<html lang="en"><p>Saved</p><a lang="ko">한국어</a><p title="필수">x</p></html>'
    assert foreign_sentences(english, "en") == ["필수"]
