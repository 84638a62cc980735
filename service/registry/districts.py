"""Seoul's 25 자치구 as stable codes, plus `other` for anywhere outside Seoul."""

from __future__ import annotations

from typing import NamedTuple


class District(NamedTuple):
    code: str
    name_ko: str
    name_en: str


SEOUL_DISTRICTS: tuple[District, ...] = (
    District("jongno", "종로구", "Jongno-gu"),
    District("jung", "중구", "Jung-gu"),
    District("yongsan", "용산구", "Yongsan-gu"),
    District("seongdong", "성동구", "Seongdong-gu"),
    District("gwangjin", "광진구", "Gwangjin-gu"),
    District("dongdaemun", "동대문구", "Dongdaemun-gu"),
    District("jungnang", "중랑구", "Jungnang-gu"),
    District("seongbuk", "성북구", "Seongbuk-gu"),
    District("gangbuk", "강북구", "Gangbuk-gu"),
    District("dobong", "도봉구", "Dobong-gu"),
    District("nowon", "노원구", "Nowon-gu"),
    District("eunpyeong", "은평구", "Eunpyeong-gu"),
    District("seodaemun", "서대문구", "Seodaemun-gu"),
    District("mapo", "마포구", "Mapo-gu"),
    District("yangcheon", "양천구", "Yangcheon-gu"),
    District("gangseo", "강서구", "Gangseo-gu"),
    District("guro", "구로구", "Guro-gu"),
    District("geumcheon", "금천구", "Geumcheon-gu"),
    District("yeongdeungpo", "영등포구", "Yeongdeungpo-gu"),
    District("dongjak", "동작구", "Dongjak-gu"),
    District("gwanak", "관악구", "Gwanak-gu"),
    District("seocho", "서초구", "Seocho-gu"),
    District("gangnam", "강남구", "Gangnam-gu"),
    District("songpa", "송파구", "Songpa-gu"),
    District("gangdong", "강동구", "Gangdong-gu"),
)
OTHER = District("other", "서울 외 지역", "Outside Seoul")
BY_CODE: dict[str, District] = {d.code: d for d in (*SEOUL_DISTRICTS, OTHER)}


def is_seoul(code: str) -> bool:
    return code in BY_CODE and code != OTHER.code


def district_name(code: str, locale: str = "ko", region_name: str | None = None) -> str:
    district = BY_CODE.get(code)
    if district is None:
        return code
    if district is OTHER and region_name:
        return region_name
    return district.name_ko if locale == "ko" else district.name_en
