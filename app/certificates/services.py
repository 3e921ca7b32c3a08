"""Issuing, rendering, downloading, verifying and revoking electronic certificates."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import math
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

import segno
from markupsafe import Markup

from app.accounts.sessions import CurrentUser
from app.audit.services import record
from app.catalog.services import as_json
from app.catalog.tables import CertificateType
from app.certificates import keys
from app.certificates.pdf import SignRequest, produce
from app.certificates.tables import Certificate, CertificateCounter
from app.db import utcnow, write_tx
from app.errors import DomainError, Forbidden, NotFound
from app.filings.services import guide_by_id
from app.filings.storage import store_bytes
from app.filings.tables import Case, Material
from app.i18n import _
from app.notify.services import notify
from app.registry.tables import Department, LegalEntity, Person
from app.settings import get_settings
from app.web.templating import make_environment

log = logging.getLogger("yiwang.certificates")

# Form fields that are contact details, not facts the certificate attests: never printed on it.
PRIVATE_FIELD_TYPES = {"mobile", "email", "id_number", "uscc"}
PRIVATE_FIELD_WORDS = ("mobile", "phone", "address", "email")


# --- issuing (inside the approval's transaction) ------------------------------------------------------------

async def _next_number(type_id: int, year: int) -> int:
    rows = await CertificateCounter.raw(
        "INSERT INTO certificate_counter (certificate_type, year, last) VALUES ({}, {}, 1) "
        "ON CONFLICT (certificate_type, year) DO UPDATE SET last = certificate_counter.last + 1 RETURNING last",
        type_id, year)
    return int(rows[0]["last"])


def _valid_until(issued: date, years: int | None) -> date | None:
    if not years:
        return None
    try:
        end = issued.replace(year=issued.year + years)
    except ValueError:  # 29 February
        end = issued.replace(year=issued.year + years, day=28)
    return date.fromordinal(end.toordinal() - 1)


def printed_fields(form: list[dict[str, Any]], data: dict[str, str]) -> list[list[str]]:
    """The case's facts as the certificate prints them: labelled, no contact details."""
    out = []
    for field in form:
        key, value = field["key"], str(data.get(field["key"], "")).strip()
        if not value or field["type"] in PRIVATE_FIELD_TYPES or any(w in key for w in PRIVATE_FIELD_WORDS):
            continue
        if (field.get("prefill") or "").endswith(".name"):
            continue  # the holder's name is printed on its own line
        out.append([field["label"], value[:200]])
    return out


async def issue_for_case(case: dict[str, Any], user: CurrentUser, today: date) -> dict[str, Any] | None:
    """The certificate the case's item issues, numbered per type and year; None if the item issues none.
    Called inside the approval's write transaction: the case and its certificate commit together."""
    g = await guide_by_id(case["item"])
    if g.certificate is None:
        return None
    if case["holder_entity"] is not None:
        holder = await LegalEntity.select(LegalEntity.name, LegalEntity.uscc).where(
            LegalEntity.id == case["holder_entity"]).first()
        holder_name, holder_id_label, holder_id = holder["name"], _("Unified social credit code"), holder["uscc"]
    else:
        holder = await Person.select(Person.name, Person.id_number).where(Person.id == case["holder_person"]).first()
        holder_name, holder_id_label, holder_id = holder["name"], _("ID number"), holder["id_number"]
    department = await Department.select(Department.region_code).where(Department.id == case["department"]).first()
    number = await _next_number(g.certificate["id"], today.year)
    cert_no = f"{department['region_code']}{today.year}{g.certificate['id']:03d}{number:06d}"
    fields = [[holder_id_label, holder_id], *printed_fields(g.item["form"], as_json(case["form_data"]))]
    row = (await Certificate.insert(Certificate(
        cert_no=cert_no, certificate_type=g.certificate["id"], case=case["id"],
        holder_person=case["holder_person"], holder_entity=case["holder_entity"], holder_name=holder_name,
        department=case["department"], fields=fields, issued_on=today,
        valid_until=_valid_until(today, g.certificate["validity_years"]), created_at=utcnow(),
    )).returning(Certificate.id))[0]
    await record("certificate.issue", actor_id=user.id, subject_type="certificate", subject_key=cert_no,
                 case_no=case["case_no"])
    await notify(case["applicant"], _("Your electronic certificate %(name)s is issued", name=g.certificate["name"]),
                 _("Number %(no)s. It is in your certificate wallet.", no=cert_no), "/me/certificates")
    return {"id": row["id"], "cert_no": cert_no}


# --- rendering -----------------------------------------------------------------------------------------------

def verify_url(cert_no: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/verify/{cert_no}"


def qr_svg(url: str) -> Markup:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, nl=False)
    return Markup(buf.getvalue().decode())  # noqa: S704 - segno's own SVG of our own URL


def seal_svg(department: str, purpose: str) -> Markup:
    """The department's round red seal: its name around the top, a star, the purpose below."""
    size, r = 168, 78
    chars = list(department[:20])
    span = min(240.0, 18.0 * len(chars))  # degrees the name covers, centred at the top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
             f'<circle cx="84" cy="84" r="{r}" fill="none" stroke="#c8102e" stroke-width="5"/>',
             '<polygon fill="#c8102e" points="' + " ".join(
                 f"{84 + (24 if i % 2 == 0 else 10) * math.sin(math.pi * i / 5):.1f},"
                 f"{84 - (24 if i % 2 == 0 else 10) * math.cos(math.pi * i / 5):.1f}" for i in range(10)) + '"/>']
    for i, ch in enumerate(chars):
        angle = -span / 2 + (span * (i + 0.5) / len(chars))
        rad = math.radians(angle)
        x, y = 84 + 60 * math.sin(rad), 84 - 60 * math.cos(rad)
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="17" fill="#c8102e" text-anchor="middle" '
                     f'dominant-baseline="central" font-family="Noto Serif CJK SC" '
                     f'transform="rotate({angle:.1f} {x:.1f} {y:.1f})">{escape(ch)}</text>')
    parts.append(f'<text x="84" y="130" font-size="13" fill="#c8102e" text-anchor="middle" '
                 f'font-family="Noto Serif CJK SC">{escape(purpose[:10])}</text></svg>')
    return Markup("".join(parts))  # noqa: S704 - built here from escaped text


_env = make_environment()


def certificate_html(cert: dict[str, Any], ctype: dict[str, Any], department: dict[str, Any]) -> str:
    url = verify_url(cert["cert_no"])
    template = _env.get_or_select_template([f"components/certificates/pdf/{ctype['code'].lower()}.html",
                                            "components/certificates/pdf/generic.html"])
    return template.render(cert=cert, ctype=ctype, department=department, url=url, qr=qr_svg(url),
                           fields=as_json(cert["fields"]),
                           seal=seal_svg(department["name"], _("Certificate seal")))


async def ensure_pdf(cert: dict[str, Any]) -> dict[str, Any]:
    """The certificate's signed PDF, rendered once and kept under its SHA-256; also put into the holder's
    library as the material the certificate type stands for. Returns the updated row."""
    if cert["pdf_sha256"]:
        return cert
    department = await Department.select().where(Department.id == cert["department"]).first()
    ctype = await CertificateType.select().where(CertificateType.id == cert["certificate_type"]).first()
    signer = await asyncio.to_thread(keys.department_signer, department["code"], department["name"])
    html = certificate_html(cert, ctype, department)
    pdf = await produce(html, SignRequest(key=str(signer.key), cert=str(signer.cert), ca_cert=str(signer.ca_cert),
                                          reason=_("Electronic certificate %(no)s", no=cert["cert_no"]),
                                          location=department["name"]))
    stored = await store_bytes(pdf, "application/pdf", f"{ctype['name']}{cert['cert_no']}.pdf")
    async with write_tx():
        current = await Certificate.select().where(Certificate.id == cert["id"]).first()
        if current["pdf_sha256"]:  # another request rendered it meanwhile: theirs stands
            return current
        case = await Case.select(Case.applicant).where(Case.id == cert["case"]).first()
        material = (await Material.insert(Material(
            holder_person=cert["holder_person"], holder_entity=cert["holder_entity"],
            material_type=ctype["material"], sha256=stored.sha256, size=stored.size, content_type=stored.content_type,
            filename=stored.filename, valid_until=cert["valid_until"], uploaded_by=case["applicant"],
            created_at=utcnow(),
        )).returning(Material.id))[0]["id"]
        await Certificate.update({Certificate.pdf_sha256: stored.sha256, Certificate.pdf_size: stored.size,
                                  Certificate.material: material}).where(Certificate.id == cert["id"])
    return {**cert, "pdf_sha256": stored.sha256, "pdf_size": stored.size, "material": material}


async def ensure_pdfs_for_case(case_id: int) -> None:
    """After an approval: render what it issued now, so the holder finds it ready (a failure is retried on
    the first download)."""
    for cert in await Certificate.select().where(Certificate.case == case_id, Certificate.pdf_sha256 == ""):
        try:
            await ensure_pdf(cert)
        except Exception:
            log.exception("certificate %s: rendering failed; retried on first download", cert["cert_no"])


# --- reading ------------------------------------------------------------------------------------------------

async def by_number(cert_no: str) -> dict[str, Any]:
    cert = await Certificate.select(*Certificate.all_columns(), Certificate.certificate_type.name.as_alias("type_name"),
                                    Certificate.department.name.as_alias("department_name")).where(
        Certificate.cert_no == cert_no[:32]).first()
    if cert is None:
        raise NotFound()
    return cert


# --- verification ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileCheck:
    verdict: str  # "original" | "altered" | "not_ours"
    signature_ok: bool


async def signature_ok(pdf: bytes) -> bool:
    """Whether the file carries an intact signature, covering the whole file, by a key our CA issued."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            return False
        context = ValidationContext(trust_roots=[load_cert_from_pemder(str(keys.ca_cert_path()))],
                                    allow_fetching=False)
        status = await async_validate_pdf_signature(signatures[-1], context)
    except Exception:
        log.info("signature check failed", exc_info=True)
        return False
    return bool(status.intact and status.valid and status.trusted
                and status.coverage == SignatureCoverageLevel.ENTIRE_FILE)


async def check_file(cert: dict[str, Any] | None, data: bytes) -> FileCheck:
    signed = await signature_ok(data)
    sha = hashlib.sha256(data).hexdigest()
    if cert is not None and cert["pdf_sha256"] and sha == cert["pdf_sha256"]:
        return FileCheck("original", signed)
    return FileCheck("altered" if signed or cert is not None else "not_ours", signed)


# --- revocation --------------------------------------------------------------------------------------------

async def revoke(cert: dict[str, Any], user: CurrentUser, reason: str, *, ip: str) -> None:
    """By an officer of the issuing department, with a reason; the library copy stops standing in."""
    if not user.is_officer or user.department_id != cert["department"] or "approver" not in user.roles:
        async with write_tx():
            await record("certificate.revoke", outcome="denied", actor_id=user.id, subject_type="certificate",
                         subject_key=cert["cert_no"], ip=ip)
        raise Forbidden()
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Please give the reason for the revocation."), "reason")
    if len(reason) > 500:
        raise DomainError(_("The reason can be at most 500 characters."), "reason")
    now = utcnow()
    async with write_tx():
        changed = await Certificate.update({Certificate.state: "revoked", Certificate.revoked_at: now,
                                            Certificate.revoked_reason: reason, Certificate.revoked_by: user.id}).where(
            Certificate.id == cert["id"], Certificate.state == "issued").returning(Certificate.id)
        if not changed:
            raise DomainError(_("This certificate is already revoked."), "reason")
        if cert["material"]:
            await Material.update({Material.deleted_at: now}).where(Material.id == cert["material"])
        await record("certificate.revoke", actor_id=user.id, subject_type="certificate", subject_key=cert["cert_no"],
                     ip=ip, reason=reason)
        case = await Case.select(Case.applicant).where(Case.id == cert["case"]).first()
        await notify(case["applicant"], _("Certificate %(no)s was revoked", no=cert["cert_no"]), reason,
                     f"/verify/{cert['cert_no']}")

