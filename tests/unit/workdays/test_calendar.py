"""Working days: chinesecalendar's holidays and make-up workdays, overrides first, Mon–Fri where nobody knows."""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from app.workdays.calendar import LIBRARY_LAST_YEAR, WorkCalendar, library_schedule, uncovered_years

CAL = WorkCalendar()


def naive_add(cal: WorkCalendar, start: date, n: int) -> date:
    day = start
    while n > 0:
        day += timedelta(days=1)
        n -= cal.is_workday(day)
    return day


def naive_between(cal: WorkCalendar, start: date, end: date) -> int:
    return sum(cal.is_workday(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))


def test_national_day_2026_as_the_library_has_it():
    # 2026-10-01 (Thu) to 10-07 (Wed) off; the weekends 09-20 (Sun) and 10-10 (Sat) are worked instead.
    for day in range(1, 8):
        assert not CAL.is_workday(date(2026, 10, day))
        assert chinese_calendar.is_holiday(date(2026, 10, day))
    assert CAL.is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert CAL.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert CAL.is_workday(date(2026, 10, 8)) and CAL.is_workday(date(2026, 10, 9))
    assert not CAL.is_workday(date(2026, 10, 11))  # an ordinary Sunday
    # The Mid-Autumn Festival is its own holiday just before: 09-25 (Fri) to 09-27 (Sun).
    assert not CAL.is_workday(date(2026, 9, 25))


def test_agrees_with_the_library_on_every_day_it_covers():
    day = date(2025, 1, 1)
    while day <= date(2026, 12, 31):
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_add_working_days_across_the_spring_festival_2026():
    # Off 02-15 (Sun) to 02-23 (Mon); 02-14 (Sat) and 02-28 (Sat) are make-up workdays.
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert CAL.add_working_days(date(2026, 2, 12), 5) == date(2026, 2, 26)
    # 02-24 Tue, 25, 26, 27 Fri, 28 Sat (worked), 03-02 Mon
    assert CAL.add_working_days(date(2026, 2, 14), 6) == date(2026, 3, 2)
    assert CAL.add_working_days(date(2026, 2, 16), 1) == date(2026, 2, 24)  # started on a holiday


def test_the_start_day_is_not_counted():
    # Friday 2026-03-06: one working day later is Monday, three later Wednesday.
    assert CAL.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)
    assert CAL.add_working_days(date(2026, 3, 6), 3) == date(2026, 3, 11)
    assert CAL.add_working_days(date(2026, 3, 6), 0) == date(2026, 3, 6)
    assert CAL.working_days_between(date(2026, 3, 6), date(2026, 3, 6)) == 0
    assert CAL.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 1
    assert CAL.working_days_between(date(2026, 3, 9), date(2026, 3, 6)) == 0


def test_working_days_between():
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    # (09-18, 10-12]: 09-21..24 (4), 09-20 Sun worked (1), 09-28..30 (3), 10-08, 09, 10 Sat (3), 10-12 Mon (1)
    assert CAL.working_days_between(date(2026, 9, 18), date(2026, 10, 12)) == 12
    assert CAL.working_days_between(date(2026, 12, 31), date(2027, 1, 1)) == 1  # 2027: plain Mon–Fri
    for start, end in [(date(2025, 12, 20), date(2027, 3, 1)), (date(2026, 1, 1), date(2026, 12, 31))]:
        assert CAL.working_days_between(start, end) == naive_between(CAL, start, end)


def test_add_and_between_are_inverse():
    rng = random.Random(7)
    for _ in range(300):
        start = date(2025, 6, 1) + timedelta(days=rng.randrange(700))
        n = rng.randrange(0, 90)
        end = CAL.add_working_days(start, n)
        assert end == naive_add(CAL, start, n)
        assert CAL.working_days_between(start, end) == n
        assert n == 0 or CAL.is_workday(end)


def test_counting_back():
    assert CAL.add_working_days(date(2026, 2, 24), -1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2027, 1, 4), -2) == date(2026, 12, 31)  # 2027-01-01 is a Friday


def test_overrides_win_over_the_library():
    cal = WorkCalendar({date(2026, 10, 8): (False, "加休"), date(2026, 10, 3): (True, "值班")})
    assert not cal.is_workday(date(2026, 10, 8))
    assert cal.is_workday(date(2026, 10, 3))
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 3)
    assert cal.add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 9)
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2
    assert cal.overrides[date(2026, 10, 8)] == (False, "加休")


def test_2027_is_monday_to_friday_plus_overrides():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 1))
    assert CAL.is_workday(date(2027, 1, 1))  # a Friday; nobody has said otherwise
    assert not CAL.is_workday(date(2027, 1, 2))
    cal = WorkCalendar({date(2027, 1, 1): (False, "元旦"), date(2027, 2, 6): (True, "春节调休上班")})
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 2, 6))  # a Saturday
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert cal.working_days_between(date(2026, 12, 31), date(2027, 1, 8)) == 5
    assert cal.is_workday(datetime(2027, 2, 6, 9, 30))  # a datetime counts as its date


def test_covers():
    assert LIBRARY_LAST_YEAR == 2026
    assert CAL.covers(2004) and CAL.covers(2026)
    assert not CAL.covers(2027) and not CAL.covers(2003)
    assert WorkCalendar({date(2027, 1, 1): (False, "元旦")}).covers(2027)
    assert uncovered_years(CAL, date(2026, 5, 1)) == [2027]
    assert uncovered_years(CAL, date(2027, 5, 1)) == [2027, 2028]
    assert uncovered_years(WorkCalendar({date(2027, 1, 1): (False, "元旦")}), date(2026, 5, 1)) == []


def test_the_library_schedule_for_the_admin_page():
    schedule = {h.name: h for h in library_schedule(2026)}
    assert schedule["国庆节"].days_off == [(date(2026, 10, 1), date(2026, 10, 7))]
    assert schedule["国庆节"].workdays == [date(2026, 9, 20), date(2026, 10, 10)]
    assert schedule["春节"].days_off == [(date(2026, 2, 15), date(2026, 2, 23))]
    assert schedule["春节"].workdays == [date(2026, 2, 14), date(2026, 2, 28)]
    assert next(iter(schedule)) == "元旦"
    assert library_schedule(2027) == []


def test_fast_enough_for_a_case_list():
    cal = WorkCalendar({date(2027, 1, 1): (False, "元旦")})
    rng = random.Random(1)
    starts = [date(2025, 1, 1) + timedelta(days=rng.randrange(900)) for _ in range(10_000)]
    spans = [rng.randrange(20, 120) for _ in range(10_000)]
    began = time.perf_counter()
    for start, n in zip(starts, spans, strict=True):
        end = cal.add_working_days(start, n)
        cal.working_days_between(start, end)
    assert time.perf_counter() - began < 0.5
