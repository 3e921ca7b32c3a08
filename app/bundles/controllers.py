"""Bundle pages: the list, one bundle's guide and merged form, and the parent case with its members side by side."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.bundles import services
from app.errors import DomainError
from app.filings.controllers import store_files
from app.filings.storage import is_empty
from app.web.auth import client_ip, current_user, login_required
from app.web.flash import with_flash
from app.web.templating import render


async def _read(request: Request[Any, Any, Any]) -> tuple[dict[str, str], set[str], dict[str, UploadFile]]:
    """Fields (each key once), the keys that came more than once with different values, and the chosen files."""
    form = await request.form()
    fields: dict[str, str] = {}
    conflicts: set[str] = set()
    files: dict[str, UploadFile] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if not is_empty(value):
                files[name[:60]] = value
            continue
        text = str(value).strip()[:5000]
        if name in fields and fields[name] != text and text:
            conflicts.add(name[:60])
        fields.setdefault(name[:60], text)
    return fields, conflicts, files


def _answers(fields: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("situation_"): v for k, v in fields.items() if k.startswith("situation_")}


class BundleController(Controller):
    @get("/bundles", name="bundles")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Every bundle on offer (一件事): several items, one form."""
        return render(request, "pages/bundles/index.html", bundles=await services.active_bundles())

    @get("/bundles/{code:str}", name="bundle")
    async def show(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        """The bundle's guide; for a user who may file it, the one merged form."""
        user = current_user(request)
        f, refusal = None, ""
        if user is not None and not user.is_officer:  # officers read the guide; they file through proxy consent
            try:
                f = await services.bundle_filing(user, code, as_uscc=request.query_params.get("as", "")[:18],
                                                 ip=client_ip(request))
            except DomainError as exc:
                refusal = " ".join(exc.errors.values())
        if f is not None:
            bundle, members, unavailable = f.bundle, f.members, f.unavailable
        else:
            bundle = await services.load_bundle(code)
            members, unavailable = await services.members_of(bundle)
        planned = services.planned_days(members)
        return render(request, "pages/bundles/apply.html", bundle=bundle, members=members, unavailable=unavailable,
                      f=f, refusal=refusal, planned=planned, errors={}, values=f.values if f else {},
                      delivery="window", address="")

    @post("/bundles/{code:str}", guards=[login_required])
    async def submit(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template | Redirect:
        """File the bundle: one parent case and one case per member, in one transaction; a refused form keeps
        everything typed. `action=refresh` only updates the material list for the answers given."""
        user = current_user(request)
        fields, conflicts, files = await _read(request)
        answers = _answers(fields)
        f = await services.bundle_filing(user, code, as_uscc=request.query_params.get("as", "")[:18],
                                         answers=answers, ip=client_ip(request))
        delivery, address = fields.get("delivery", ""), fields.get("delivery_address", "")
        values = {k: v for k, v in fields.items() if k in {fld["key"] for fld in f.form}}
        context = {"bundle": f.bundle, "members": f.members, "unavailable": f.unavailable, "f": f, "refusal": "",
                   "planned": services.planned_days(f.members), "values": values, "delivery": delivery,
                   "address": address}
        if fields.get("action") == "refresh":
            return render(request, "pages/bundles/apply.html", errors={}, **context)
        errors: dict[str, str] = {}
        uploads = await store_files(files, {s.key for s in f.slots}, fields, errors)
        cleaned, problems = services.check_bundle(f, fields, conflicts, {u.key for u in uploads}, delivery, address)
        for name, message in problems.items():
            errors.setdefault(name, message)
        if errors:
            return render(request, "pages/bundles/apply.html", status_code=422, errors=errors, **context)
        try:
            parent = await services.submit_bundle(f, user, cleaned, uploads, fields.get("key", "") or f.key,
                                                  delivery, address, ip=client_ip(request))
        except DomainError as exc:
            return render(request, "pages/bundles/apply.html", status_code=422, errors=exc.errors, **context)
        return with_flash(Redirect(f"/bundle-cases/{parent['bundle_no']}", status_code=303), "bundle_submitted")

    @get("/bundle-cases/{bundle_no:str}", name="bundle_case", guards=[login_required])
    async def case(self, request: Request[Any, Any, Any], bundle_no: FromPath[str]) -> Template:
        """Each department's progress side by side, its days left, what it asks for, and the days saved."""
        parent = await services.applicant_bundle_case(current_user(request), bundle_no, ip=client_ip(request))
        return render(request, "pages/bundles/case.html", d=await services.bundle_detail(parent))
