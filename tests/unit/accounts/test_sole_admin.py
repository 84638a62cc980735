"""Which member the members page shows as untouchable: the only admin, and nobody when there are several."""

import uuid

from service.accounts.members import Member, sole_admin


def member(role: str) -> Member:
    return Member(uuid.uuid4(), f"{uuid.uuid4().hex[:6]}@example.kr", "이름", role, None)


def test_the_only_admin_is_the_sole_admin() -> None:
    admin, colleague = member("admin"), member("member")
    assert sole_admin([colleague, admin]) == admin.user_id


def test_two_admins_leave_nobody_untouchable() -> None:
    assert sole_admin([member("admin"), member("admin"), member("member")]) is None
    assert sole_admin([member("member")]) is None
