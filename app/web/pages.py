"""Pages that belong to no domain: the home page and the health check."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect

from app.registry.tables import Department
from app.web.display import set_elderly_mode
from app.web.forms import FormData, text
from app.web.templating import render

LEVELS = ("province", "city", "county", "town")
HOME_PERSON_EVENTS = ("生育", "上学", "就业", "婚姻", "住房", "退休")
HOME_ENTERPRISE_EVENTS = ("开办", "经营", "变更", "注销")


class SiteController(Controller):
    @get("/", name="home")
    async def home(self, request: Request[Any, Any, Any]) -> Any:
        """The hall's front page: search, the two doors (citizens, enterprises) and the departments."""
        departments = await Department.select(
            Department.code, Department.name, Department.short_name, Department.level, Department.region_name
        ).order_by(Department.sort_order).order_by(Department.code)
        by_level = {level: [d for d in departments if d["level"] == level] for level in LEVELS}
        return render(request, "pages/home.html", by_level=by_level, department_count=len(departments),
                      person_events=HOME_PERSON_EVENTS, enterprise_events=HOME_ENTERPRISE_EVENTS)

    @post("/elderly-mode", name="elderly_mode")
    async def elderly_mode(self, data: FormData) -> Redirect:
        """The header's toggle: the elderly-friendly mode on or off, then back to the same page (no script needed)."""
        return set_elderly_mode(text(data, "on") == "1", text(data, "next", 2000))

    @get("/healthz", name="healthz", cache=False)
    async def healthz(self) -> dict[str, str]:
        """Liveness and database reachability, for the load balancer."""
        await Department.raw("SELECT 1")
        return {"status": "ok", "database": "ok"}


class BaselineController(Controller):
    """A page that renders the base layout and touches no table: the benchmarks' yardstick (off by default)."""

    @get("/bench/baseline", name="bench_baseline")
    async def baseline(self, request: Request[Any, Any, Any]) -> Any:
        """The bare-template page benchmarks compare against."""
        return render(request, "pages/bench/baseline.html")
