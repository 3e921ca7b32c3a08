"""The working-day calendar page (/office/calendar): holidays and make-up workdays the library lacks or gets wrong."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.errors import DomainError, NotFound
from app.i18n import LOCALE
from app.web.auth import client_ip, current_user, login_required, requires_role
from app.web.flash import with_flash
from app.web.forms import FormData, kept, text
from app.web.templating import render
from app.workdays import calendar
from app.workdays.calendar import WorkCalendar

PAGE = "pages/office/calendar.html"
# Without overrides: what chinesecalendar (or Mon–Fri) says, shown beside each entry.
BASE_CALENDAR = WorkCalendar()


def weekday(day: date) -> str:
    return format_date(day, format="EEE", locale=LOCALE)


def chosen_year(raw: str | None) -> int:
    raw = (raw or "").strip()
    if raw.isdigit() and calendar.MIN_YEAR <= int(raw) <= calendar.MAX_YEAR:
        return int(raw)
    return calendar.local_today().year


async def page(request: Request[Any, Any, Any], year: int, *, values: dict[str, str], errors: dict[str, str],
               status_code: int = 200) -> Template:
    return render(
        request, PAGE, status_code=status_code,
        year=year, min_year=calendar.MIN_YEAR, max_year=calendar.MAX_YEAR,
        entries=await calendar.days_in_year(year),
        schedule=calendar.library_schedule(year),
        library_covered=calendar.library_covers(year),
        library_first=calendar.LIBRARY_FIRST_YEAR, library_last=calendar.LIBRARY_LAST_YEAR,
        uncovered=calendar.uncovered_years(await calendar.load_calendar(), calendar.local_today()),
        base=BASE_CALENDAR, weekday=weekday, values=values, errors=errors,
    )


class CalendarAdminController(Controller):
    path = "/office/calendar"
    guards = [login_required, requires_role("catalog_admin")]  # noqa: RUF012 - Litestar reads it from the class

    @get("/", name="calendar_admin")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """One year: the days entered here and the holidays chinesecalendar knows."""
        return await page(request, chosen_year(request.query_params.get("year")), values={"kind": "holiday"},
                          errors={})

    @post("/")
    async def set_day(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Enter a holiday or make-up workday, or change the one entered for that date."""
        user = current_user(request)
        assert user is not None  # noqa: S101 - the guard let only a logged-in officer through
        form = {"day": text(data, "day", 20), "kind": text(data, "kind", 20), "name": text(data, "name", 500)}
        try:
            day, is_workday, name = calendar.parse_form(form)
            await calendar.set_day(day, is_workday, name, author_id=user.id, ip=client_ip(request))
        except DomainError as exc:
            shown = chosen_year(form["day"][:4]) if len(form["day"]) >= 4 else chosen_year(text(data, "year", 4))
            return await page(request, shown, values=kept(data), errors=exc.errors, status_code=422)
        return with_flash(Redirect(f"/office/calendar?year={day.year}", status_code=303), "calendar_saved")

    @post("/{day:str}/delete")
    async def remove_day(self, request: Request[Any, Any, Any], day: FromPath[str]) -> Redirect:
        """Take an entry out: the date goes back to what chinesecalendar (or Mon–Fri) says."""
        user = current_user(request)
        assert user is not None  # noqa: S101 - the guard let only a logged-in officer through
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise NotFound() from None
        await calendar.remove_day(parsed, author_id=user.id, ip=client_ip(request))
        return with_flash(Redirect(f"/office/calendar?year={parsed.year}", status_code=303), "calendar_removed")
