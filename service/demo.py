"""The demo data set, built through the product's own services and loaded once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from service.accounts.models import User
from service.accounts.schemas import RegisterIn, UserIn
from service.accounts.service import AccountService, principal_of
from service.config import Settings
from service.db.engine import make_engine, make_sessionmaker
from service.registry.schemas import OrganizationIn
from service.registry.service import OrganizationService
from service.reports.demo2021 import build_demo_2021

DEMO_PASSWORD = "demo-password-2021"  # noqa: S105 (printed for the demo on purpose)
STAFF_EMAIL = "staff@demo.procure-match.kr"

AGENCIES = [
    ("agency@demo.procure-match.kr", "김구매", "서울특별시 은평구청", "district_office", "eunpyeong", True),
    ("agency2@demo.procure-match.kr", "이계약", "서울시설공단", "city_affiliate", "seongdong", False),
]
FIRMS = [
    # email, user, name, business number, types, district, categories, description, verified
    (
        "firm@demo.procure-match.kr",
        "박대표",
        "(주)은평클린협동조합",
        "1018100340",
        ["social_cooperative"],
        "eunpyeong",
        ["CLN-DIS", "CLN-BLD"],
        "공공청사 방역 소독과 건물 청소 전문 사회적협동조합. 취약계층 고용 60%.",
        True,
    ),
    (
        "firm2@demo.procure-match.kr",
        "최대표",
        "마포인쇄사회적기업",
        "1048132652",
        ["social_enterprise"],
        "mapo",
        ["PRT-BOK"],
        "홍보물, 리플렛, 보고서 인쇄와 제본. 친환경 용지 사용.",
        True,
    ),
    (
        "firm3@demo.procure-match.kr",
        "정대표",
        "성북도시락마을기업",
        "2208800091",
        ["village_enterprise"],
        "seongbuk",
        ["FOD-LUN"],
        "행사 도시락과 다과 케이터링. 지역 농산물 사용.",
        False,
    ),
]


async def ensure_demo_data(database_url: str, settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo accounts unless they exist; return (role, email, password) rows."""
    engine = make_engine(database_url, pool_size=2)
    rows = [("staff", STAFF_EMAIL, DEMO_PASSWORD)]
    rows += [("agency", a[0], DEMO_PASSWORD) for a in AGENCIES]
    rows += [("firm", f[0], DEMO_PASSWORD) for f in FIRMS]
    try:
        async with make_sessionmaker(engine, settings).begin() as session:
            if await session.scalar(select(User.id).where(User.email == STAFF_EMAIL)):
                return rows
            accounts = AccountService(session, settings.auth)
            staff_user = await accounts.create_staff(STAFF_EMAIL, DEMO_PASSWORD, "센터 직원")
            _, token = await accounts.issue_token(staff_user, "demo loader")
            staff = principal_of(staff_user, token.id)
            await accounts.revoke(token.id)
            organizations = OrganizationService(session)
            for email, user_name, name, agency_type, district, verified in AGENCIES:
                _, org = await accounts.register(
                    RegisterIn(
                        kind="agency",
                        user=UserIn(email=email, password=DEMO_PASSWORD, name=user_name),
                        organization=OrganizationIn(name=name, agency_type=agency_type, district=district),
                    )
                )
                if verified:
                    await organizations.change_status(staff, org, "verify")
            for email, user_name, name, number, types, district, categories, description, verified in FIRMS:
                _, org = await accounts.register(
                    RegisterIn(
                        kind="firm",
                        user=UserIn(email=email, password=DEMO_PASSWORD, name=user_name),
                        organization=OrganizationIn(
                            name=name,
                            business_number=number,
                            firm_types=types,
                            district=district,
                            category_codes=categories,
                            description=description,
                            certification_number="2021-001" if "social_enterprise" in types else None,
                            certified_until=date(2027, 12, 31) if "social_enterprise" in types else None,
                        ),
                    )
                )
                if verified:
                    await organizations.change_status(staff, org, "verify")
            # The year the 2021 report describes: fairs, meetings, contracts, targets and purchases.
            await build_demo_2021(session, staff)
    finally:
        await engine.dispose()
    return rows
