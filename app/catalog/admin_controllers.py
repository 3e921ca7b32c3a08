"""Catalogue administration pages (/office/catalog), for catalogue administrators only."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.catalog import admin, search
from app.catalog.schema import ONLINE_LEVELS
from app.errors import DomainError
from app.web.auth import client_ip, current_user, login_required, requires_role
from app.web.flash import with_flash
from app.web.forms import FormData, kept, text
from app.web.templating import render


class CatalogAdminController(Controller):
    path = "/office/catalog"
    guards = [login_required, requires_role("catalog_admin")]  # noqa: RUF012 - Litestar reads it from the class

    @get("/", name="catalog_admin")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Every item, withdrawn ones too, searchable."""
        term = search.normalize(request.query_params.get("q", ""))[: search.MAX_QUERY]
        results, total = await search.search(search.SearchQuery(term=term, include_withdrawn=True), limit=50)
        return render(request, "pages/office/catalog/index.html", results=results, total=total,
                      q=request.query_params.get("q", "")[: search.MAX_QUERY])

    @get("/synonyms", name="catalog_synonyms")
    async def synonyms(self, request: Request[Any, Any, Any]) -> Template:
        """The search synonym table."""
        return render(request, "pages/office/catalog/synonyms.html", synonyms=await admin.synonyms(), values={},
                      errors={})

    @post("/synonyms")
    async def add_synonym(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Add a pair of words searched as one."""
        try:
            await admin.add_synonym(current_user(request), text(data, "term", 40), text(data, "alternative", 40),
                                    ip=client_ip(request))
        except DomainError as exc:
            return render(request, "pages/office/catalog/synonyms.html", status_code=422,
                          synonyms=await admin.synonyms(), values=kept(data), errors=exc.errors)
        return with_flash(Redirect("/office/catalog/synonyms", status_code=303), "saved")

    @post("/synonyms/{synonym_id:int}/delete")
    async def delete_synonym(self, request: Request[Any, Any, Any], synonym_id: FromPath[int]) -> Redirect:
        """Remove a pair."""
        await admin.delete_synonym(current_user(request), synonym_id, ip=client_ip(request))
        return with_flash(Redirect("/office/catalog/synonyms", status_code=303), "saved")

    @get("/{code:str}", name="catalog_edit")
    async def edit(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        """The guide's edit form, starting from the pending draft if there is one."""
        row, doc = await admin.current_document(code)
        draft = await admin.latest_draft(row["id"], row["version"])
        values = admin.form_values(draft["snapshot"] if draft else doc)
        return render(request, "pages/office/catalog/edit.html", item=row, draft=draft, values=values, errors={},
                      online_levels=[(v, v) for v in ONLINE_LEVELS])

    @post("/{code:str}")
    async def save(self, request: Request[Any, Any, Any], code: FromPath[str], data: FormData) -> Template | Redirect:
        """Save a draft, or publish: the live guide changes only on publish."""
        publish = text(data, "action", 20) == "publish"
        form = {k: text(data, k, 5000) for k in (*admin.EDITABLE, "note")}
        try:
            await admin.save(current_user(request), code, form, publish=publish, note=form["note"],
                             ip=client_ip(request))
        except DomainError as exc:
            row, _doc = await admin.current_document(code)
            return render(request, "pages/office/catalog/edit.html", status_code=422, item=row,
                          draft=await admin.latest_draft(row["id"], row["version"]), values=kept(data),
                          errors=exc.errors, online_levels=[(v, v) for v in ONLINE_LEVELS])
        return with_flash(Redirect(f"/office/catalog/{code}/versions", status_code=303),
                          "published" if publish else "draft_saved")

    @get("/{code:str}/versions", name="catalog_versions")
    async def versions(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        """Every version: who, when, state, and each changed field's old and new value."""
        item, versions = await admin.versions(code)
        return render(request, "pages/office/catalog/versions.html", item=item, versions=versions)
