"""Chinese working days: chinesecalendar's holidays and make-up workdays, the admin's overrides, else Mon–Fri.

Time limits count working days, and the day the period starts is not counted (期间开始之日不计算在内), so a
3-working-day limit started on a Friday ends on the Wednesday after. A case list asks this hundreds of times per
page, so each year is turned once into a sorted array of its working days and every question is a bisection.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from app.audit.services import record
from app.cache import TTLCache
from app.db import utcnow, write_tx
from app.errors import DomainError, FieldErrors, NotFound
from app.i18n import TIMEZONE, _
from app.workdays.tables import CalendarDay

# The years chinesecalendar knows (2004–2026 in v1.11); other years raise NotImplementedError there.
LIBRARY_FIRST_YEAR = min(chinese_calendar.holidays).year
LIBRARY_LAST_YEAR = max(chinese_calendar.holidays).year
# Dates an administrator may enter: wide enough for any case, narrow enough to catch typos such as 0202.
MIN_YEAR, MAX_YEAR = 2000, 2099
NAME_MAX = 40
CACHE_TTL = 60.0  # seconds: several workers each keep a copy, so an edit shows everywhere within a minute

Overrides = Mapping[date, tuple[bool, str]]


def as_date(value: date | datetime | str) -> date:
    """A plain date from what the database or a caller hands over (datetime ≠ date as a dict key)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def library_covers(year: int) -> bool:
    return LIBRARY_FIRST_YEAR <= year <= LIBRARY_LAST_YEAR


def library_is_workday(day: date) -> bool:
    """chinese_calendar.is_workday, for a year it covers, without its per-call range check over every key."""
    return day in chinese_calendar.workdays or (day.weekday() < 5 and day not in chinese_calendar.holidays)


def holiday_name(english: str) -> str:
    """chinesecalendar names holidays in English; its Holiday enum carries the Chinese name (国庆节)."""
    try:
        return str(chinese_calendar.Holiday(english).chinese)
    except ValueError:
        return english


class WorkCalendar:
    """Which days are working days. Pure and synchronous: build it from the overrides (see load_calendar)."""

    def __init__(self, overrides: Overrides | None = None) -> None:
        self._overrides: dict[date, tuple[bool, str]] = {
            as_date(day): (bool(is_workday), name) for day, (is_workday, name) in (overrides or {}).items()
        }
        self._override_years = frozenset(day.year for day in self._overrides)
        self._years: dict[int, list[int]] = {}  # year -> sorted ordinals of its working days

    @property
    def overrides(self) -> dict[date, tuple[bool, str]]:
        return dict(self._overrides)

    def is_workday(self, day: date) -> bool:
        day = as_date(day)
        override = self._overrides.get(day)
        if override is not None:
            return override[0]
        if library_covers(day.year):
            return library_is_workday(day)
        return day.weekday() < 5

    def covers(self, year: int) -> bool:
        """Whether the year's holidays are known: from the library, or from at least one override in it."""
        return library_covers(year) or year in self._override_years

    def _workdays(self, year: int) -> list[int]:
        ordinals = self._years.get(year)
        if ordinals is None:
            first = date(year, 1, 1).toordinal()
            last = date(year, 12, 31).toordinal()
            ordinals = [o for o in range(first, last + 1) if self.is_workday(date.fromordinal(o))]
            self._years[year] = ordinals
        return ordinals

    def add_working_days(self, start: date, n: int) -> date:
        """The day n working days after start (start itself not counted); n=0 is start, n<0 counts back."""
        start = as_date(start)
        if n == 0:
            return start
        year, ordinal = start.year, start.toordinal()
        if n > 0:
            days = self._workdays(year)
            index = bisect_right(days, ordinal) + n - 1  # working days ≤ start are behind us
            while index >= len(days):
                index -= len(days)
                year += 1
                days = self._workdays(year)
            return date.fromordinal(days[index])
        days = self._workdays(year)
        index = bisect_left(days, ordinal) + n  # working days < start are before us
        while index < 0:
            year -= 1
            days = self._workdays(year)
            index += len(days)
        return date.fromordinal(days[index])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: the start day is not counted, the end day is. 0 if end <= start."""
        start, end = as_date(start), as_date(end)
        if end <= start:
            return 0
        first = self._workdays(start.year)
        if start.year == end.year:
            return bisect_right(first, end.toordinal()) - bisect_right(first, start.toordinal())
        count = len(first) - bisect_right(first, start.toordinal())
        for year in range(start.year + 1, end.year):
            count += len(self._workdays(year))
        return count + bisect_right(self._workdays(end.year), end.toordinal())

    def working_days_left(self, due: date, today: date) -> int:
        """Working days from today to a due date; negative, the working days past it, once it is overdue."""
        due, today = as_date(due), as_date(today)
        return self.working_days_between(today, due) if due >= today else -self.working_days_between(due, today)


def uncovered_years(cal: WorkCalendar, today: date) -> list[int]:
    """This year and next whose holidays nobody has given: neither chinesecalendar nor the admin's table."""
    return [year for year in (today.year, today.year + 1) if not cal.covers(year)]


def local_today() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def local_date(moment: datetime) -> date:
    """The day a moment falls on in China."""
    return moment.astimezone(ZoneInfo(TIMEZONE)).date()


def local_midnight(day: date) -> datetime:
    """The moment (in UTC) a day begins in China, for comparing with stored timestamps."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(TIMEZONE)).astimezone(UTC)


# --- the admin's table -------------------------------------------------------------------------------------

_cached = TTLCache(CACHE_TTL)


def forget_calendar() -> None:
    """Drop this worker's copy; the next load_calendar() reads the table again."""
    _cached.forget()


async def load_calendar() -> WorkCalendar:
    """The calendar with the table's overrides, read at most every CACHE_TTL seconds per worker."""
    async def load() -> WorkCalendar:
        rows = await CalendarDay.select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name)
        return WorkCalendar({as_date(r["day"]): (r["is_workday"], r["name"]) for r in rows})

    return await _cached.get(None, load)


async def days_in_year(year: int) -> list[dict[str, Any]]:
    """The table's rows for one year, in date order."""
    rows = await CalendarDay.select().where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
    ).order_by(CalendarDay.day)
    for row in rows:
        row["day"] = as_date(row["day"])
    return rows


def parse_day(value: str) -> date:
    """A date typed as YYYY-MM-DD (what <input type="date"> sends), within MIN_YEAR..MAX_YEAR."""
    value = value.strip()
    if not value:
        raise DomainError(_("Please enter a date."), "day")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise DomainError(_("Please enter a date such as 2027-01-01."), "day") from None
    _check_day(day)
    return day


def _check_day(day: date) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise DomainError(_("Please enter a date from %(first)s to %(last)s.", first=MIN_YEAR, last=MAX_YEAR), "day")


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= NAME_MAX:
        raise DomainError(_("Please enter %(lo)s to %(hi)s characters.", lo=1, hi=NAME_MAX), "name")


def parse_form(form: Mapping[str, str]) -> tuple[date, bool, str]:
    """(day, is_workday, name) from the admin's form, or DomainError naming every bad field at once."""
    errors = FieldErrors()
    day = errors.check(parse_day, form.get("day", ""))
    kind = form.get("kind", "")
    if kind not in ("holiday", "workday"):
        errors.add("kind", _("Please choose one of the options."))
    name = form.get("name", "").strip()
    errors.check(_check_name, name)
    errors.raise_if_any()
    return day, kind == "workday", name


async def set_day(day: date, is_workday: bool, name: str, *, author_id: int, ip: str) -> None:
    """Declare a day a holiday or a make-up workday (replacing what the table said about it before)."""
    errors = FieldErrors()
    errors.check(_check_day, day)
    name = name.strip()
    errors.check(_check_name, name)
    errors.raise_if_any()
    async with write_tx():
        before = await CalendarDay.select(CalendarDay.is_workday, CalendarDay.name).where(
            CalendarDay.day == day).first()
        now = utcnow()
        if before is None:
            await CalendarDay.insert(CalendarDay(day=day, is_workday=is_workday, name=name, author_id=author_id,
                                                 updated_at=now))
        else:
            await CalendarDay.update({CalendarDay.is_workday: is_workday, CalendarDay.name: name,
                                      CalendarDay.author_id: author_id, CalendarDay.updated_at: now}).where(
                CalendarDay.day == day)
        await record("calendar.day_set", actor_id=author_id, subject_type="calendar", subject_key=day.isoformat(),
                     ip=ip, is_workday=is_workday, name=name,
                     before=None if before is None else {"is_workday": before["is_workday"], "name": before["name"]})
    forget_calendar()


async def remove_day(day: date, *, author_id: int, ip: str) -> None:
    """Take a day out of the table: it falls back to chinesecalendar (or Mon–Fri). NotFound if it is not there."""
    async with write_tx():
        before = await CalendarDay.select(CalendarDay.is_workday, CalendarDay.name).where(
            CalendarDay.day == day).first()
        if before is None:
            raise NotFound()
        await CalendarDay.delete().where(CalendarDay.day == day)
        await record("calendar.day_removed", actor_id=author_id, subject_type="calendar",
                     subject_key=day.isoformat(), ip=ip, is_workday=before["is_workday"], name=before["name"])
    forget_calendar()


# --- what the library says, for the admin page ----------------------------------------------------------------

@dataclass(frozen=True)
class LibraryHoliday:
    """One holiday of a year as chinesecalendar has it: its days off (in runs) and its make-up workdays."""

    name: str
    days_off: list[tuple[date, date]]  # (first, last) runs of consecutive days
    workdays: list[date]


def library_schedule(year: int) -> list[LibraryHoliday]:
    """The statutory holidays and make-up workdays chinesecalendar has for the year, in date order; [] if none."""
    if not library_covers(year):
        return []
    off = chinese_calendar.get_holidays(date(year, 1, 1), date(year, 12, 31), include_weekends=False)
    on = [d for d in chinese_calendar.get_workdays(date(year, 1, 1), date(year, 12, 31), include_weekends=True)
          if d in chinese_calendar.workdays]
    groups: dict[str, tuple[list[tuple[date, date]], list[date]]] = {}
    for day in off:
        runs, _on = groups.setdefault(chinese_calendar.holidays[day], ([], []))
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    for day in on:
        groups.setdefault(chinese_calendar.workdays[day], ([], []))[1].append(day)
    schedule = [LibraryHoliday(holiday_name(key), runs, on_days) for key, (runs, on_days) in groups.items()]
    return sorted(schedule, key=lambda h: h.days_off[0][0] if h.days_off else h.workdays[0])
