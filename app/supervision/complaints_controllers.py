"""Complaint pages: the citizen files and follows theirs (/complaints, /me/complaints), the department answers
(/office/complaints), the city's supervisors watch, route and close them (/supervision/complaints)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.errors import DomainError
from app.filings import queues
from app.supervision import complaints
from app.web.auth import client_ip, current_user, login_required, requires_role
from app.web.forms import FormData, text
from app.web.templating import is_htmx, render


def _page_number(request: Request[Any, Any, Any]) -> int:
    page = request.query_params.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 7 else 1


def _filters(state: str, department: int | None) -> str:
    """The filters as the start of a query string, for the pages' links."""
    query = urlencode({k: v for k, v in (("state", state), ("department", department)) if v})
    return f"{query}&" if query else ""


def _status(exc: DomainError) -> int:
    return 409 if exc.status_code == 409 else 422


class ComplaintController(Controller):
    guards = [login_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    async def _form(self, request: Request[Any, Any, Any], case_no: str, *, values: dict[str, str],
                    errors: dict[str, str], status_code: int = 200) -> Template:
        user = current_user(request)
        case = await complaints.case_to_complain_about(user, case_no, ip=client_ip(request)) if case_no else None
        return render(request, "pages/supervision/complaint_new.html", status_code=status_code, case=case,
                      departments=[] if case else await complaints.departments(), kinds=complaints.KINDS,
                      values=values, errors=errors, subject_max=complaints.SUBJECT_MAX,
                      body_max=complaints.BODY_MAX)

    @get("/complaints/new", name="complaint_new")
    async def new(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """The form: about one of the user's cases (?case=NO) or addressed to a department of their choice."""
        if current_user(request).is_officer:
            return Redirect("/office")
        return await self._form(request, request.query_params.get("case", "")[:20], values={"kind": "complaint"},
                                errors={})

    @post("/complaints/new")
    async def file(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """File it; a refusal comes back with the messages by the fields and everything typed kept."""
        case_no = text(data, "case", 20)
        values = {"kind": text(data, "kind", 12), "subject": text(data, "subject", complaints.SUBJECT_MAX * 4),
                  "body": text(data, "body", complaints.BODY_MAX * 4), "department": text(data, "department", 12)}
        try:
            number = await complaints.file_complaint(current_user(request), case_no=case_no, ip=client_ip(request),
                                                     **values)
        except DomainError as exc:
            return await self._form(request, case_no, values=values, errors=exc.errors, status_code=_status(exc))
        return Redirect(f"/complaints/{number}?filed=1", status_code=303)

    async def _page(self, request: Request[Any, Any, Any], row: dict[str, Any], *, status_code: int = 200,
                    errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
        return render(request, "pages/supervision/complaint.html", status_code=status_code,
                      c=await complaints.detail(row), errors=errors or {}, values=values or {},
                      filed=request.query_params.get("filed") == "1", reason_max=complaints.REASON_MAX)

    @get("/complaints/{complaint_no:str}", name="complaint")
    async def show(self, request: Request[Any, Any, Any], complaint_no: FromPath[str]) -> Template:
        """The filer follows it: state, deadline, every step; after a reply, closes or reopens it."""
        row = await complaints.own_complaint(current_user(request), complaint_no, ip=client_ip(request))
        return await self._page(request, row)

    @post("/complaints/{complaint_no:str}/close")
    async def close(self, request: Request[Any, Any, Any], complaint_no: FromPath[str],
                    data: FormData) -> Template | Redirect:
        """Satisfied: closed. Not satisfied (with the reason): reopened and sent to the supervisors."""
        user, ip = current_user(request), client_ip(request)
        row = await complaints.own_complaint(user, complaint_no, ip=ip)
        reason = text(data, "reason", complaints.REASON_MAX * 4)
        try:
            await complaints.close_by_filer(user, row, satisfied=text(data, "verdict", 12) == "satisfied",
                                            reason=reason, ip=ip)
        except DomainError as exc:
            return await self._page(request, await complaints.own_complaint(user, complaint_no, ip=ip),
                                    status_code=_status(exc), errors=exc.errors, values={"reason": reason})
        return Redirect(f"/complaints/{complaint_no}", status_code=303)

    @get("/me/complaints", name="my_complaints")
    async def mine(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """The user's complaints and suggestions, newest first."""
        user = current_user(request)
        if user.is_officer:
            return Redirect("/office")
        return render(request, "pages/supervision/complaints_mine.html", rows=await complaints.of_filer(user))


class OfficeComplaintController(Controller):
    path = "/office/complaints"
    guards = [login_required, requires_role(*complaints.HANDLER_ROLES)]  # noqa: RUF012 - read from the class

    @get("/", name="office_complaints")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """The department's complaints: those waiting for its reply first, by deadline."""
        user = current_user(request)
        return render(request, "pages/supervision/complaints_office.html", counts=await queues.counts(user),
                      complaints_tab=True, q=await complaints.department_queue(user))

    async def _page(self, request: Request[Any, Any, Any], row: dict[str, Any], *, status_code: int = 200,
                    errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
        return render(request, "pages/supervision/complaint_office.html", status_code=status_code,
                      c=await complaints.detail(row), errors=errors or {}, values=values or {},
                      awaiting=complaints.AWAITING_REPLY, reply_max=complaints.REPLY_MAX)

    @get("/{complaint_no:str}", name="office_complaint")
    async def show(self, request: Request[Any, Any, Any], complaint_no: FromPath[str]) -> Template:
        """One of the department's complaints, with the reply form while it waits for one."""
        row = await complaints.department_complaint(current_user(request), complaint_no, ip=client_ip(request))
        return await self._page(request, row)

    @post("/{complaint_no:str}/reply")
    async def reply(self, request: Request[Any, Any, Any], complaint_no: FromPath[str],
                    data: FormData) -> Template | Redirect:
        """Answer it; the citizen is told."""
        user, ip = current_user(request), client_ip(request)
        row = await complaints.department_complaint(user, complaint_no, ip=ip)
        answer = text(data, "answer", complaints.REPLY_MAX * 4)
        try:
            await complaints.reply(user, row, answer, ip=ip)
        except DomainError as exc:
            return await self._page(request, await complaints.department_complaint(user, complaint_no, ip=ip),
                                    status_code=_status(exc), errors=exc.errors, values={"answer": answer})
        return Redirect(f"/office/complaints/{complaint_no}", status_code=303)


class SupervisionComplaintController(Controller):
    path = "/supervision/complaints"
    guards = [login_required, requires_role("supervisor")]  # noqa: RUF012 - Litestar reads it from the class

    @get("/", name="supervision_complaints")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Every complaint of the city, filtered by state and department; open ones first."""
        state = request.query_params.get("state", "")
        state = state if state in complaints.STATES else ""
        department = complaints.parse_department(request.query_params.get("department", ""))
        page = _page_number(request)
        rows, total = await complaints.overview(state, department, page)
        return render(request, "pages/supervision/complaints_overview.html",
                      "components/supervision/complaints_table.html", rows=rows, total=total, page=page,
                      page_size=complaints.PAGE_SIZE, state=state,
                      department=department, states=complaints.STATES, link="/supervision/complaints/",
                      departments=[] if is_htmx(request) else await complaints.departments(),
                      query=_filters(state, department))

    async def _page(self, request: Request[Any, Any, Any], row: dict[str, Any], *, status_code: int = 200,
                    errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
        return render(request, "pages/supervision/complaint_supervision.html", status_code=status_code,
                      c=await complaints.detail(row), errors=errors or {}, values=values or {},
                      departments=await complaints.departments() if row["state"] == "unassigned" else [],
                      opinion_max=complaints.REPLY_MAX)

    @get("/{complaint_no:str}", name="supervision_complaint")
    async def show(self, request: Request[Any, Any, Any], complaint_no: FromPath[str]) -> Template:
        """One complaint with its timeline; routing it, or closing a reopened one."""
        return await self._page(request, await complaints.any_complaint(complaint_no))

    @post("/{complaint_no:str}/assign")
    async def assign(self, request: Request[Any, Any, Any], complaint_no: FromPath[str],
                     data: FormData) -> Template | Redirect:
        """Send a complaint filed without a department to the department that should answer it."""
        row = await complaints.any_complaint(complaint_no)
        department = text(data, "department", 12)
        try:
            await complaints.assign(current_user(request), row, department, ip=client_ip(request))
        except DomainError as exc:
            return await self._page(request, await complaints.any_complaint(complaint_no),
                                    status_code=_status(exc), errors=exc.errors, values={"department": department})
        return Redirect(f"/supervision/complaints/{complaint_no}", status_code=303)

    @post("/{complaint_no:str}/rule")
    async def rule(self, request: Request[Any, Any, Any], complaint_no: FromPath[str],
                   data: FormData) -> Template | Redirect:
        """Close a reopened complaint with the supervisors' final opinion."""
        row = await complaints.any_complaint(complaint_no)
        opinion = text(data, "opinion", complaints.REPLY_MAX * 4)
        try:
            await complaints.rule(current_user(request), row, opinion, ip=client_ip(request))
        except DomainError as exc:
            return await self._page(request, await complaints.any_complaint(complaint_no),
                                    status_code=_status(exc), errors=exc.errors, values={"opinion": opinion})
        return Redirect(f"/supervision/complaints/{complaint_no}", status_code=303)
