"""The two-level category taxonomy (품목 분류) of what social-economy firms sell to agencies.

Codes never change meaning: add new codes, never reuse or rename one. A migration loads
this table; the database is the runtime source (GET /api/v1/categories).
"""

from __future__ import annotations

from typing import NamedTuple


class Category(NamedTuple):
    code: str
    name_ko: str
    name_en: str
    parent_code: str | None


_GROUPS: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    (
        "CLN",
        "청소·방역",
        "Cleaning and disinfection",
        [
            ("DIS", "방역·소독", "Disinfection and pest control"),
            ("BLD", "건물 청소", "Building cleaning"),
            ("TNK", "물탱크·저수조 청소", "Water tank cleaning"),
            ("WST", "폐기물 수거·처리", "Waste collection"),
            ("SAN", "위생용품", "Hygiene supplies"),
        ],
    ),
    (
        "OFF",
        "사무용품",
        "Office supplies",
        [
            ("STA", "문구·사무용품", "Stationery"),
            ("PAP", "복사용지·지류", "Copy paper"),
            ("TON", "토너·재생 카트리지", "Toner and remanufactured cartridges"),
            ("EQP", "사무기기", "Office equipment"),
        ],
    ),
    (
        "PRT",
        "인쇄·출판",
        "Printing and publishing",
        [
            ("BOK", "책자·보고서 인쇄", "Booklets and reports"),
            ("LEA", "리플렛·포스터", "Leaflets and posters"),
            ("BAN", "현수막·배너", "Banners"),
            ("PUB", "출판·편집", "Publishing and editing"),
            ("SGN", "간판·사인물", "Signage"),
        ],
    ),
    (
        "PRM",
        "홍보물·기념품",
        "Promotional goods and gifts",
        [
            ("GIF", "기념품·답례품", "Gifts and souvenirs"),
            ("ECO", "친환경 홍보물", "Eco-friendly promotional goods"),
            ("CRF", "공예품", "Crafts"),
            ("BAG", "에코백·가방", "Tote bags"),
        ],
    ),
    (
        "FOD",
        "식품·케이터링",
        "Catering and food",
        [
            ("LUN", "도시락", "Lunch boxes"),
            ("CAT", "케이터링·다과", "Catering and refreshments"),
            ("BAK", "제과·제빵", "Bakery"),
            ("CAF", "커피·음료", "Coffee and drinks"),
            ("AGR", "농산물·로컬푸드", "Agricultural and local food"),
            ("PRC", "가공식품", "Processed food"),
        ],
    ),
    (
        "EVT",
        "행사·기획",
        "Event planning",
        [
            ("PLN", "행사 기획·운영", "Event planning and operation"),
            ("STG", "무대·음향·조명", "Stage, sound and lighting"),
            ("PRF", "공연·문화예술", "Performances and arts"),
            ("ONL", "온라인 행사·중계", "Online events and streaming"),
            ("RNT", "행사 물품 대여", "Event equipment rental"),
        ],
    ),
    (
        "EDU",
        "교육·연수",
        "Education and training",
        [
            ("TRN", "직무 교육·연수", "Staff training"),
            ("CIT", "시민·주민 교육", "Citizen education"),
            ("YTH", "청소년·아동 프로그램", "Youth and children's programmes"),
            ("ENV", "환경·생태 교육", "Environmental education"),
            ("CNS", "컨설팅·연구용역", "Consulting and research"),
        ],
    ),
    (
        "ITS",
        "IT·웹 서비스",
        "IT and web services",
        [
            ("WEB", "홈페이지 구축·운영", "Websites"),
            ("SW", "소프트웨어 개발", "Software development"),
            ("MNT", "IT 유지보수", "IT maintenance"),
            ("DAT", "데이터 구축·입력", "Data entry and digitisation"),
            ("HW", "PC·IT 기기 재생", "Refurbished computers and devices"),
        ],
    ),
    (
        "MED",
        "영상·디자인",
        "Video and design",
        [
            ("VID", "영상 제작", "Video production"),
            ("DSN", "디자인", "Graphic design"),
            ("PHO", "사진 촬영", "Photography"),
            ("SNS", "SNS·온라인 홍보", "Social media marketing"),
        ],
    ),
    (
        "FAC",
        "시설 유지보수",
        "Facility maintenance and repair",
        [
            ("REP", "시설 보수·수리", "Repairs"),
            ("INT", "인테리어·리모델링", "Interior and remodelling"),
            ("ELE", "전기·통신 공사", "Electrical works"),
            ("PNT", "도장·방수", "Painting and waterproofing"),
            ("SEC", "경비·시설 관리", "Security and facility management"),
            ("ENR", "에너지 효율·태양광", "Energy efficiency and solar"),
        ],
    ),
    (
        "LND",
        "조경·녹화",
        "Landscaping and greening",
        [
            ("GRD", "조경 공사·관리", "Landscaping"),
            ("TRE", "수목 관리", "Tree care"),
            ("URB", "도시농업·텃밭", "Urban farming"),
            ("FLW", "꽃·화분", "Flowers and plants"),
        ],
    ),
    (
        "FUR",
        "가구",
        "Furniture",
        [
            ("OFC", "사무용 가구", "Office furniture"),
            ("WOD", "원목 가구", "Wooden furniture"),
            ("SCH", "학교·도서관 가구", "School and library furniture"),
            ("OUT", "야외 시설물", "Outdoor furniture"),
        ],
    ),
    (
        "TEX",
        "섬유·피복",
        "Textiles and uniforms",
        [
            ("UNI", "근무복·단체복", "Uniforms"),
            ("BED", "침구·타월", "Bedding and towels"),
            ("SEW", "봉제 임가공", "Sewing"),
            ("SAF", "안전용품·보호구", "Safety gear"),
        ],
    ),
    (
        "CAR",
        "돌봄·복지 서비스",
        "Care and welfare services",
        [
            ("ELD", "어르신 돌봄", "Elderly care"),
            ("CHD", "아동 돌봄", "Childcare"),
            ("DSB", "장애인 지원", "Disability support"),
            ("HLT", "건강·방문 서비스", "Health and home visits"),
        ],
    ),
    (
        "TRV",
        "여행·관광",
        "Travel and tourism",
        [
            ("TOR", "공정여행·체험", "Fair travel and tours"),
            ("TRP", "전세버스·운송", "Charter buses and transport"),
            ("ACC", "숙박·연수시설", "Lodging and retreat facilities"),
        ],
    ),
    (
        "LOG",
        "물류·배송",
        "Logistics and delivery",
        [
            ("DLV", "배송·퀵서비스", "Delivery"),
            ("MOV", "이사·운반", "Moving"),
            ("REC", "재활용·자원순환", "Recycling"),
        ],
    ),
]

CATEGORIES: tuple[Category, ...] = tuple(
    item
    for group_code, group_ko, group_en, leaves in _GROUPS
    for item in (
        Category(group_code, group_ko, group_en, None),
        *(Category(f"{group_code}-{code}", ko, en, group_code) for code, ko, en in leaves),
    )
)
BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
GROUPS: tuple[Category, ...] = tuple(c for c in CATEGORIES if c.parent_code is None)
LEAVES: tuple[Category, ...] = tuple(c for c in CATEGORIES if c.parent_code is not None)


def group_of(code: str) -> str:
    """The group code of a leaf or group code ("CLN-DIS" → "CLN")."""
    return code.split("-", 1)[0]


def leaves_of(group_code: str) -> list[str]:
    return [c.code for c in LEAVES if c.parent_code == group_code]


def category_name(code: str, locale: str = "ko") -> str:
    category = BY_CODE.get(code)
    if category is None:
        return code
    return category.name_ko if locale == "ko" else category.name_en


def name_key(name: str) -> str:
    """A category name as typed in a spreadsheet, compared without spaces, middle dots or case."""
    return name.replace(" ", "").replace("·", "").replace("ㆍ", "").replace(".", "").lower()


def _codes_by_name() -> dict[str, str]:
    """Korean and English names (and codes) of every category → its code; a name two categories share is left out."""
    seen: dict[str, set[str]] = {}
    for c in CATEGORIES:
        for name in (c.name_ko, c.name_en, c.code):
            seen.setdefault(name_key(name), set()).add(c.code)
    return {key: next(iter(codes)) for key, codes in seen.items() if len(codes) == 1}


CODE_BY_NAME: dict[str, str] = _codes_by_name()


def category_code(value: str) -> str:
    """The code of a category given by its code or its Korean or English name; unknown values unchanged (upper case)."""
    return CODE_BY_NAME.get(name_key(value), value.upper())
