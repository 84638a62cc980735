"""The demo data set, built through the product's own services and loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from service.accounts.models import User
from service.accounts.schemas import RegisterIn, UserIn
from service.accounts.service import AccountService, principal_of
from service.config import Settings
from service.db.engine import make_engine, make_sessionmaker
from service.programs.demo2020 import build_demo_2020
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
        "은평클린사회적협동조합",
        "1018100340",
        ["social_cooperative"],
        "eunpyeong",
        ["CLN-DIS", "CLN-BLD"],
        "은평구의 사회적협동조합입니다. 공공청사 방역 소독과 건물 청소를 하며, 직원의 60%가 취약계층입니다.",
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
        "마포구의 인증 사회적기업입니다. 홍보물, 리플릿, 보고서를 친환경 용지로 인쇄하고 제본합니다.",
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
        "성북구의 마을기업입니다. 지역 농산물로 행사 도시락과 다과를 준비합니다.",
        False,
    ),
]


@dataclass(frozen=True)
class DemoAccount:
    """One account the demo prints: who signs in, with what, for which organization."""

    role: str
    email: str
    organization: str
    pending: bool


def demo_accounts() -> list[DemoAccount]:
    """The accounts `procmatch demo` creates, in the order it prints them."""
    rows = [DemoAccount("staff", STAFF_EMAIL, "서울시 사회적경제지원센터", pending=False)]
    rows += [DemoAccount("agency", a[0], a[2], pending=not a[5]) for a in AGENCIES]
    rows += [DemoAccount("firm", f[0], f[2], pending=not f[8]) for f in FIRMS]
    return rows


def accounts_text(accounts: list[DemoAccount], url: str) -> str:
    """What the demo prints once the server is up: where it is, and who to sign in as."""
    lines = [
        "",
        f"procure-match demo: {url}",
        f"Demo accounts (password for all: {DEMO_PASSWORD})",
    ]
    for account in accounts:
        state = "  (pending: staff verify it first)" if account.pending else ""
        lines.append(f"  {account.role:<7} {account.email:<32} {account.organization}{state}")
    lines.append("")
    return "\n".join(lines)


async def ensure_demo_data(database_url: str, settings: Settings) -> list[DemoAccount]:
    """Create the demo accounts unless they exist; return them."""
    engine = make_engine(database_url, pool_size=2)
    rows = demo_accounts()
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
            # The program table of 2020 (targets and results), beside the May 2020 fair built above.
            await build_demo_2020(session, staff)
    finally:
        await engine.dispose()
    return rows
