"""The calendar page: an administrator enters the holidays chinesecalendar does not know, and it counts at once."""

from __future__ import annotations

import json
from datetime import date

import pytest

from app.audit.tables import AuditEvent
from app.workdays.calendar import forget_calendar, load_calendar
from app.workdays.tables import CalendarDay
from tests import factories as f

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fresh_calendar():
    forget_calendar()
    yield
    forget_calendar()


@pytest.fixture
async def admin(db, client):
    dept = await f.department(code="ZH-HALL", name="珠海市政务服务中心")
    officer = await f.officer(dept, "catalog_admin")
    await f.login(client, officer.mobile)
    return officer


async def test_an_admin_enters_a_2027_holiday(admin, client):
    page = await client.get("/office/calendar", params={"year": "2027"})
    assert page.status_code == 200
    assert "2026" in page.text and "国务院" in page.text  # the library stops at 2026: enter 2027 here
    assert not (await load_calendar()).covers(2027)

    response = await f.post(client, "/office/calendar", {"day": "2027-01-01", "kind": "holiday", "name": "元旦"})
    assert response.status_code == 303
    assert response.headers["location"] == "/office/calendar?year=2027"
    assert "calendar_saved" in response.headers["set-cookie"]
    page = await client.get(response.headers["location"])
    assert "元旦" in page.text and "2027年1月1日" in page.text

    row = await CalendarDay.objects().get(CalendarDay.day == date(2027, 1, 1))
    assert row.is_workday is False and row.name == "元旦" and row.author_id == admin.id
    audit = await AuditEvent.objects().get(AuditEvent.action == "calendar.day_set")
    assert audit.actor_id == admin.id and audit.subject_type == "calendar" and audit.subject_key == "2027-01-01"
    assert json.loads(audit.detail)["name"] == "元旦"

    cal = await load_calendar()
    assert not cal.is_workday(date(2027, 1, 1)) and cal.covers(2027)
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)

    # The same date again changes the entry instead of adding a second one.
    await f.post(client, "/office/calendar", {"day": "2027-01-01", "kind": "workday", "name": "元旦值班"})
    assert await CalendarDay.count() == 1
    assert (await CalendarDay.objects().get(CalendarDay.day == date(2027, 1, 1))).is_workday is True
    forget_calendar()
    assert (await load_calendar()).is_workday(date(2027, 1, 1))

    response = await f.post(client, "/office/calendar/2027-01-01/delete")
    assert response.status_code == 303 and response.headers["location"] == "/office/calendar?year=2027"
    assert "calendar_removed" in response.headers["set-cookie"]
    assert await CalendarDay.count() == 0
    assert await AuditEvent.exists().where(AuditEvent.action == "calendar.day_removed",
                                           AuditEvent.subject_key == "2027-01-01", AuditEvent.actor_id == admin.id)
    assert not (await load_calendar()).covers(2027)
    assert (await f.post(client, "/office/calendar/2027-01-01/delete")).status_code == 404
    assert (await f.post(client, "/office/calendar/not-a-date/delete")).status_code == 404


async def test_the_page_shows_the_library_holidays(admin, client, monkeypatch):
    monkeypatch.setattr("app.workdays.calendar.local_today", lambda: date(2026, 11, 24))
    page = await client.get("/office/calendar", params={"year": "2026"})
    assert page.status_code == 200
    assert "国庆节" in page.text and "2026年10月1日" in page.text and "2026年10月7日" in page.text
    assert "2026年10月10日" in page.text  # a make-up workday
    assert "国务院" not in page.text
    assert "尚无2027年的节假日安排" in page.text and 'href="/office/calendar?year=2027"' in page.text
    await f.post(client, "/office/calendar", {"day": "2027-01-01", "kind": "holiday", "name": "元旦"})
    assert "尚无2027年的节假日安排" not in (await client.get("/office/calendar", params={"year": "2026"})).text
    assert (await client.get("/office/calendar", params={"year": "abc"})).status_code == 200


async def test_bad_input_is_refused_with_the_input_kept(admin, client):
    response = await f.post(client, "/office/calendar", {"day": "", "kind": "holiday", "name": "国庆", "year": "2027"})
    assert response.status_code == 422
    assert "请填写日期" in response.text
    assert 'value="国庆"' in response.text

    long_name = "很长的节日名称" * 7
    response = await f.post(client, "/office/calendar", {"day": "2027-10-01", "kind": "holiday", "name": long_name})
    assert response.status_code == 422
    assert "请填写1至40个字" in response.text
    assert f'value="{long_name}"' in response.text and 'value="2027-10-01"' in response.text

    response = await f.post(client, "/office/calendar", {"day": "2027-13-45", "kind": "sometimes", "name": "x"})
    assert response.status_code == 422
    assert "请按2027-01-01的格式填写日期" in response.text and "请从选项中选择" in response.text
    assert await CalendarDay.count() == 0
    assert not await AuditEvent.exists().where(AuditEvent.action == "calendar.day_set")


async def test_only_catalogue_administrators_get_in(db, client):
    dept = await f.department()
    reviewer = await f.officer(dept, "reviewer")
    await f.login(client, reviewer.mobile)
    assert (await client.get("/office/calendar")).status_code == 403
    response = await f.post(client, "/office/calendar", {"day": "2027-01-01", "kind": "holiday", "name": "元旦"})
    assert response.status_code == 403
    assert await CalendarDay.count() == 0
    assert await AuditEvent.count().where(AuditEvent.action == "access.denied", AuditEvent.actor_id == reviewer.id) == 2
