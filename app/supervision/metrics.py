"""The figures of /supervision and /stats: sums over the monthly roll-ups, the deadline cards, and small tables.

Aggregates never scan the cases: they read `case_rollup` (one row per department, item and month) and the active
cards (a partial index). Only the drill-down's case list reads cases, a page at a time through their indexes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from babel.numbers import format_decimal, format_percent

from app.accounts.sessions import CurrentUser
from app.filings.services import officer_may_see
from app.filings.workflow import OPEN_STATES_SQL, clock_view
from app.i18n import LOCALE, N_
from app.registry.tables import Department
from app.supervision.rollup import COUNTS, DECIDED_STATES, month_of
from app.supervision.tables import CaseRollup
from app.workdays.calendar import as_date, load_calendar, local_today

PERIOD_MONTHS = 12
MAX_PERIOD_MONTHS = 120
PAGE_SIZE = 50
CSV_MAX_ROWS = 100_000
NONE_TEXT = "—"  # a rate with nothing to divide by is unknown, not 0 %
ONLINE_LEVEL = "全程网办"

# (key, label): the six figures per department, in the order the table and the CSV show them.
RATES = (
    ("on_time_rate", N_("On-time rate")),
    ("online_rate", N_("Online handling rate")),
    ("zero_visit_rate", N_("Zero-visit rate")),
    ("average_days", N_("Average working days")),
    ("satisfaction_rate", N_("Satisfaction rate")),
    ("rectification_rate", N_("Rectification rate")),
)
CASE_FILTERS = {
    "yellow": N_("Active yellow cards"),
    "red": N_("Active red cards"),
    "open": N_("All open cases"),
    "late": N_("Decided late"),
}



def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _parse_month(text: str) -> date | None:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


@dataclass(frozen=True)
class Period:
    """Whole months from `first` to `last` (both the first day of their month, both included)."""

    first: date
    last: date

    @classmethod
    def last_months(cls, today: date, n: int = PERIOD_MONTHS) -> Period:
        last = month_of(today)
        return cls(add_months(last, 1 - n), last)

    @classmethod
    def parse(cls, start: str, end: str, today: date) -> Period:
        """The period a filter form asked for (YYYY-MM each); what cannot be read falls back to the default."""
        default = cls.last_months(today)
        first, last = _parse_month(start) or default.first, _parse_month(end) or default.last
        if first > last:
            first, last = last, first
        return cls(max(first, add_months(last, 1 - MAX_PERIOD_MONTHS)), last)

    @property
    def months(self) -> list[date]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month = add_months(month, 1)
        return out

    @property
    def query(self) -> str:
        return f"from={self.first:%Y-%m}&to={self.last:%Y-%m}"


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


# A dashboard formats hundreds of figures and Babel takes ~30 µs for each; shown to one decimal there are only a
# few thousand different texts, so each is formatted once per worker.
@functools.lru_cache(maxsize=4096)
def _percent(tenths: int) -> str:
    return format_percent(tenths / 1000, "#,##0.0%", locale=LOCALE)


@functools.lru_cache(maxsize=4096)
def _decimal(tenths: int) -> str:
    return format_decimal(tenths / 10, "#,##0.0", locale=LOCALE)


def fmt_rate(value: float | None) -> str:
    return NONE_TEXT if value is None else _percent(round(value * 1000))


def fmt_days(value: float | None) -> str:
    return NONE_TEXT if value is None else _decimal(round(value * 10))


@dataclass
class Figures:
    """The roll-up counts of some departments, items and months, and the rates read from them."""

    submitted: int = 0
    online: int = 0
    zero_visit: int = 0
    decided: int = 0
    on_time: int = 0
    days_sum: int = 0
    ratings: int = 0
    satisfied: int = 0
    bad_ratings: int = 0
    rectifications: int = 0
    rectified: int = 0

    @classmethod
    def of(cls, row: dict[str, Any]) -> Figures:
        return cls(**{c: int(row.get(c) or 0) for c in COUNTS})

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.on_time, self.decided)

    @property
    def online_rate(self) -> float | None:
        return _ratio(self.online, self.submitted)

    @property
    def zero_visit_rate(self) -> float | None:
        return _ratio(self.zero_visit, self.submitted)

    @property
    def average_days(self) -> float | None:
        return _ratio(self.days_sum, self.decided)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.ratings)

    @property
    def rectification_rate(self) -> float | None:
        return _ratio(self.rectified, self.rectifications)

    def text(self, key: str) -> str:
        """One of the six figures as shown: a percentage, or days with one decimal, or —."""
        return fmt_days(self.average_days) if key == "average_days" else fmt_rate(getattr(self, key))

    def rate_texts(self) -> list[str]:
        """The six figures as shown, in the order of RATES (the page and the CSV both use this)."""
        return [self.text(key) for key, _label in RATES]


@dataclass
class DepartmentRow:
    id: int
    name: str
    short_name: str
    figures: Figures
    yellow: int = 0
    red: int = 0

    @property
    def has_data(self) -> bool:
        """Anything to show for the period: cases, ratings, rectifications, or an active card."""
        f = self.figures
        return bool(f.submitted or f.decided or f.ratings or f.rectifications or self.yellow or self.red)


@dataclass
class Dashboard:
    period: Period
    departments: list[DepartmentRow]
    totals: Figures
    months: list[tuple[date, Figures]]
    yellow: int
    red: int
    officers: list[dict[str, Any]] = field(default_factory=list)  # the TOP_OFFICERS with the most cards
    officers_with_cards: int = 0


# The dashboard lists the officers with the most cards; a department's drill-down lists all of its own.
TOP_OFFICERS = 20
_SUMS = ", ".join(f"SUM({c}) AS {c}" for c in COUNTS)


async def _sums_by(key: str, period: Period, *, department: int | None = None) -> list[dict[str, Any]]:
    where = "month >= {} AND month <= {}"
    args: list[Any] = [period.first, period.last]
    if department is not None:
        where += " AND department = {}"
        args.append(department)
    return await CaseRollup.raw(
        f"SELECT {key}, {_SUMS} FROM case_rollup WHERE {where} GROUP BY {key}", *args)  # noqa: S608 - our names


async def by_month(period: Period, department: int | None = None) -> list[tuple[date, Figures]]:
    rows = {as_date(r["month"]): Figures.of(r) for r in await _sums_by("month", period, department=department)}
    return [(m, rows.get(m, Figures())) for m in period.months]


async def departments() -> list[dict[str, Any]]:
    return await Department.select(Department.id, Department.name, Department.short_name).order_by(
        Department.sort_order).order_by(Department.code)


async def department(department_id: int) -> dict[str, Any] | None:
    return await Department.select(Department.id, Department.name, Department.short_name).where(
        Department.id == department_id).first()


async def active_cards(department: int | None = None) -> list[dict[str, Any]]:
    """Active cards counted per department, officer and colour (the partial index holds only active cards)."""
    where, args = "k.closed_on IS NULL", []
    if department is not None:
        where += " AND k.department = {}"
        args.append(department)
    return await CaseRollup.raw(
        "SELECT k.department, k.officer, u.display_name AS officer_name, "  # noqa: S608 - fixed text and placeholders
        "SUM(CASE WHEN k.color = 'yellow' THEN 1 ELSE 0 END) AS yellow, "
        "SUM(CASE WHEN k.color = 'red' THEN 1 ELSE 0 END) AS red "
        f"FROM case_card k LEFT JOIN app_user u ON u.id = k.officer WHERE {where} "
        "GROUP BY k.department, k.officer, u.display_name", *args)


async def department_rows(period: Period) -> list[DepartmentRow]:
    """Every department with its figures for the period (no cards): the rate charts need no more."""
    by_department, all_departments = await asyncio.gather(_sums_by("department", period), departments())
    sums = {r["department"]: Figures.of(r) for r in by_department}
    return [DepartmentRow(d["id"], d["name"], d["short_name"] or d["name"], sums.get(d["id"], Figures()))
            for d in all_departments]


async def dashboard(period: Period) -> Dashboard:
    """Every department's figures for the period, the totals, the months, and the active cards (the queries at
    once, on the pool's connections)."""
    rows, cards, months = await asyncio.gather(department_rows(period), active_cards(), by_month(period))
    per_department: dict[int, list[int]] = {}
    for c in cards:
        counts = per_department.setdefault(c["department"], [0, 0])
        counts[0] += int(c["yellow"])
        counts[1] += int(c["red"])
    for row in rows:
        row.yellow, row.red = per_department.get(row.id, (0, 0))
    names = {row.id: row.short_name for row in rows}
    totals = Figures()
    for row in rows:
        totals.add(row.figures)
    officers = sorted(
        ({"department_id": c["department"], "department": names.get(c["department"], ""), "id": c["officer"],
          "name": c["officer_name"] or "", "yellow": int(c["yellow"]), "red": int(c["red"])} for c in cards),
        key=lambda o: (-o["red"], -o["yellow"], o["department"], o["name"]))
    return Dashboard(period=period, departments=rows, totals=totals, months=months,
                     yellow=sum(r.yellow for r in rows), red=sum(r.red for r in rows),
                     officers=officers[:TOP_OFFICERS], officers_with_cards=len(officers))


@dataclass
class DepartmentView:
    department: dict[str, Any]
    period: Period
    totals: Figures
    months: list[tuple[date, Figures]]
    officers: list[dict[str, Any]]
    yellow: int
    red: int


async def department_view(department_id: int, period: Period) -> DepartmentView | None:
    """One department's figures by month and its officers' active cards."""
    d = await department(department_id)
    if d is None:
        return None
    months = await by_month(period, department_id)
    totals = Figures()
    for _month, figures in months:
        totals.add(figures)
    officers = sorted(
        ({"id": c["officer"], "name": c["officer_name"] or "", "yellow": int(c["yellow"]), "red": int(c["red"])}
         for c in await active_cards(department_id)),
        key=lambda o: (-o["red"], -o["yellow"], o["name"]))
    return DepartmentView(department=d, period=period, totals=totals, months=months, officers=officers,
                          yellow=sum(o["yellow"] for o in officers), red=sum(o["red"] for o in officers))


# --- the drill-down's cases ---------------------------------------------------------------------------------------

_CASE_COLUMNS = ("c.id, c.case_no, c.state, c.hall, c.department, c.limit_days, c.clock_started_on, c.paused_since, "
                 "c.paused_days, c.due_on, c.decided_on, c.days_used, c.submitted_at, i.name AS item_name, "
                 "k.color AS card, u.display_name AS officer_name")


def _case_query(department_id: int, case_filter: str, period: Period) -> tuple[str, list[Any]]:
    """The FROM and WHERE of a filter's cases (ordered by due date, then id, for stable pages)."""
    base = ("FROM filing_case c JOIN service_item i ON i.id = c.item "
            'LEFT JOIN case_card k ON k."case" = c.id LEFT JOIN app_user u ON u.id = k.officer ')
    if case_filter in ("yellow", "red"):
        return (base + "WHERE k.closed_on IS NULL AND k.department = {} AND k.color = {}",
                [department_id, case_filter])
    if case_filter == "late":
        decided = ", ".join(f"'{s}'" for s in DECIDED_STATES)
        return (base + f"WHERE c.department = {{}} AND c.state IN ({decided}) AND c.decided_on >= {{}} "
                "AND c.decided_on < {} AND c.days_used > c.limit_days",
                [department_id, period.first, add_months(period.last, 1)])
    return base + f"WHERE c.department = {{}} AND c.state IN ({OPEN_STATES_SQL})", [department_id]


async def _with_clocks(rows: list[dict[str, Any]], user: CurrentUser) -> list[dict[str, Any]]:
    cal = await load_calendar()
    today = local_today()
    out = []
    for r in rows:
        for key in ("clock_started_on", "paused_since", "due_on", "decided_on"):
            if r[key] is not None:
                r[key] = as_date(r[key])
        out.append({**r, "clock": clock_view(r, cal, today), "may_open": officer_may_see(user, r)})
    return out


async def department_cases(department_id: int, case_filter: str, period: Period, page: int,
                           user: CurrentUser) -> list[dict[str, Any]]:
    """One page of a filter's cases, earliest due date first; `may_open` says whether the user may open it."""
    sql, args = _case_query(department_id, case_filter, period)
    rows = await CaseRollup.raw(
        f"SELECT {_CASE_COLUMNS} {sql} ORDER BY c.due_on, c.id LIMIT {PAGE_SIZE} "
        f"OFFSET {(max(page, 1) - 1) * PAGE_SIZE}", *args)
    return await _with_clocks(rows, user)


async def iter_department_cases(department_id: int, case_filter: str, period: Period,
                                batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
    """Every case of a filter (at most CSV_MAX_ROWS), fetched in batches after the last one seen, for the CSV."""
    sql, args = _case_query(department_id, case_filter, period)
    cal = await load_calendar()
    today = local_today()
    sent, after = 0, None
    while sent < CSV_MAX_ROWS:
        keyset, extra = "", []
        if after is not None:
            keyset = " AND (c.due_on > {} OR (c.due_on = {} AND c.id > {}))"
            extra = [after[0], after[0], after[1]]
        rows = await CaseRollup.raw(
            f"SELECT {_CASE_COLUMNS} {sql}{keyset} ORDER BY c.due_on, c.id "
            f"LIMIT {min(batch, CSV_MAX_ROWS - sent)}", *args, *extra)
        for r in rows:
            for key in ("clock_started_on", "paused_since", "due_on", "decided_on"):
                if r[key] is not None:
                    r[key] = as_date(r[key])
            yield {**r, "clock": clock_view(r, cal, today)}
        sent += len(rows)
        if len(rows) < batch:
            return
        after = (rows[-1]["due_on"], rows[-1]["id"])


# --- the public statistics ----------------------------------------------------------------------------------------

@dataclass
class PublicStats:
    period: Period
    items_published: int
    items_online: int
    months: list[tuple[date, Figures]]
    totals: Figures
    busiest: list[dict[str, Any]]


async def public_stats(today: date, top: int = 10) -> PublicStats:
    """Aggregates anyone may see: the catalogue's online items and the last twelve months' roll-ups."""
    period = Period.last_months(today)
    items = await CaseRollup.raw(
        "SELECT COUNT(*) AS published, SUM(CASE WHEN online_level = {} THEN 1 ELSE 0 END) AS online "
        "FROM service_item WHERE status = 'published'", ONLINE_LEVEL)
    months = await by_month(period)
    totals = Figures()
    for _month, figures in months:
        totals.add(figures)
    busiest = await CaseRollup.raw(
        "SELECT r.item, i.code, i.name, d.short_name AS department, r.submitted FROM ("
        "SELECT item, SUM(submitted) AS submitted FROM case_rollup WHERE month >= {} AND month <= {} "
        "GROUP BY item ORDER BY SUM(submitted) DESC, item LIMIT {}) r "
        "JOIN service_item i ON i.id = r.item JOIN department d ON d.id = i.department "
        "WHERE r.submitted > 0 ORDER BY r.submitted DESC, r.item", period.first, period.last, top)
    return PublicStats(period=period, items_published=int(items[0]["published"] or 0),
                       items_online=int(items[0]["online"] or 0), months=months, totals=totals,
                       busiest=[{**b, "submitted": int(b["submitted"])} for b in busiest])


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def chart_rows(rows: Iterable[DepartmentRow], key: str) -> list[tuple[str, float]]:
    """(department, rate) for the departments that have the rate, for a bar chart."""
    return [(r.short_name, value) for r in rows if (value := getattr(r.figures, key)) is not None]
