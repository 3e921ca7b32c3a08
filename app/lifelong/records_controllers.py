"""The holder's records: /me/materials (the library, its files, deleting an upload), /me/access-log (with
disputes) and /me/export (a zip of everything the page holds)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from app.errors import DomainError
from app.filings import storage, workflow
from app.lifelong import records
from app.web.auth import client_ip, current_user, login_required
from app.web.downloads import stored_file
from app.web.forms import FormData, text
from app.web.templating import render

PRIVATE = "private, no-store"


def _page_number(request: Request[Any, Any, Any]) -> int:
    page = request.query_params.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 7 else 1


class RecordsController(Controller):
    path = "/me"
    guards = [login_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    async def _materials(self, request: Request[Any, Any, Any], *, status_code: int = 200,
                         errors: dict[int, str] | None = None) -> Template:
        user = current_user(request)
        materials = (await records.library(user.person_id, workflow.local_today())
                     if user.person_id is not None else [])
        return render(request, "pages/me/materials.html", status_code=status_code, activated=user.is_activated,
                      materials=materials, errors=errors or {},
                      deleted=request.query_params.get("deleted") == "1", in_use_states=records.IN_USE_STATES)

    @get("/materials", name="my_materials")
    async def materials(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """The materials library: validity, the cases that used each, certificate copies; view and delete."""
        if current_user(request).is_officer:
            return Redirect("/office")
        return await self._materials(request)

    @get("/materials/{material_id:int}/file", name="my_material_file")
    async def material_file(self, request: Request[Any, Any, Any], material_id: FromPath[int]) -> Stream:
        """One of the holder's own files, shown in the browser, never cached."""
        row = await records.own_material(current_user(request), material_id, ip=client_ip(request))
        extension = storage.extension_for(row["content_type"])
        return await stored_file(row["sha256"], size=row["size"], media_type=row["content_type"],
                                 name=row["filename"] or f"{material_id}{extension}",
                                 fallback=f"material-{material_id}{extension}", cache_control=PRIVATE)

    @post("/materials/{material_id:int}/delete")
    async def delete_material(self, request: Request[Any, Any, Any],
                              material_id: FromPath[int]) -> Template | Redirect:
        """Delete an upload no case in progress relies on; a refusal is shown by its row."""
        try:
            await records.delete_material(current_user(request), material_id, ip=client_ip(request))
        except DomainError as exc:
            return await self._materials(request, status_code=exc.status_code if exc.status_code == 409 else 422,
                                         errors={material_id: " ".join(exc.errors.values())})
        return Redirect("/me/materials?deleted=1", status_code=303)

    async def _access_log(self, request: Request[Any, Any, Any], page: int, *, status_code: int = 200,
                          errors: dict[int, str] | None = None, values: dict[int, str] | None = None) -> Template:
        user = current_user(request)
        log = await records.access_log(user.person_id, page) if user.person_id is not None else None
        return render(request, "pages/me/access_log.html", status_code=status_code, log=log,
                      errors=errors or {}, values=values or {}, max_chars=records.DISPUTE_MAX_CHARS)

    @get("/access-log", name="my_access_log")
    async def access_log(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """Every officer's look at the holder's data, newest first, each open to a dispute."""
        if current_user(request).is_officer:
            return Redirect("/office")
        return await self._access_log(request, _page_number(request))

    @post("/access-log/{access_id:int}/dispute")
    async def dispute(self, request: Request[Any, Any, Any], access_id: FromPath[int],
                      data: FormData) -> Template | Redirect:
        """Question one access (once); a supervisor answers on the supervision side."""
        user = current_user(request)
        reason = text(data, "reason", records.DISPUTE_MAX_CHARS * 4)
        try:
            await records.raise_dispute(user, access_id, reason, ip=client_ip(request))
        except DomainError as exc:
            page = await records.access_page_of(user.person_id, access_id)
            return await self._access_log(request, page, status_code=exc.status_code if exc.status_code == 409
                                          else 422, errors={access_id: " ".join(exc.errors.values())},
                                          values={access_id: reason})
        page = await records.access_page_of(user.person_id, access_id)
        return Redirect(f"/me/access-log?page={page}#access-{access_id}", status_code=303)

    @get("/export", name="my_export")
    async def export(self, request: Request[Any, Any, Any]) -> Stream | Redirect:
        """A zip of everything the page holds: page.json, the material files, the certificate PDFs."""
        user = current_user(request)
        if user.is_officer:  # an officer's filings are residents' cases (proxy filing): not theirs to take away
            return Redirect("/office")
        out, size = await records.export_zip(user, ip=client_ip(request))
        name = f"yiwang-export-{workflow.local_today():%Y%m%d}.zip"
        return Stream(records.stream(out), media_type="application/zip", headers={
            "Content-Length": str(size), "Cache-Control": PRIVATE,
            "Content-Disposition": storage.content_disposition("attachment", name, name)})
