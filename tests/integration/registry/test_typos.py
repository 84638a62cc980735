"""Short Korean typos inside compound names find the firm; unrelated words do not rank it first."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from service.registry.directory import DirectoryQuery, DirectoryService
from service.registry.hangul import to_jamo
from service.registry.models import Organization, OrganizationKind, OrganizationStatus
from tests.factories import business_number

TARGETS = ["나눔인쇄 협동조합", "은평새싹교육사회적협동조합"]
DECOYS = [
    "은평이음인쇄사회적기업",
    "마포다솜인쇄주식회사",
    "성북도시락마을기업",
    "노원햇살돌봄사회적협동조합",
    "강서푸른조경협동조합",
    "관악한빛영상자활센터",
    "도봉희망가구마을기업",
    "은평클린협동조합",
]


@pytest.fixture
async def directory(sessionmaker):
    async with sessionmaker.begin() as session:
        for name in TARGETS + DECOYS:
            session.add(
                Organization(
                    id=uuid.uuid4(),
                    kind=OrganizationKind.FIRM,
                    status=OrganizationStatus.VERIFIED,
                    name=name,
                    district="eunpyeong",
                    business_number=business_number(),
                    firm_types=["cooperative"],
                    category_codes=["PRT-BOK"],
                    description="공공기관 납품 경험이 많은 사회적경제기업",
                    keywords=["납품"],
                )
            )
    return sessionmaker


async def search(sessionmaker, q):
    async with sessionmaker.begin() as session:
        firms, total = await DirectoryService(session).search(DirectoryQuery(q=q), 0, 20)
        return [f.name for f in firms], total


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("나늠인쇄", "나눔인쇄 협동조합"),  # one letter of one syllable (ㅜ → ㅡ)
        ("나눔인세", "나눔인쇄 협동조합"),  # ㅙ → ㅔ, a common slip
        ("나눔인쇠", "나눔인쇄 협동조합"),
        ("나눔인쇄협동조합", "나눔인쇄 협동조합"),  # spacing: written together
        ("나눔 인쇄", "나눔인쇄 협동조합"),  # spacing: split apart
        ("나눔인쇄협조합", "나눔인쇄 협동조합"),  # a missing syllable
        ("새삭교육", "은평새싹교육사회적협동조합"),  # inside a compound name
        ("은평새싹교욱", "은평새싹교육사회적협동조합"),
        ("새싹교육사회협동조합", "은평새싹교육사회적협동조합"),  # missing 적
    ],
)
async def test_a_typo_finds_the_firm_first(directory, query, target):
    found, _ = await search(directory, query)
    assert found and found[0] == target, (query, found)


@pytest.mark.parametrize("query", ["도시락", "햇살돌봄", "조경", "가구마을", "영상제작"])
async def test_an_unrelated_query_does_not_rank_it_first(directory, query):
    found, _ = await search(directory, query)
    assert not found or found[0] not in TARGETS, (query, found)


async def test_nonsense_finds_nothing(directory):
    assert await search(directory, "컴퓨터수리") == ([], 0)
    assert await search(directory, "xyzzy") == ([], 0)


async def test_the_api_uses_the_same_search(directory, client, sessionmaker, settings):
    from tests.factories import create_staff, verified_agency

    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff)
    response = await client.get("/api/v1/firms", params={"q": "나늠인쇄"}, headers=agency.headers)
    assert response.status_code == 200
    assert response.json()["items"][0]["name"] == "나눔인쇄 협동조합"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from("가각나눔쇄싹힣뷁 aZ1·-"), max_size=12))
async def test_python_and_postgres_spell_alike(sessionmaker, value):
    async with sessionmaker() as session:
        spelled = await session.scalar(text("SELECT pm_jamo(:v)"), {"v": value})
    assert spelled == to_jamo(value)
