"""Bundle administration pages (/office/catalog/bundles), for catalogue administrators only."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.bundles import admin
from app.errors import DomainError
from app.web.auth import client_ip, current_user, login_required, requires_role
from app.web.flash import with_flash
from app.web.forms import FormData, text
from app.web.templating import render


class BundleAdminController(Controller):
    path = "/office/catalog/bundles"
    guards = [login_required, requires_role("catalog_admin")]  # noqa: RUF012 - Litestar reads it from the class

    @get("/", name="catalog_bundles")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Every bundle, withdrawn ones too."""
        return render(request, "pages/office/catalog/bundles.html", bundles=await admin.bundles())

    @get("/new", name="catalog_bundle_new")
    async def new(self, request: Request[Any, Any, Any]) -> Template:
        """A new bundle, starting from a document with every key of the format."""
        return _page(request, None, admin.as_text(admin.TEMPLATE))

    @post("/new")
    async def create(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Add the bundle the posted document describes."""
        return await _save(request, None, data)

    @get("/{code:str}", name="catalog_bundle")
    async def edit(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        """The bundle as its catalogue-file document, with a readable summary of its members."""
        doc = await admin.current_document(code)
        return _page(request, doc, admin.as_text(doc), summary=await admin.summary(doc))

    @post("/{code:str}")
    async def save(self, request: Request[Any, Any, Any], code: FromPath[str], data: FormData) -> Template | Redirect:
        """Replace the bundle with the posted document; withdrawing it is `"status": "withdrawn"`."""
        return await _save(request, code, data)


def _page(request: Request[Any, Any, Any], doc: dict[str, Any] | None, document: str, *, status_code: int = 200,
          summary: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
          problems: list[str] | None = None) -> Template:
    return render(request, "pages/office/catalog/bundle.html", status_code=status_code, bundle=doc, summary=summary,
                  document=document, errors=errors or {}, problems=problems or [], field=admin.FIELD)


async def _save(request: Request[Any, Any, Any], code: str | None, data: dict[str, Any]) -> Template | Redirect:
    document = text(data, admin.FIELD, admin.MAX_DOCUMENT + 1)
    try:
        saved = await admin.save(current_user(request), code, document, ip=client_ip(request))
    except DomainError as exc:
        doc = await admin.current_document(code) if code is not None else None
        return _page(request, doc, document, status_code=422, summary=await admin.summary(doc) if doc else None,
                     errors=exc.errors, problems=exc.problems if isinstance(exc, admin.BundleRefused) else None)
    return with_flash(Redirect(f"/office/catalog/bundles/{saved}", status_code=303), "saved")
