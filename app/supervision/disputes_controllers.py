"""/supervision/disputes: the supervisors' queue of citizens' questions about officers' looks at their data."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.errors import DomainError
from app.supervision import disputes
from app.web.auth import client_ip, current_user, login_required, requires_role
from app.web.forms import FormData, text
from app.web.templating import render


class DisputeController(Controller):
    path = "/supervision/disputes"
    guards = [login_required, requires_role("supervisor")]  # noqa: RUF012 - Litestar reads it from the class

    async def _page(self, request: Request[Any, Any, Any], *, status_code: int = 200,
                    errors: dict[int, dict[str, str]] | None = None,
                    values: dict[int, dict[str, str]] | None = None) -> Template:
        return render(request, "pages/supervision/disputes.html", status_code=status_code,
                      q=await disputes.queue(), findings=disputes.FINDINGS, errors=errors or {},
                      values=values or {}, answer_max=disputes.ANSWER_MAX,
                      answered=request.query_params.get("answered", ""))

    @get("/", name="supervision_disputes")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Open disputes first, each with the access it questions and an answer form; then the latest answers."""
        return await self._page(request)

    @post("/{dispute_id:int}/answer")
    async def answer(self, request: Request[Any, Any, Any], dispute_id: FromPath[int],
                     data: FormData) -> Template | Redirect:
        """Find the look justified or not and explain; the citizen reads it on their access log."""
        finding, answer = text(data, "finding", 16), text(data, "answer", disputes.ANSWER_MAX * 4)
        try:
            await disputes.answer(current_user(request), dispute_id, finding, answer, ip=client_ip(request))
        except DomainError as exc:
            if exc.status_code == 409:  # answered meanwhile: its form is gone, so the error page says so
                raise
            return await self._page(request, status_code=422,
                                    errors={dispute_id: exc.errors},
                                    values={dispute_id: {"finding": finding, "answer": answer}})
        return Redirect(f"/supervision/disputes?answered={dispute_id}", status_code=303)
