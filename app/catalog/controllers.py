"""Catalogue pages: browse and search (/services), the guide with its situation questionnaire, the print view."""

from __future__ import annotations

import math
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from app.catalog import search, services
from app.catalog.schema import ENTERPRISE_EVENTS, PERSON_EVENTS
from app.i18n import _
from app.registry.tables import Department
from app.web.templating import is_htmx, render

PAGE_SIZE = 20
LEVELS = ("province", "city", "county", "town")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class CatalogController(Controller):
    path = "/services"

    @get("/", name="services")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Browse by department, level, audience, life event and visits; search by Chinese words."""
        params = request.query_params
        raw = params.get("q", "")
        error = ""
        term = search.normalize(raw)
        if len(raw) > search.MAX_QUERY:
            error = _("Please use at most %(n)s characters.", n=search.MAX_QUERY)
            term = ""
        audience = params.get("audience", "")
        query = search.SearchQuery(
            term=term,
            department=_int(params.get("department")),
            level=params.get("level", "") if params.get("level") in LEVELS else "",
            audience=audience if audience in ("person", "enterprise") else "",
            event=params.get("event", "") if params.get("event") in PERSON_EVENTS + ENTERPRISE_EVENTS else "",
            visits=_int(params.get("visits")) if params.get("visits") in ("0", "1", "2") else None,
        )
        page = max(1, _int(params.get("page")) or 1)
        results, total = await search.search(query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        # The filter form is on the page, not in the results fragment htmx asks for while the user types.
        departments = [] if is_htmx(request) else await Department.select(
            Department.id, Department.name, Department.level
        ).order_by(Department.sort_order).order_by(Department.code)
        kept = {k: v for k, v in params.items() if k != "page" and v}
        return render(
            request, "pages/catalog/index.html", "components/catalog/results.html",
            query=query, raw_query=raw[: search.MAX_QUERY * 2], error=error, results=results, total=total,
            page=page, pages=max(1, math.ceil(total / PAGE_SIZE)), kept=kept, departments=departments,
            person_events=PERSON_EVENTS, enterprise_events=ENTERPRISE_EVENTS, levels=LEVELS,
        )

    @get("/{code:str}", name="guide")
    async def guide(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        """The guide (办事指南); answering the situation questions narrows the material list."""
        guide = await services.guide(code)
        answers = {s["key"]: request.query_params.get(f"s_{s['key']}", "") for s in guide.item["situations"]}
        materials = services.material_list(guide.item, answers)
        return render(request, "pages/catalog/guide.html", "components/catalog/materials.html",
                      guide=guide, item=guide.item, answers=answers, materials=materials)

    @get("/{code:str}/print", name="guide_print")
    async def print_view(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        """The guide laid out for paper: every material, every situation."""
        guide = await services.guide(code)
        answers = {s["key"]: request.query_params.get(f"s_{s['key']}", "") for s in guide.item["situations"]}
        return render(request, "pages/catalog/print.html", guide=guide, item=guide.item, answers=answers,
                      materials=services.material_list(guide.item, answers))
