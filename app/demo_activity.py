"""The demo city's everyday activity, for supervision: neighbours' cases over the last year through the real
workflow (most decided in time, some late, some running out of time today), so the supervisor's cards, rates and
charts come from real clocks and the public statistics from real cases."""

from __future__ import annotations

from datetime import date, timedelta

from app.accounts.tables import User
from app.db import utcnow
from app.demo import DemoFiling, _approve, file_demo_case, move_back
from app.registry.tables import Person
from app.supervision.cards import refresh_cards
from app.supervision.rollup import rebuild
from app.workdays.calendar import load_calendar, local_today

NEIGHBOURS = 8
PLANS = (
    ("440400-GJJ-004", 3, {"transfer_from": "广州市", "employer_name": "珠海格力电器股份有限公司"}),
    ("440400-JTJ-001", 5, {"license_class": "A2", "employer_name": "珠海市港运物流有限公司"}),
    ("440400-RSJ-004", 3, {"unemployed_since": "2026-08-31"}),
    ("440000-WJJ-001", 5, {"employer_name": "珠海市人民医院", "practice_category": "临床",
                           "practice_scope": "内科专业"}),
)
DECIDED = 18  # cases 0..17 decided over the last year; every sixth of them late
RED, YELLOW, FRESH = 2, 2, 2  # then cases now overdue, with one working day left, and just reviewed


async def _neighbours(password_hash: str) -> list[int]:
    """Accounts for a few adults of the registry (activated, mobiles 1370000000N)."""
    people = await Person.raw(
        "SELECT p.id, p.name FROM person p LEFT JOIN app_user u ON u.person = p.id WHERE u.id IS NULL "
        "AND p.birth_date BETWEEN {} AND {} ORDER BY p.id LIMIT {}", date(1970, 1, 1), date(1998, 12, 31), NEIGHBOURS)
    now = utcnow()
    ids = []
    for n, p in enumerate(people, start=1):
        user = User(mobile=f"1370000{n:04d}", password_hash=password_hash, display_name=p["name"], kind="citizen",
                    person=p["id"], created_at=now - timedelta(days=420), activated_at=now - timedelta(days=419))
        await user.save()
        ids.append(user.id)
    return ids


def _calendar_days_back(cal: object, working_days: int, today: date) -> int:
    start = today
    while cal.working_days_between(start, today) < working_days:  # type: ignore[attr-defined]
        start -= timedelta(days=1)
    return (today - start).days


async def seed_activity(password_hash: str) -> str:
    """Neighbours' cases: decided over the last year, and open ones whose clocks give real yellow and red cards."""
    users = await _neighbours(password_hash)
    cal = await load_calendar()
    today = local_today()
    total = DECIDED + RED + YELLOW + FRESH
    for k in range(total):
        code, limit, form = PLANS[k % len(PLANS)]
        case = await file_demo_case(DemoFiling("", code, {}, form), users[k % len(users)], "", {})
        if k < DECIDED:
            took = limit + 3 if k % 6 == 5 else 2
            await _approve(case, days_ago=12 + k * 19, took=took, render=False)
        elif k < DECIDED + RED:
            case = await _approve(case, steps=1, render=False)
            await move_back(case["id"], _calendar_days_back(cal, limit + 2, today))
        elif k < DECIDED + RED + YELLOW:
            case = await _approve(case, steps=1, render=False)
            await move_back(case["id"], _calendar_days_back(cal, limit - 1, today))
        else:
            case = await _approve(case, steps=2, render=False)
            await move_back(case["id"], _calendar_days_back(cal, 1, today))
    cards = await refresh_cards(today)
    await rebuild()
    return f", {total} neighbours' cases ({cards} deadline cards)"
