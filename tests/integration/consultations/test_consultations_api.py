"""Everyday consultations over the API: ask, confirm or propose and accept, record, rate; and the
rule the database keeps: a staff member is never in two consultations at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from service.lib import clock
from tests.factories import create_staff, login, verified_agency, verified_firm

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # Tuesday 09:00 in Seoul
URL = "/api/v1/consultations"


def at(hours: float, minutes: int = 60) -> dict[str, str]:
    start = NOW + timedelta(hours=hours)
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat()}


async def ask(client, account, **body):
    payload = {"topic": "procedure", "message": "수의계약 절차가 궁금합니다.", "preferred": [at(26)], **body}
    response = await client.post(URL, json=payload, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_firm_asks_and_staff_confirm(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    other = await verified_agency(client, staff)
    created = await ask(client, firm)
    assert created["status"] == "requested"
    assert created["preferred"][0]["start"].startswith("2026-12-02T02:00")

    queue = (await client.get(URL, headers=staff.headers)).json()
    assert [item["id"] for item in queue["items"]] == [created["id"]]
    clock.set_now(NOW + timedelta(minutes=90))
    queue = (await client.get(URL, headers=staff.headers)).json()
    assert queue["items"][0]["waiting_minutes"] == 90
    assert (await client.get(URL, headers=other.headers)).json()["items"] == []
    assert (await client.get(f"{URL}/{created['id']}", headers=other.headers)).status_code == 404

    confirmed = await client.patch(
        f"{URL}/{created['id']}", json={"status": "confirmed", **at(26), "notes": "x"}, headers=staff.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "confirmed"
    assert body["staff_id"] == staff.user_id
    assert body["mode"] == "online"
    mine = (await client.get(f"{URL}/{created['id']}", headers=firm.headers)).json()
    assert mine["status"] == "confirmed"
    assert "notes" not in mine


async def test_bad_requests_name_every_field(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    payload = {"topic": "gossip", "message": " ", "preferred": [at(-2), at(5, minutes=5)]}
    response = await client.post(URL, json=payload, headers=firm.headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"topic", "message", "preferred[0]", "preferred[1]"}
    too_many = await client.post(
        URL, json={**payload, "preferred": [at(30 + i) for i in range(6)]}, headers=firm.headers
    )
    assert too_many.status_code in (400, 422)
    assert (await client.get(URL, headers=staff.headers)).json()["total"] == 0
    staff_asks = await client.post(
        URL, json={"topic": "other", "message": "m", "preferred": [at(30)]}, headers=staff.headers
    )
    assert staff_asks.status_code == 422
    assert {e["field"] for e in staff_asks.json()["errors"]} == {"organization_id", "start"}


async def test_staff_log_a_consultation_held_by_phone(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    body = {
        "organization_id": firm.organization_id,
        "topic": "bidding",
        "message": "전화 문의: 수의계약 한도",
        **at(-3),
        "outcome": "한도 안내",
    }
    logged = await client.post(URL, json=body, headers=staff.headers)
    assert logged.status_code == 201, logged.text
    assert logged.json()["status"] == "held"
    assert logged.json()["outcome"] == "한도 안내"
    overlapping = await client.post(URL, json={**body, **at(-2.5)}, headers=staff.headers)
    assert overlapping.status_code == 409
    future = await client.post(URL, json={**body, **at(3)}, headers=staff.headers)
    assert future.status_code == 422
    seen = (await client.get(URL, headers=firm.headers)).json()["items"]
    assert [(i["status"], "outcome" in i) for i in seen] == [("held", False)]


async def test_staff_propose_and_the_requester_accepts_then_rates(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff)
    created = await ask(client, agency, topic="bidding")
    url = f"{URL}/{created['id']}"
    proposed = await client.patch(
        url,
        json={"status": "proposed", "proposed": [at(50), at(74)], "mode": "in_person", "place": "센터 3층"},
        headers=staff.headers,
    )
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["status"] == "proposed"
    wrong = await client.patch(url, json={"status": "confirmed", "start": at(51)["start"]}, headers=agency.headers)
    assert wrong.status_code == 422
    accepted = await client.patch(url, json={"status": "confirmed", "start": at(74)["start"]}, headers=agency.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["start"].startswith("2026-12-04T02:00")
    assert accepted.json()["place"] == "센터 3층"

    early = await client.patch(url, json={"rating": 5}, headers=agency.headers)
    assert early.status_code == 409
    not_yet = await client.patch(url, json={"status": "held"}, headers=staff.headers)
    assert not_yet.status_code == 409
    clock.set_now(NOW + timedelta(hours=76))
    staff.token, agency.token = await login(client, staff.email), await login(client, agency.email)
    held = await client.patch(
        url,
        json={
            "status": "held",
            "notes": "직접생산 확인서 안내",
            "outcome": "입찰 참여 예정",
            "follow_up_on": "2026-12-20",
        },
        headers=staff.headers,
    )
    assert held.status_code == 200, held.text
    assert held.json()["follow_up_on"] == "2026-12-20"
    refused = await client.patch(url, json={"notes": "mine"}, headers=agency.headers)
    assert refused.status_code == 403
    rated = await client.patch(url, json={"rating": 4, "rating_comment": "도움이 되었습니다"}, headers=agency.headers)
    assert rated.status_code == 200
    assert rated.json()["rating"] == 4
    assert "notes" not in rated.json()
    bad = await client.patch(url, json={"rating": 9}, headers=agency.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "rating"


async def test_two_confirmations_of_one_staff_member_at_once_exactly_one_wins(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    colleague = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    agency = await verified_agency(client, staff)
    first = await ask(client, firm)
    second = await ask(client, agency)
    bodies = [
        {"status": "confirmed", **at(26), "staff_id": staff.user_id},
        {"status": "confirmed", **at(26.5), "staff_id": staff.user_id},
    ]
    responses = await asyncio.gather(
        client.patch(f"{URL}/{first['id']}", json=bodies[0], headers=staff.headers),
        client.patch(f"{URL}/{second['id']}", json=bodies[1], headers=colleague.headers),
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["rule"] == "staff_busy"
    statuses = sorted(
        [(await client.get(f"{URL}/{c['id']}", headers=staff.headers)).json()["status"] for c in (first, second)]
    )
    assert statuses == ["confirmed", "requested"]
    # The colleague is free then; the cancelled one frees its time.
    other = await client.patch(
        f"{URL}/{(second if responses[1].status_code == 409 else first)['id']}",
        json={"status": "confirmed", **at(26.5), "staff_id": colleague.user_id},
        headers=colleague.headers,
    )
    assert other.status_code == 200, other.text


async def test_confirmation_keeps_to_the_staff_members_hours(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    blocks = [{"weekday": 2, "start": "10:00:00", "end": "12:00:00", "mode": "in_person", "place": "센터 상담실"}]
    put = await client.put("/api/v1/consultation-hours/me", json={"blocks": blocks}, headers=staff.headers)
    assert put.status_code == 200, put.text
    windows = (await client.get("/api/v1/consultation-hours?days=7", headers=firm.headers)).json()
    assert [w["start"] for w in windows] == ["2026-12-02T10:00:00+09:00"]  # Wednesday 10:00 in Seoul
    created = await ask(client, firm)
    url = f"{URL}/{created['id']}"
    outside = await client.patch(url, json={"status": "confirmed", **at(30)}, headers=staff.headers)
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "start"
    inside = await client.patch(url, json={"status": "confirmed", **at(25)}, headers=staff.headers)
    assert inside.status_code == 200, inside.text
    assert inside.json()["mode"] == "in_person"
    assert inside.json()["place"] == "센터 상담실"
    closed = await client.post(
        "/api/v1/consultation-hours/me/exceptions", json={"day": "2026-12-02", "note": "휴무"}, headers=staff.headers
    )
    assert closed.status_code == 201, closed.text
    assert (await client.get("/api/v1/consultation-hours?days=7", headers=firm.headers)).json() == []
    bad = await client.put(
        "/api/v1/consultation-hours/me",
        json={"blocks": [{"weekday": 9, "start": "12:00:00", "end": "10:00:00", "mode": "phone"}]},
        headers=staff.headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"blocks[0].weekday", "blocks[0].end", "blocks[0].mode"}


async def test_a_request_sent_twice_with_one_key_creates_one(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)
    body = {"topic": "procedure", "message": "절차 문의", "preferred": [at(30)]}
    headers = {**firm.headers, "Idempotency-Key": "ask-1"}
    first = await client.post(URL, json=body, headers=headers)
    again = await client.post(URL, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == again.json()["id"]
    assert (await client.get(URL, headers=firm.headers)).json()["total"] == 1
