"""Pages that belong to no domain: the home page and the health check."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from app.registry.tables import Department
from app.web.templating import render

LEVELS = ("province", "city", "county", "town")


class SiteController(Controller):
    @get("/", name="home")
    async def home(self, request: Request[Any, Any, Any]) -> Any:
        """The hall's front page: search, the two doors (citizens, enterprises) and the departments."""
        departments = await Department.select(
            Department.code, Department.name, Department.short_name, Department.level, Department.region_name
        ).order_by(Department.sort_order).order_by(Department.code)
        by_level = {level: [d for d in departments if d["level"] == level] for level in LEVELS}
        return render(request, "pages/home.html", by_level=by_level, department_count=len(departments))

    @get("/healthz", name="healthz", cache=False)
    async def healthz(self) -> dict[str, str]:
        """Liveness and database reachability, for the load balancer."""
        await Department.raw("SELECT 1")
        return {"status": "ok", "database": "ok"}
