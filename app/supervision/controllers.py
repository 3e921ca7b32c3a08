"""The supervisors' dashboard (/supervision: figures, cards, drill-down, CSV, charts) and the public /stats page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream, Template

from app.cache import TTLCache
from app.errors import NotFound
from app.filings.storage import content_disposition
from app.filings.workflow import local_today
from app.i18n import _
from app.supervision import charts, exports, metrics
from app.web.auth import client_ip, current_user, login_required, requires_role
from app.web.templating import render

SVG = "image/svg+xml"
CSV = "text/csv; charset=utf-8"
STATS_TTL = 300
# Public aggregates: a browser or a shared cache may keep them as long as the worker does. Only for visitors who
# are not logged in (the page's header would otherwise carry their name); the cookie decides, hence Vary.
PUBLIC_CACHE = {"Cache-Control": f"public, max-age={STATS_TTL}", "Vary": "Cookie"}
_stats_cache = TTLCache(STATS_TTL)


def _period(request: Request[Any, Any, Any]) -> metrics.Period:
    return metrics.Period.parse(request.query_params.get("from", ""), request.query_params.get("to", ""),
                                local_today())


def _page_no(request: Request[Any, Any, Any]) -> int:
    page = request.query_params.get("page", "1")
    return int(page) if page.isdigit() and int(page) > 0 else 1


def _small(request: Request[Any, Any, Any]) -> bool:
    return request.query_params.get("size") == "small"


def _case_filter(request: Request[Any, Any, Any]) -> str:
    chosen = request.query_params.get("cases", "")
    return chosen if chosen in metrics.CASE_FILTERS else "open"


async def _department_view(department_id: int, period: metrics.Period) -> metrics.DepartmentView:
    view = await metrics.department_view(department_id, period)
    if view is None:
        raise NotFound()
    return view


class SupervisionController(Controller):
    path = "/supervision"
    guards = [login_required, requires_role("supervisor")]  # noqa: RUF012 - Litestar reads guards from the class

    @get("/", name="supervision")
    async def dashboard(self, request: Request[Any, Any, Any]) -> Template:
        """The whole city for a period: totals, every department's six figures, the active cards, charts."""
        board = await metrics.dashboard(_period(request))
        return render(request, "pages/supervision/dashboard.html", board=board, rates=metrics.RATES,
                      month_label=metrics.month_label, bar_height=charts.bar_height,
                      bar_width=charts.RATE_CHART_WIDTH)

    @get("/departments/{department_id:int}", name="supervision_department")
    async def department(self, request: Request[Any, Any, Any], department_id: FromPath[int]) -> Template:
        """One department by month, its officers' cards, and its cases under one filter, 50 to a page."""
        period = _period(request)
        view = await _department_view(department_id, period)
        case_filter, page = _case_filter(request), _page_no(request)
        cases = await metrics.department_cases(department_id, case_filter, period, page, current_user(request))
        return render(request, "pages/supervision/department.html", view=view, rates=metrics.RATES,
                      month_label=metrics.month_label, filters=metrics.CASE_FILTERS, case_filter=case_filter,
                      cases=cases, page=page, page_size=metrics.PAGE_SIZE)

    @get("/export.csv", name="supervision_export")
    async def export(self, request: Request[Any, Any, Any]) -> Response[str]:
        """Every department's figures for the period, as the dashboard shows them."""
        period = _period(request)
        board = await metrics.dashboard(period)
        await exports.audit_export(current_user(request).id, client_ip(request), "figures",
                                   f"{period.first:%Y-%m}..{period.last:%Y-%m}")
        name = f"supervision-{period.first:%Y%m}-{period.last:%Y%m}.csv"
        return Response(exports.figures_csv(board), media_type=CSV, headers={
            "Content-Disposition": content_disposition("attachment", _("Supervision figures") + name[11:], name)})

    @get("/departments/{department_id:int}/cases.csv", name="supervision_cases_csv")
    async def cases_csv(self, request: Request[Any, Any, Any], department_id: FromPath[int]) -> Stream:
        """The drill-down's case list under its filter, streamed (at most CSV_MAX_ROWS rows)."""
        period = _period(request)
        view = await _department_view(department_id, period)
        case_filter = _case_filter(request)
        await exports.audit_export(current_user(request).id, client_ip(request), "cases", str(department_id),
                                   filter=case_filter, period=period.query)
        name = f"cases-{view.department['id']}-{case_filter}.csv"
        return Stream(exports.cases_csv(department_id, case_filter, period), media_type=CSV, headers={
            "Content-Disposition": content_disposition("attachment", f"{view.department['short_name']}-{name}",
                                                       name)})

    @get("/charts/months.svg", name="supervision_chart_months")
    async def months_chart(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Cases submitted and decided per month (the whole city, or one department with ?department=)."""
        period = _period(request)
        department = request.query_params.get("department", "")
        months = await metrics.by_month(period, int(department) if department.isdigit() else None)
        return Response(charts.months_chart(_("Cases per month"), months, small=_small(request)), media_type=SVG)

    @get("/charts/on-time.svg", name="supervision_chart_on_time")
    async def on_time_chart(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """The on-time rate of each department with decided cases."""
        return await _rate_chart(request, "on_time_rate", _("On-time rate by department"))

    @get("/charts/satisfaction.svg", name="supervision_chart_satisfaction")
    async def satisfaction_chart(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """The satisfaction rate of each department with ratings."""
        return await _rate_chart(request, "satisfaction_rate", _("Satisfaction rate by department"))


async def _rate_chart(request: Request[Any, Any, Any], key: str, title: str) -> Response[bytes]:
    rows = await metrics.department_rows(_period(request))
    return Response(charts.rate_bars(title, metrics.chart_rows(rows, key)), media_type=SVG)


async def _public_stats() -> metrics.PublicStats:
    today = local_today()
    return await _stats_cache.get(("stats", today), lambda: metrics.public_stats(today))


class StatsController(Controller):
    path = "/stats"

    @get("/", name="stats")
    async def stats(self, request: Request[Any, Any, Any]) -> Template:
        """Public aggregates from the roll-ups and the catalogue, computed once per worker every five minutes."""
        response = render(request, "pages/stats/index.html", stats=await _public_stats(),
                          month_label=metrics.month_label)
        if current_user(request) is None:
            response.headers.update(PUBLIC_CACHE)
        return response

    @get("/charts/months.svg", name="stats_chart_months")
    async def months_chart(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """The last twelve months' cases submitted and decided, from the cached figures."""
        stats = await _public_stats()
        return Response(charts.months_chart(_("Cases per month"), stats.months, small=_small(request)),
                        media_type=SVG, headers=PUBLIC_CACHE)
