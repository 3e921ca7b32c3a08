"""Filing pages: apply, the applicant's case page, /me/cases, the public /track lookup, the officers' queues,
case pages and actions, and proxy consent."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from app.audit.services import count_since, record_alone
from app.catalog import search
from app.db import utcnow, write_tx
from app.errors import DomainError, NotFound
from app.filings import proxy, queues, services, storage, workflow
from app.filings.forms import validate_field
from app.i18n import _
from app.lifelong.services import enterprises_of
from app.web.auth import client_ip, current_user, deny, login_required, officer_required, requires_role
from app.web.downloads import stored_file
from app.web.flash import with_flash
from app.web.forms import FormData, text
from app.web.templating import render

TRACK_MAX_FAILURES = 10
TRACK_WINDOW = timedelta(minutes=15)
DECISIONS = {"accept": workflow.accept_case, "review": workflow.review_case, "approve": workflow.approve_case,
             "deny": workflow.deny_case}


async def read_form(request: Request[Any, Any, Any]) -> tuple[dict[str, str], dict[str, UploadFile]]:
    """A posted form (URL-encoded or multipart) as plain strings, and its chosen files."""
    form = await request.form()
    fields: dict[str, str] = {}
    files: dict[str, UploadFile] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if not storage.is_empty(value):
                files[name[:60]] = value
        elif name not in fields:
            fields[name[:60]] = str(value).strip()[:5000]
    return fields, files


def _answers(fields: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("situation_"): v for k, v in fields.items() if k.startswith("situation_")}


def _date_or_none(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def store_files(files: dict[str, UploadFile], keys: set[str], fields: dict[str, str],
                      errors: dict[str, str]) -> list[services.Upload]:
    """Store each chosen file that passes the content checks; a refused one gets its message by its field."""
    uploads = []
    for name, upload in files.items():
        key = name.removeprefix("file_")
        if not name.startswith("file_") or key not in keys:
            continue
        try:
            stored = await storage.store_upload(upload, name)
        except DomainError as exc:
            errors.update(exc.errors)
            continue
        uploads.append(services.Upload(key, stored, _date_or_none(fields.get(f"valid_until_{key}", ""))))
    return uploads


def _holder_args(request: Request[Any, Any, Any]) -> dict[str, Any]:
    proxy_id = request.query_params.get("proxy", "")
    return {"as_uscc": request.query_params.get("as", "")[:18],
            "proxy_id": int(proxy_id) if proxy_id.isdigit() else 0, "ip": client_ip(request)}


class FilingController(Controller):
    guards = [login_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    @get("/services/{code:str}/apply", name="apply")
    async def apply_page(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        """The apply form: prefilled, with the library's materials attached, resuming a saved draft."""
        user = current_user(request)
        try:
            f = await services.filing(user, code, **_holder_args(request))
        except DomainError as exc:
            return render(request, "pages/filings/cannot_apply.html", status_code=422, code=code,
                          message=" ".join(exc.errors.values()), enterprises=await enterprises_of(user))
        return render(request, "pages/filings/apply.html", f=f, errors={})

    @post("/services/{code:str}/apply")
    async def apply(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template | Redirect:
        """Save the draft (action=draft) or submit it; a refused submission keeps everything typed and uploaded."""
        user = current_user(request)
        fields, files = await read_form(request)
        answers = _answers(fields)
        f = await services.filing(user, code, answers=answers, **_holder_args(request))
        errors: dict[str, str] = {}
        keys = {m["key"] for m in f.item["materials"]}
        uploads = await store_files(files, keys, fields, errors)
        async with write_tx():  # the draft and its submission: one transaction, one commit
            case = await services.save_filing(f, user, fields, answers, uploads, fields.get("key", "") or f.key)
            if case["state"] != "draft":
                return Redirect(f"/cases/{case['case_no']}", status_code=303)  # a second click on submit
            f.draft = case
            f.materials = await services.material_slots(f.item, answers, f.holder, case["id"], f.library)
            f.values = {k: v for k, v in fields.items() if k in {fld["key"] for fld in f.item["form"]}}
            if fields.get("action") == "submit":
                for name, message in services.check_complete(f, fields).items():
                    errors.setdefault(name, message)  # a refused upload's own message stays by its field
                if not errors:
                    await services.submit_filing(f, case, user, ip=client_ip(request))
                    return with_flash(Redirect(f"/cases/{case['case_no']}", status_code=303), "case_submitted")
        if errors:
            return render(request, "pages/filings/apply.html", status_code=422, f=f, errors=errors)
        return with_flash(Redirect(f"/services/{code}/apply{f.holder_query}", status_code=303), "filing_saved")

    @post("/services/{code:str}/apply/check/{key:str}")
    async def check_field(self, request: Request[Any, Any, Any], code: FromPath[str], key: FromPath[str],
                          data: FormData) -> Template:
        """Inline validation of one field (htmx), the same rule the submission applies."""
        g = await services.guide(code)
        schema = next((fld for fld in g.item["form"] if fld["key"] == key), None)
        if schema is None:
            raise NotFound()
        value = text(data, key, 5000)
        errors: dict[str, str] = {}
        try:
            value = validate_field(schema, value)
        except DomainError as exc:
            errors = exc.errors
        return render(request, "components/filings/field.html", "components/filings/field.html",
                      field=schema, values={key: value}, errors=errors, sources={}, code=code, checked=True)

    @post("/services/{code:str}/apply/autosave")
    async def autosave(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        """Keep the draft as the applicant types (htmx); files are saved with the form's own buttons."""
        user = current_user(request)
        fields, _files = await read_form(request)
        answers = _answers(fields)
        f = await services.filing(user, code, answers=answers, **_holder_args(request))
        case = await services.save_filing(f, user, fields, answers, [], fields.get("key", "") or f.key)
        return render(request, "components/filings/autosave.html", "components/filings/autosave.html",
                      saved_at=case["updated_at"], submitted=case["state"] != "draft")

    @get("/cases/{case_no:str}", name="case")
    async def case_page(self, request: Request[Any, Any, Any], case_no: FromPath[str]) -> Template:
        """The applicant's case: timeline, days left, materials, query code; correction and withdrawal."""
        case = await services.applicant_case(current_user(request), case_no, ip=client_ip(request))
        from app.supervision.ratings import for_case_page  # supervision builds on filings

        return render(request, "pages/filings/case.html", d=await services.case_detail(case), errors={}, values={},
                      rating=await for_case_page(case))

    @post("/cases/{case_no:str}/withdraw")
    async def withdraw(self, request: Request[Any, Any, Any], case_no: FromPath[str], data: FormData) -> Redirect:
        """Withdraw before a decision."""
        user = current_user(request)
        case = await services.applicant_case(user, case_no, ip=client_ip(request))
        await workflow.withdraw_case(case, user, ip=client_ip(request), reason=text(data, "reason", 500))
        return with_flash(Redirect(f"/cases/{case_no}", status_code=303), "case_withdrawn")

    @post("/cases/{case_no:str}/resubmit")
    async def resubmit(self, request: Request[Any, Any, Any], case_no: FromPath[str]) -> Template | Redirect:
        """Answer the front desk's correction list: the named materials and fields, once."""
        user = current_user(request)
        ip = client_ip(request)
        case = await services.applicant_case(user, case_no, ip=ip)
        if case["state"] != "correction_requested":
            await workflow.resubmit_case(case, user, ip=ip)  # refused (409) and audited: nothing to correct
        fields, files = await read_form(request)
        d = await services.case_detail(case)
        errors: dict[str, str] = {}
        keys = {m["key"] for m in d["item"]["materials"]}
        uploads = await store_files(files, keys, fields, errors)
        form = {**d["form"], **{k: v for k, v in fields.items() if k in {fld["key"] for fld in d["item"]["form"]}}}
        check = services.correction_errors(case, form, d["item"], {u.key for u in uploads})
        errors.update(check.errors)
        if errors:
            return render(request, "pages/filings/case.html", status_code=422, d=d, errors=errors, values=form,
                          rating=None)  # a case being corrected has no rating yet
        await services.attach_uploads(case, user, uploads)
        await workflow.resubmit_case(case, user, ip=ip, form_data=form)
        return with_flash(Redirect(f"/cases/{case_no}", status_code=303), "case_resubmitted")

    @get("/cases/{case_no:str}/materials/{material_id:int}")
    async def material(self, request: Request[Any, Any, Any], case_no: FromPath[str],
                       material_id: FromPath[int]) -> Stream:
        """One of the case's materials, for its holder."""
        case = await services.applicant_case(current_user(request), case_no, ip=client_ip(request))
        return await _file(await services.case_material(case, material_id))

    @get("/me/cases", name="my_cases")
    async def my_cases(self, request: Request[Any, Any, Any]) -> Template:
        """The user's cases and drafts."""
        user = current_user(request)
        state = request.query_params.get("state", "")
        from app.bundles.services import bundles_of  # bundles build on filings

        return render(request, "pages/filings/my_cases.html", "components/filings/case_list.html",
                      cases=await services.cases_of(user, state), drafts=await services.drafts_of(user),
                      bundles=await bundles_of(user), state=state, states=workflow.STATES)


async def _file(row: dict[str, Any]) -> Stream:
    extension = storage.extension_for(row["content_type"])
    return await stored_file(row["sha256"], size=row["size"], media_type=row["content_type"],
                             name=f"{row['type_name']}{extension}", fallback=f"material-{row['id']}{extension}")


class TrackController(Controller):
    @get("/track", name="track")
    async def track_page(self, request: Request[Any, Any, Any]) -> Template:
        """Public lookup by case number and query code."""
        return render(request, "pages/filings/track.html", values={}, errors={}, d=None)

    @post("/track")
    async def track(self, request: Request[Any, Any, Any], data: FormData) -> Template:
        """Shows the state and the steps, never the applicant's data; wrong guesses are limited per address."""
        ip = client_ip(request)
        case_no, code = text(data, "case_no", 20), text(data, "query_code", 8).upper()
        values = {"case_no": case_no, "query_code": code}
        if await count_since("track.failed", utcnow() - TRACK_WINDOW, ip=ip) >= TRACK_MAX_FAILURES:
            return render(request, "pages/filings/track.html", status_code=429, values=values, d=None,
                          errors={"": _("Too many wrong attempts. Please try again in 15 minutes.")})
        case = None
        with contextlib.suppress(NotFound):
            case = await workflow.load_case(case_no)
        if case is None or not code or case["query_code"] != code:
            await record_alone("track.failed", outcome="failed", subject_type="case", subject_key=case_no, ip=ip)
            return render(request, "pages/filings/track.html", status_code=422, values=values, d=None,
                          errors={"": _("No case matches this number and query code.")})
        return render(request, "pages/filings/track.html", values=values, errors={},
                      d=await services.case_detail(case))


class OfficeCaseController(Controller):
    path = "/office"
    guards = [login_required, officer_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    @get("/queue/{key:str}", name="office_queue")
    async def queue(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Template:
        """One work queue of the officer's department, oldest deadline first."""
        user = current_user(request)
        queue = next((q for q in queues.QUEUES if q.key == key), None)
        if queue is None:
            raise NotFound()
        if queue.role not in user.roles:
            await deny(request, "missing role", needed=[queue.role])
            raise PermissionDeniedException()
        page = request.query_params.get("page", "1")
        page_no = int(page) if page.isdigit() else 1
        return render(request, "pages/office/queue.html", queue=queue, counts=await queues.counts(user),
                      cases=await queues.cases(user, queue, page_no), page=page_no, page_size=queues.PAGE_SIZE)

    @get("/cases/{case_no:str}", name="office_case")
    async def case_page(self, request: Request[Any, Any, Any], case_no: FromPath[str]) -> Template:
        """The case as the officer sees it; opening it goes on the holder's access log."""
        user = current_user(request)
        case = await services.officer_case(user, case_no, ip=client_ip(request))
        await services.log_access(user, case, _("Case details and application form"), _("Handling the case"))
        return render(request, "pages/office/case.html", d=await services.case_detail(case),
                      actions=workflow.actions_for_officer(user, case), errors={}, values={})

    @post("/cases/{case_no:str}/act")
    async def act(self, request: Request[Any, Any, Any], case_no: FromPath[str]) -> Template | Redirect:
        """Accept, ask for correction, refuse, review or decide; a stale page loses to the first officer."""
        user = current_user(request)
        ip = client_ip(request)
        case = await services.officer_case(user, case_no, ip=ip)
        fields, _files = await read_form(request)
        form = await request.form()
        action = fields.get("action", "")
        version_text = fields.get("version", "")
        version = int(version_text) if version_text.isdigit() else None
        opinion = fields.get("opinion", "")
        try:
            if action == "request_correction":
                await workflow.request_correction(case, user, ip=ip, materials=form.getall("materials", []),
                                                  fields=form.getall("fields", []), note=opinion, version=version)
            elif action == "reject":
                await workflow.reject_case(case, user, ip=ip, reason=opinion, version=version)
            elif action in DECISIONS:
                await DECISIONS[action](case, user, ip=ip, opinion=opinion, version=version)
                if action == "approve":
                    from app.certificates.services import ensure_pdfs_for_case

                    await ensure_pdfs_for_case(case["id"])
            else:
                raise NotFound()
        except DomainError as exc:
            if exc.status_code == 409:
                raise
            return render(request, "pages/office/case.html", status_code=422, d=await services.case_detail(case),
                          actions=workflow.actions_for_officer(user, case), errors=exc.errors,
                          values={"opinion": opinion, "action": action})
        return with_flash(Redirect(f"/office/cases/{case_no}", status_code=303), "case_updated")

    @get("/cases/{case_no:str}/materials/{material_id:int}")
    async def material(self, request: Request[Any, Any, Any], case_no: FromPath[str],
                       material_id: FromPath[int]) -> Stream:
        """A material of the case; each view goes on the holder's access log."""
        user = current_user(request)
        case = await services.officer_case(user, case_no, ip=client_ip(request))
        row = await services.case_material(case, material_id)
        await services.log_access(user, case, row["type_name"], _("Checking the materials"))
        return await _file(row)


class ProxyController(Controller):
    path = "/office/proxy"
    guards = [login_required, requires_role("proxy_agent")]  # noqa: RUF012 - Litestar reads it from the class

    async def _page(self, request: Request[Any, Any, Any], *, status_code: int = 200, errors: dict[str, str] | None
                    = None, values: dict[str, str] | None = None, sent: dict[str, Any] | None = None) -> Template:
        user = current_user(request)
        consent_id = request.query_params.get("consent", "")
        q = search.normalize(request.query_params.get("q", ""))[: search.MAX_QUERY]
        results = []
        if consent_id.isdigit() and q:
            results, _total = await search.search(search.SearchQuery(term=q, audience="person"), limit=20)
        return render(request, "pages/office/proxy.html", status_code=status_code, errors=errors or {},
                      values=values or {}, sent=sent, consents=await proxy.open_consents(user),
                      consent_id=int(consent_id) if consent_id.isdigit() else 0, q=q, results=results)

    @get("/", name="proxy")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Start a proxy filing: the resident's consent, then the item."""
        return await self._page(request)

    @post("/code")
    async def send_code(self, request: Request[Any, Any, Any], data: FormData) -> Template:
        """Text the resident a consent code."""
        values = {"id_number": text(data, "id_number", 40), "name": text(data, "name", 40)}
        try:
            sent = await proxy.send_consent_code(current_user(request), values["id_number"], values["name"],
                                                 ip=client_ip(request))
        except DomainError as exc:
            return await self._page(request, status_code=422, errors=exc.errors, values=values)
        return await self._page(request, values=values, sent=sent)

    @post("/confirm")
    async def confirm(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """The code the resident read out; right → the agent may file for them."""
        consent_id = text(data, "consent_id", 12)
        try:
            consent = await proxy.confirm_consent_code(current_user(request),
                                                       int(consent_id) if consent_id.isdigit() else 0,
                                                       text(data, "code", 10), ip=client_ip(request))
        except DomainError as exc:
            sent = {"id": int(consent_id) if consent_id.isdigit() else 0, "name": text(data, "name", 40),
                    "mobile": text(data, "mobile", 20)}
            return await self._page(request, status_code=422, errors=exc.errors, sent=sent)
        return with_flash(Redirect(f"/office/proxy?consent={consent['id']}", status_code=303), "consent_recorded")

    @post("/form")
    async def signed_form(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """A signed consent form instead of the code."""
        fields, files = await read_form(request)
        values = {"id_number": fields.get("id_number", "")[:40], "name": fields.get("name", "")[:40]}
        try:
            upload = files.get("consent_form")
            if upload is None:
                raise DomainError(_("Please choose the scanned consent form."), "consent_form")
            stored = await storage.store_upload(upload, "consent_form")
            consent_id = await proxy.consent_by_form(current_user(request), values["id_number"], values["name"],
                                                     stored, ip=client_ip(request))
        except DomainError as exc:
            return await self._page(request, status_code=422, errors=exc.errors, values=values)
        return with_flash(Redirect(f"/office/proxy?consent={consent_id}", status_code=303), "consent_recorded")
