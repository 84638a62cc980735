"""A labelled set: realistic needs and the firms a procurement officer would expect in the top 5.

For each need, five "expected" firms sell exactly what is asked (same leaf category, words a buyer
would recognise in their description) and are local or otherwise clearly suitable; around them sit
distractors a naive matcher confuses: same field but another product, the right product from a
firm whose certification expired or whose capacity is far too small, unrelated firms with a
similar name, and verified firms in unrelated categories.
"""

from __future__ import annotations

from dataclasses import dataclass

# (code, delivery district, need title, need description, words an expected firm uses, distractor leaf)
NEEDS: list[tuple[str, str, str, str, str, str]] = [
    ("CLN-DIS", "eunpyeong", "구청 청사 방역 소독 용역", "본관 별관 정기 방역 소독", "방역 소독 해충", "CLN-BLD"),
    ("CLN-BLD", "mapo", "주민센터 건물 청소 용역", "계단 화장실 정기 청소", "건물 청소 미화", "CLN-DIS"),
    ("CLN-TNK", "gangnam", "저수조 청소", "아파트형 저수조 물탱크 청소", "저수조 물탱크 세척", "CLN-BLD"),
    (
        "CLN-SAN",
        "jongno",
        "손소독제와 위생용품 구매",
        "손소독제 마스크 위생용품",
        "손소독제 위생용품 마스크",
        "OFF-STA",
    ),
    ("OFF-STA", "jung", "사무용 문구 연간 구매", "볼펜 노트 파일 문구", "문구 사무용품 볼펜", "OFF-PAP"),
    ("OFF-PAP", "seocho", "복사용지 구매", "A4 복사용지 재생지", "복사용지 A4 용지", "OFF-STA"),
    ("OFF-TON", "songpa", "재생 토너 카트리지", "레이저 프린터 재생 토너", "재생 토너 카트리지 잉크", "OFF-EQP"),
    ("PRT-BOK", "mapo", "연간 보고서 인쇄", "성과 보고서 책자 인쇄 제본", "책자 인쇄 제본 보고서", "PRT-BAN"),
    ("PRT-LEA", "seongdong", "홍보 리플렛 제작", "행사 홍보 리플렛 포스터 인쇄", "리플렛 포스터 전단", "PRT-BOK"),
    ("PRT-BAN", "guro", "행사 현수막 제작", "현수막 배너 실사 출력", "현수막 배너 실사", "PRT-SGN"),
    ("PRM-GIF", "jongno", "기관 기념품 구매", "방문객 기념품 답례품", "기념품 답례품 선물", "PRM-BAG"),
    ("PRM-BAG", "nowon", "에코백 제작", "친환경 면 에코백 인쇄", "에코백 면가방", "PRM-GIF"),
    ("FOD-LUN", "seongbuk", "행사 도시락 납품", "워크숍 참가자 점심 도시락", "도시락 점심 식사", "FOD-CAT"),
    ("FOD-CAT", "yongsan", "회의 다과 케이터링", "간담회 다과 케이터링", "케이터링 다과 간식", "FOD-LUN"),
    ("FOD-BAK", "dongjak", "제과 납품", "어린이집 간식 빵 쿠키", "제과 제빵 쿠키 빵", "FOD-CAF"),
    ("FOD-AGR", "gangdong", "친환경 농산물 꾸러미", "지역 농산물 꾸러미 납품", "농산물 꾸러미 로컬푸드", "FOD-PRC"),
    ("EVT-PLN", "yeongdeungpo", "구민 축제 기획 운영", "축제 행사 기획 운영 대행", "행사 기획 운영 축제", "EVT-STG"),
    ("EVT-STG", "gwangjin", "무대 음향 조명 임차", "야외 공연 무대 음향 조명", "무대 음향 조명", "EVT-RNT"),
    ("EVT-ONL", "mapo", "온라인 설명회 중계", "유튜브 생중계 온라인 행사", "온라인 중계 생중계 스트리밍", "EVT-PLN"),
    ("EDU-TRN", "jung", "직원 직무 교육", "공무원 직무 역량 교육 연수", "직무 교육 연수 강의", "EDU-CIT"),
    ("EDU-YTH", "nowon", "청소년 진로 프로그램", "중학생 진로 체험 교육", "청소년 진로 체험", "EDU-CIT"),
    ("EDU-ENV", "eunpyeong", "환경 생태 교육", "초등학생 생태 환경 교육", "환경 생태 교육 숲", "EDU-YTH"),
    ("ITS-WEB", "geumcheon", "기관 홈페이지 개편", "반응형 홈페이지 구축 유지보수", "홈페이지 웹사이트 구축", "ITS-SW"),
    ("ITS-HW", "guro", "재생 PC 구매", "교육용 재생 컴퓨터 노트북", "재생 PC 컴퓨터 노트북", "ITS-MNT"),
    ("MED-VID", "mapo", "홍보 영상 제작", "기관 홍보 영상 촬영 편집", "영상 제작 촬영 편집", "MED-PHO"),
    ("MED-DSN", "seodaemun", "디자인 용역", "브로슈어 인포그래픽 디자인", "디자인 인포그래픽 편집디자인", "MED-VID"),
    ("FAC-REP", "dobong", "경로당 시설 보수", "경로당 도배 장판 보수", "시설 보수 수리 도배", "FAC-INT"),
    ("FAC-PNT", "gangbuk", "외벽 도장 방수", "청사 외벽 도장 옥상 방수", "도장 방수 페인트", "FAC-REP"),
    ("LND-GRD", "yangcheon", "공원 조경 관리", "근린공원 조경 유지관리", "조경 정원 공원", "LND-TRE"),
    ("FUR-WOD", "jungnang", "원목 가구 구매", "도서관 원목 책상 의자", "원목 가구 책상", "FUR-OFC"),
    ("TEX-UNI", "dongdaemun", "근무복 제작", "환경미화원 근무복 단체복", "근무복 단체복 유니폼", "TEX-SAF"),
    ("CAR-ELD", "gwanak", "어르신 돌봄 서비스", "독거 어르신 방문 돌봄", "어르신 돌봄 방문", "CAR-HLT"),
    ("TRV-TOR", "jongno", "직원 공정여행 연수", "지역 공정여행 체험 프로그램", "공정여행 체험 여행", "TRV-TRP"),
]
DISTRICTS = ["jongno", "mapo", "songpa", "gangseo", "nowon", "guro", "seongbuk", "eunpyeong"]


@dataclass(frozen=True)
class FirmSpec:
    key: str
    name: str
    category: str
    district: str
    firm_types: list[str]
    description: str
    capacity_krw: int | None
    certified_until: str | None


def firms_for(index: int) -> tuple[list[FirmSpec], list[str]]:
    """The firms around need `index`: five expected ones, then distractors. Returns (firms, expected keys)."""
    code, district, _title, _, words, distractor = NEEDS[index]
    firms: list[FirmSpec] = []
    expected: list[str] = []
    for k in range(5):
        key = f"n{index}-good{k}"
        # local firms and Seoul firms elsewhere: all sell exactly the thing, with enough capacity
        firm_district = district if k < 3 else DISTRICTS[(index + k) % len(DISTRICTS)]
        types = ["social_enterprise"] if k % 2 == 0 else ["social_cooperative"]
        firms.append(
            FirmSpec(
                key,
                f"{words.split()[0]}{['나눔', '함께', '이음', '두레', '온'][k]}{index}",
                code,
                firm_district,
                types,
                f"{words} 전문 사회적경제기업, 공공기관 납품 경험",
                500_000_000,
                "2030-12-31" if "social_enterprise" in types else None,
            )
        )
        expected.append(key)
    distractors = [
        # same field, another product, local
        FirmSpec(
            f"n{index}-field",
            f"이웃{index}분야",
            distractor,
            district,
            ["cooperative"],
            "다른 품목 전문",
            500_000_000,
            None,
        ),
        FirmSpec(
            f"n{index}-field2",
            f"이웃{index}분야둘",
            distractor,
            district,
            ["social_enterprise"],
            "관련 분야 다른 제품",
            500_000_000,
            "2030-12-31",
        ),
        # right product but certification expired and capacity far too small, outside Seoul
        FirmSpec(
            f"n{index}-weak",
            f"{words.split()[0]}소규모{index}",
            code,
            "other",
            ["social_enterprise"],
            f"{words.split()[-1]}",
            1_000_000,
            "2020-01-01",
        ),
    ]
    return firms + distractors, expected
