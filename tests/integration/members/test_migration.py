"""Migration 016: the users existing before it become the admins of their organizations."""

import asyncio

from service.db.engine import connect_raw
from service.db.migrate import downgrade, upgrade


async def _sql(url: str, statement: str) -> list[tuple[object, ...]]:
    conn = await connect_raw(url)
    try:
        return [tuple(row) for row in await conn.fetch(statement)]
    finally:
        await conn.close()


def test_existing_users_become_admins_of_their_organization(database_url):
    downgrade(database_url, "1601")
    downgrade(database_url, "-1")  # the schema just before 016
    asyncio.run(
        _sql(
            database_url,
            """
            WITH org AS (INSERT INTO organizations (kind, name, status, district, agency_type)
                         VALUES ('agency', '은평구청', 'verified', 'eunpyeong', 'district_office')
                         RETURNING id)
            INSERT INTO users (email, password_hash, name, role, organization_id)
            SELECT 'first@example.go.kr', 'x', '담당', 'agency'::user_role, id FROM org
            UNION ALL SELECT 'staff@center.kr', 'x', '직원', 'staff'::user_role, NULL
            RETURNING id
            """,
        )
    )
    upgrade(database_url)
    rows = asyncio.run(
        _sql(database_url, "SELECT email, member_role, joined_at = created_at FROM users ORDER BY email")
    )
    assert rows == [("first@example.go.kr", "admin", True), ("staff@center.kr", None, None)]
