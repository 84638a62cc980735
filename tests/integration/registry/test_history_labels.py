"""An organization's history reads as words (상태: 승인 대기 → 승인됨), not stored keys."""

import re

from tests.factories import create_staff, verified_firm


async def test_history_shows_labels_not_keys(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    client.cookies.clear()
    for lang, action, change in (
        ("ko", ">승인</td>", "상태: 승인 대기 → 승인됨"),
        ("en", ">Verified</td>", "Status: "),
    ):
        page = await client.get(
            f"/firms/{firm.organization_id}", headers={"cookie": f"pm_session={staff.token}; lang={lang}"}
        )
        assert page.status_code == 200
        text = re.sub(r"\s+", " ", page.text)
        assert action in text and change in text
        assert "organization.verify" not in text and "pending → verified" not in text


def test_values_are_written_in_their_unit():
    from service.registry.history import action_label, value_text

    assert value_text("annual_target_krw", None, "ko") == "–"
    assert value_text("annual_target_krw", 12_500_000, "ko") == "12,500,000원"
    assert value_text("firm_types", ["cooperative"], "ko") == "협동조합"
    assert value_text("district", "mapo", "ko") == "마포구"
    assert action_label("organization.reject", "ko") == "반려"
    assert action_label("something.new", "ko") == "something.new"
