"""Rating pages: the applicant's /cases/{case_no}/rating (rate, then accept or appeal the department's answer), the
department's /office/rectifications, and the supervisors' /supervision/appeals."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.errors import DomainError
from app.filings import queues
from app.supervision import ratings, rollup
from app.web.auth import client_ip, current_user, login_required, requires_role
from app.web.forms import FormData, text
from app.web.templating import render

# The names the rating templates show, as msgids (translated in the template).
LABELS = {"levels": ratings.LEVELS, "good_tags": ratings.GOOD_TAGS, "bad_tags": ratings.BAD_TAGS,
          "tag_names": ratings.TAGS, "task_states": ratings.RECTIFICATION_STATES, "step_names": ratings.STEPS,
          "comment_max": ratings.COMMENT_MAX, "text_max": ratings.TEXT_MAX,
          "rectification_days": ratings.RECTIFICATION_DAYS, "satisfied_level": rollup.SATISFIED_LEVEL}


def _page_number(request: Request[Any, Any, Any]) -> int:
    page = request.query_params.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 7 else 1


def _refused(exc: DomainError) -> int:
    """A wrong state is the 409 error page; a form's problems come back with the form (422)."""
    if exc.status_code == 409:
        raise exc
    return 422


class RatingController(Controller):
    path = "/cases/{case_no:str}/rating"
    guards = [login_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    async def _page(self, request: Request[Any, Any, Any], case: dict[str, Any], *, status_code: int = 200,
                    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Template:
        return render(request, "pages/supervision/rating.html", status_code=status_code,
                      d=await ratings.rating_page(case), errors=errors or {}, values=values or {}, **LABELS)

    @get("/", name="case_rating")
    async def show(self, request: Request[Any, Any, Any], case_no: FromPath[str]) -> Template:
        """The rating form once the case is decided; afterwards the rating, and the department's answer to a bad one."""
        case = await ratings.rater_case(current_user(request), case_no, ip=client_ip(request))
        return await self._page(request, case)

    @post("/")
    async def rate(self, request: Request[Any, Any, Any], case_no: FromPath[str]) -> Template | Redirect:
        """Rate once: level, tags, comment; a refused form keeps everything chosen and typed."""
        user, ip = current_user(request), client_ip(request)
        case = await ratings.rater_case(user, case_no, ip=ip)
        form = await request.form()
        values = {"level": str(form.get("level", ""))[:2], "tags": [str(t)[:20] for t in form.getall("tags", [])][:20],
                  "comment": str(form.get("comment", "")).strip()[:ratings.COMMENT_MAX * 4]}
        try:
            await ratings.rate_case(case, user, values["level"], values["tags"], values["comment"], ip=ip)
        except DomainError as exc:
            return await self._page(request, case, status_code=_refused(exc), errors=exc.errors, values=values)
        return Redirect(f"/cases/{case_no}/rating#rating", status_code=303)

    @post("/accept")
    async def accept(self, request: Request[Any, Any, Any], case_no: FromPath[str]) -> Redirect:
        """The citizen is content with the department's answer."""
        user, ip = current_user(request), client_ip(request)
        case = await ratings.rater_case(user, case_no, ip=ip)
        await ratings.accept_answer(case, user, ip=ip)
        return Redirect(f"/cases/{case_no}/rating#rectification", status_code=303)

    @post("/appeal")
    async def appeal(self, request: Request[Any, Any, Any], case_no: FromPath[str],
                     data: FormData) -> Template | Redirect:
        """The citizen asks a supervisor to look at the answer, saying why."""
        user, ip = current_user(request), client_ip(request)
        case = await ratings.rater_case(user, case_no, ip=ip)
        reason = text(data, "reason", ratings.TEXT_MAX * 4)
        try:
            await ratings.appeal_answer(case, user, reason, ip=ip)
        except DomainError as exc:
            return await self._page(request, case, status_code=_refused(exc), errors=exc.errors,
                                    values={"reason": reason})
        return Redirect(f"/cases/{case_no}/rating#rectification", status_code=303)


class RectificationController(Controller):
    path = "/office/rectifications"
    guards = [login_required, requires_role(*ratings.ANSWERING_ROLES)]  # noqa: RUF012 - read from the class

    @get("/", name="office_rectifications")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """The department's rectification tasks: those to answer first, by due date."""
        user = current_user(request)
        page = _page_number(request)
        return render(request, "pages/supervision/rectifications.html",
                      tasks=await ratings.department_tasks(user, page), counts=await queues.counts(user),
                      rectifications_tab=True, page=page, page_size=ratings.PAGE_SIZE, **LABELS)

    async def _task(self, request: Request[Any, Any, Any], task: dict[str, Any], *, status_code: int = 200,
                    errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
        return render(request, "pages/supervision/rectification.html", status_code=status_code,
                      d=await ratings.task_detail(task), errors=errors or {}, values=values or {}, **LABELS)

    @get("/{task_id:int}", name="office_rectification")
    async def show(self, request: Request[Any, Any, Any], task_id: FromPath[int]) -> Template:
        """One task: the rating, the case in short, the steps so far and, while open, the answer form."""
        task = await ratings.department_task(current_user(request), task_id, ip=client_ip(request))
        return await self._task(request, task)

    @post("/{task_id:int}/answer")
    async def answer(self, request: Request[Any, Any, Any], task_id: FromPath[int],
                     data: FormData) -> Template | Redirect:
        """The department's answer; the citizen is told and accepts it or appeals."""
        user, ip = current_user(request), client_ip(request)
        task = await ratings.department_task(user, task_id, ip=ip)
        answer = text(data, "answer", ratings.TEXT_MAX * 4)
        try:
            await ratings.answer_task(task, user, answer, ip=ip)
        except DomainError as exc:
            return await self._task(request, task, status_code=_refused(exc), errors=exc.errors,
                                    values={"answer": answer})
        return Redirect(f"/office/rectifications/{task_id}", status_code=303)


class AppealController(Controller):
    path = "/supervision/appeals"
    guards = [login_required, requires_role("supervisor")]  # noqa: RUF012 - Litestar reads it from the class

    async def _page(self, request: Request[Any, Any, Any], page: int, *, status_code: int = 200,
                    errors: dict[int, dict[str, str]] | None = None,
                    values: dict[int, dict[str, str]] | None = None) -> Template:
        return render(request, "pages/supervision/appeals.html", status_code=status_code,
                      tasks=await ratings.appealed_tasks(page), page=page, page_size=ratings.PAGE_SIZE,
                      errors=errors or {}, values=values or {}, **LABELS)

    @get("/", name="supervision_appeals")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Every appealed rectification in the city, the longest waiting first, each with its ruling form."""
        return await self._page(request, _page_number(request))

    @post("/{task_id:int}/rule")
    async def rule(self, request: Request[Any, Any, Any], task_id: FromPath[int],
                   data: FormData) -> Template | Redirect:
        """Uphold the department's answer (closing the task) or send it back for another round."""
        user, ip = current_user(request), client_ip(request)
        task = await ratings.appealed_task(task_id)
        values = {"ruling": text(data, "ruling", 10), "opinion": text(data, "opinion", ratings.TEXT_MAX * 4)}
        try:
            await ratings.rule_on_appeal(task, user, values["ruling"], values["opinion"], ip=ip)
        except DomainError as exc:
            return await self._page(request, 1, status_code=_refused(exc), errors={task_id: exc.errors},
                                    values={task_id: values})
        return Redirect("/supervision/appeals", status_code=303)
