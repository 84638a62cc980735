"""Problem details and field messages read in Korean on Korean pages (the API keeps English)."""

from service.lib.amounts import money
from service.lib.i18n import field_label, gettext


def test_a_problem_detail_is_translated_field_by_field():
    assert gettext("reason: a reason is required", "ko") == "사유: 사유를 입력해 주세요"
    both = gettext("id: required; amount: must be a whole number", "ko")
    assert both == "기관: 필수 항목입니다; 금액: 정수로 입력해 주세요"


def test_messages_with_numbers_match_their_pattern():
    assert gettext("at most 7 days", "ko") == "최대 7일"
    assert gettext("days: at most 7 days", "ko") == "일정: 최대 7일"
    assert gettext("must be between 1 and 200", "ko") == "1 이상 200 이하여야 합니다"


def test_english_and_unknown_text_stay_as_they_are():
    assert gettext("reason: a reason is required", "en") == "reason: a reason is required"
    assert gettext("테스트협동조합", "ko") == "테스트협동조합"
    assert gettext("Something nobody translated", "ko") == "Something nobody translated"


def test_field_labels_drop_list_positions():
    assert field_label("days[0].date", "ko") == "날짜"
    assert field_label("reason", "ko") == "사유"


def test_money_has_one_exact_unit_per_language():
    assert money(787_076_000, "ko") == "787,076천원"
    assert money(184_700_000_000, "ko") == "184,700,000천원"  # never 1,847억원 beside 천원 in one column
    assert money(787_076_000, "en") == "₩787,076 thousand"


def test_import_row_reasons_read_in_korean():
    assert gettext("duplicate of row 3 in this file", "ko") == "이 파일의 3행과 중복됩니다"
    assert gettext("unknown category code(s): X-1, Y-2", "ko") == "알 수 없는 품목분류 코드: X-1, Y-2"
    assert gettext("not an email address", "ko") == "이메일 주소 형식이 아닙니다"


def test_one_date_style_with_four_digit_years_and_24_hours():
    from datetime import UTC, datetime

    from service.lib.i18n import format_moment, format_time_range

    start = datetime(2026, 12, 15, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
    end = datetime(2026, 12, 15, 1, 30, tzinfo=UTC)
    assert format_moment(start, locale="ko") == "2026. 12. 15.(화) 10:00"
    assert format_moment(start, locale="en") == "Dec 15, 2026, 10:00"
    assert format_time_range(start, end, locale="ko") == "10:00–10:30"


def test_a_fair_day_stored_as_text_reads_like_any_date() -> None:
    from datetime import date

    from service.lib.i18n import format_day

    assert format_day("2026-12-15", "ko") == format_day(date(2026, 12, 15), "ko") == "2026. 12. 15.(화)"
