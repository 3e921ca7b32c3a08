"""Certificate pages: the holder's wallet, the PDF download, the public verify page with its file check, and
the issuing department's certificate page with revocation."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ETag, UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.audit.services import count_since, record_alone
from app.certificates import services
from app.db import utcnow
from app.errors import DomainError, Forbidden, NotFound
from app.filestore import CHUNK, read
from app.filings.storage import content_disposition
from app.filings.workflow import local_today
from app.i18n import _
from app.web.auth import client_ip, current_user, login_required, officer_required
from app.web.flash import with_flash
from app.web.forms import FormData, text
from app.web.templating import render

VERIFY_MAX_BYTES = 10_000_000  # our certificates are ~250 KB; a file check reads at most this much
VERIFY_MAX_CHECKS = 30  # file checks per address …
VERIFY_WINDOW = timedelta(minutes=15)  # … in this window (each one validates a signature)


def _number(name: str) -> str:
    return name.removesuffix(".pdf")[:32]


class WalletController(Controller):
    guards = [login_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    @get("/me/certificates", name="wallet")
    async def wallet(self, request: Request[Any, Any, Any]) -> Template:
        """The holder's certificates (and their enterprises'), each valid, revoked or expired."""
        return render(request, "pages/certificates/wallet.html", certificates=await services.wallet(
            current_user(request)))

    @get("/certificates/{name:str}", name="certificate_pdf")
    async def download(self, request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
        """The signed PDF, rendered once and then served as stored; every download is audited."""
        if not name.endswith(".pdf"):
            raise NotFound()
        user = current_user(request)
        ip = client_ip(request)
        cert = await services.by_number(_number(name))
        await services.downloadable(user, cert, ip=ip)
        cert = await services.ensure_pdf(cert)
        etag = ETag(value=cert["pdf_sha256"])  # the file never changes: its hash is its version
        # The browser may keep it but must ask again each time: the holder's right and the audit row are rechecked,
        # and an unchanged file costs a 304.
        cache = {"Cache-Control": "private, no-cache"}
        cached = request.headers.get("if-none-match", "") == etag.to_header()
        await services.record_download(user, cert, ip=ip, cached=cached)
        if cached:
            return Response(b"", status_code=304, headers={"ETag": etag.to_header(), **cache})
        # A few hundred KB at most: read in one go rather than streamed in chunks, one thread hop instead of several.
        body = await read(cert["pdf_sha256"])
        disposition = content_disposition("inline", f"{cert['type_name']}{cert['cert_no']}.pdf",
                                          f"certificate-{cert['cert_no']}.pdf")
        return Response(body, media_type="application/pdf",
                        headers={"ETag": etag.to_header(), "Content-Disposition": disposition, **cache})


async def _read_pdf(upload: Any) -> bytes:
    data = b""
    while chunk := await upload.read(CHUNK):
        data += chunk
        if len(data) > VERIFY_MAX_BYTES:
            raise DomainError(_("The file is larger than %(mb)d MB.", mb=VERIFY_MAX_BYTES // 1_000_000), "file")
    if not data.startswith(b"%PDF-"):
        raise DomainError(_("Please choose the certificate's PDF file."), "file")
    return data


class VerifyController(Controller):
    """Public: no login. The holder's name is masked; a file is checked and never kept."""

    @get("/verify", name="verify_index")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Look a certificate up by number, or drop a PDF to learn which certificate it is and whether it is whole."""
        return render(request, "pages/certificates/verify.html", cert=None, check=None, values={}, errors={})

    @post("/verify")
    async def lookup(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        number = str(form.get("cert_no", "")).strip()[:32]
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            return await self._check(request, None, upload)
        if number:
            return Redirect(f"/verify/{number}", status_code=303)
        return render(request, "pages/certificates/verify.html", status_code=422, cert=None, check=None,
                      values={}, errors={"cert_no": _("Enter the certificate number, or choose its PDF file.")})

    @get("/verify/{cert_no:str}", name="verify")
    async def show(self, request: Request[Any, Any, Any], cert_no: FromPath[str]) -> Template:
        """Valid, revoked (when and why) or expired; the QR code on every certificate leads here."""
        try:
            cert = await services.by_number(cert_no)
        except NotFound:
            return render(request, "pages/certificates/verify.html", status_code=404, cert=None, check=None,
                          values={"cert_no": cert_no[:32]}, errors={"cert_no": _("No certificate has this number.")})
        return render(request, "pages/certificates/verify.html", **_verify_context(cert), check=None, errors={})

    @post("/verify/{cert_no:str}")
    async def check(self, request: Request[Any, Any, Any], cert_no: FromPath[str]) -> Template:
        """Is this file the unaltered original of this certificate?"""
        cert = await services.by_number(cert_no)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return render(request, "pages/certificates/verify.html", status_code=422, **_verify_context(cert),
                          check=None, errors={"file": _("Please choose the certificate's PDF file.")})
        return await self._check(request, cert, upload)

    async def _check(self, request: Request[Any, Any, Any], cert: dict[str, Any] | None, upload: Any) -> Template:
        ip = client_ip(request)
        context = _verify_context(cert) if cert else {"cert": None, "values": {}}
        if await count_since("certificate.check_file", utcnow() - VERIFY_WINDOW, ip=ip) >= VERIFY_MAX_CHECKS:
            return render(request, "pages/certificates/verify.html", status_code=429, **context, check=None,
                          errors={"file": _("Too many file checks. Please try again in 15 minutes.")})
        try:
            data = await _read_pdf(upload)
        except DomainError as exc:
            return render(request, "pages/certificates/verify.html", status_code=422, **context, check=None,
                          errors=exc.errors)
        result = await services.check_file(cert, data)
        await record_alone("certificate.check_file", subject_type="certificate",
                           subject_key=result.cert["cert_no"] if result.cert else "", ip=ip, verdict=result.verdict,
                           sha256=hashlib.sha256(data).hexdigest())
        if result.cert is not None:
            context = _verify_context(result.cert)
        return render(request, "pages/certificates/verify.html", **context, check=result, errors={})


def _verify_context(cert: dict[str, Any]) -> dict[str, Any]:
    return {"cert": {**cert, "status": services.status(cert, local_today()),
                     "public_name": services.public_holder_name(cert)},
            "values": {"cert_no": cert["cert_no"]}}


class OfficeCertificateController(Controller):
    path = "/office/certificates"
    guards = [login_required, officer_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    async def _page(self, request: Request[Any, Any, Any], cert_no: str, *, status_code: int = 200,
                    errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
        user = current_user(request)
        cert = await services.by_number(cert_no)
        if cert["department"] != user.department_id:
            await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type="certificate",
                               subject_key=cert["cert_no"], ip=client_ip(request), reason="other department")
            raise Forbidden()
        return render(request, "pages/office/certificate.html", status_code=status_code,
                      cert={**cert, "status": services.status(cert, local_today())},
                      may_revoke="approver" in user.roles, errors=errors or {}, values=values or {})

    @get("/{cert_no:str}", name="office_certificate")
    async def show(self, request: Request[Any, Any, Any], cert_no: FromPath[str]) -> Template:
        """A certificate the officer's department issued, with the revocation form for its approvers."""
        return await self._page(request, cert_no)

    @post("/{cert_no:str}/revoke")
    async def revoke(self, request: Request[Any, Any, Any], cert_no: FromPath[str],
                     data: FormData) -> Template | Redirect:
        """Revoke with a reason; the holder is told and the verify page says so at once."""
        cert = await services.by_number(cert_no)
        reason = text(data, "reason", 600)
        try:
            await services.revoke(cert, current_user(request), reason, ip=client_ip(request))
        except DomainError as exc:
            return await self._page(request, cert_no, status_code=422, errors=exc.errors, values={"reason": reason})
        return with_flash(Redirect(f"/office/certificates/{cert['cert_no']}", status_code=303),
                          "certificate_revoked")
