"""Issuing, rendering, downloading, verifying and revoking electronic certificates."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

import segno
from babel.numbers import format_decimal
from markupsafe import Markup

from app.accounts.sessions import CurrentUser
from app.audit.services import record, record_alone
from app.catalog.schema import CONTACT_WORDS, HOLDER_SOURCES
from app.catalog.services import as_json
from app.catalog.tables import CertificateType
from app.certificates import keys
from app.certificates.pdf import SignRequest, produce
from app.certificates.tables import Certificate, CertificateCounter
from app.db import utcnow, write_tx
from app.errors import DomainError, Forbidden, NotFound
from app.filings.services import guide_by_id, log_access
from app.filings.storage import store_bytes
from app.filings.tables import Case, Material
from app.filings.workflow import local_today, may_act_for_holder
from app.i18n import LOCALE, _, fmt_date
from app.lifelong.services import enterprises_of
from app.notify.services import notify
from app.registry.tables import Department, LegalEntity, Person
from app.registry.validators import mask_name
from app.settings import get_settings
from app.web.templating import make_environment

log = logging.getLogger("yiwang.certificates")

# Form fields that are contact details, not facts the certificate attests: never printed on it.
PRIVATE_FIELD_TYPES = {"mobile", "email", "id_number", "uscc"}
PRIVATE_FIELD_WORDS = ("mobile", "phone", "address", "email")


# --- issuing (inside the approval's transaction) ------------------------------------------------------------

async def next_serial(type_id: int, year: int) -> int:
    rows = await CertificateCounter.raw(
        "INSERT INTO certificate_counter (certificate_type, year, last) VALUES ({}, {}, 1) "
        "ON CONFLICT (certificate_type, year) DO UPDATE SET last = certificate_counter.last + 1 RETURNING last",
        type_id, year)
    return int(rows[0]["last"])


def expiry_date(issued: date, years: int | None) -> date | None:
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


MAPPED_VALUE_MAX = 500  # a licence's 经营范围 runs long; the layouts leave room for it
UNIT_RE = re.compile(r"[（(]([^（）()]{1,8})[）)]$")  # 注册资本（万元） → 万元


def _form_value(field: dict[str, Any] | None, raw: Any) -> str:
    value = str(raw or "").strip()
    if field is None or not value or field["type"] == "mobile" or any(w in field["key"] for w in CONTACT_WORDS):
        return ""
    if field["type"] == "date":
        with contextlib.suppress(ValueError):
            return fmt_date(date.fromisoformat(value))
    if field["type"] == "number" and (unit := UNIT_RE.search(field["label"])):
        return value + unit.group(1)
    return value


def _holder_value(holder: dict[str, Any], name: str) -> str:
    value = holder.get("legal_rep_name" if name == "legal_rep" else name)
    if not value:
        return ""
    if name == "sex":
        return _("Male") if value == "M" else _("Female")
    if name == "registered_capital":  # yuan in the registry; licences print 万元
        return _("%(amount)s ten thousand yuan", amount=format_decimal(value / 10_000, locale=LOCALE))
    return fmt_date(value) if isinstance(value, date) else str(value).strip()


def mapped_fields(mapping: list[dict[str, str]], form: list[dict[str, Any]], data: dict[str, str],
                  holder: dict[str, Any], case_facts: dict[str, str]) -> list[list[str]]:
    """The certificate type's own fields (see catalog/FORMAT.md), in its order, read now; an entry with no
    value on this case is left out, and so is any contact detail."""
    by_key = {field["key"]: field for field in form}
    out = []
    for entry in mapping:
        kind, _dot, name = entry["source"].partition(".")
        if kind == "form":
            value = _form_value(by_key.get(name), data.get(name))
        elif kind == "holder":
            value = _holder_value(holder, name) if name in HOLDER_SOURCES else ""
        else:
            value = case_facts.get(name, "")
        if value:
            out.append([entry["label"], value[:MAPPED_VALUE_MAX]])
    return out


async def issue_for_case(case: dict[str, Any], user: CurrentUser, today: date) -> dict[str, Any] | None:
    """The certificate the case's item issues, numbered per type and year; None if the item issues none.
    Called inside the approval's write transaction: the case and its certificate commit together."""
    g = await guide_by_id(case["item"])
    if g.certificate is None:
        return None
    if case["holder_entity"] is not None:
        holder = await LegalEntity.select(*LegalEntity.all_columns(),
                                          LegalEntity.legal_rep.name.as_alias("legal_rep_name")).where(
            LegalEntity.id == case["holder_entity"]).first()
        holder_name, holder_id_label, holder_id = holder["name"], _("Unified social credit code"), holder["uscc"]
    else:
        holder = await Person.select().where(Person.id == case["holder_person"]).first()
        holder_name, holder_id_label, holder_id = holder["name"], _("ID number"), holder["id_number"]
    department = await Department.select(Department.region_code).where(Department.id == case["department"]).first()
    number = await next_serial(g.certificate["id"], today.year)
    cert_no = f"{department['region_code']}{today.year}{g.certificate['id']:03d}{number:06d}"
    mapping, data = as_json(g.certificate["fields"]), as_json(case["form_data"])
    facts = (mapped_fields(mapping, g.item["form"], data, holder,
                           {"case_no": case["case_no"], "item_name": g.item["name"], "decided_on": fmt_date(today)})
             if mapping else printed_fields(g.item["form"], data))
    fields = [[holder_id_label, holder_id], *facts]
    child_name = data.get("child_name", "") if case.get("bundle_case") is not None else ""
    if child_name and case["holder_entity"] is None and holder["name"] != child_name:
        # A newborn's certificate issued before the household registration gives the child an ID number: the
        # child's all the same (it moves to the child's page with the registration), the parent's number not on it.
        holder_name, fields = child_name, facts
    row = (await Certificate.insert(Certificate(
        cert_no=cert_no, certificate_type=g.certificate["id"], case=case["id"],
        holder_person=case["holder_person"], holder_entity=case["holder_entity"], holder_name=holder_name,
        department=case["department"], fields=fields, issued_on=today,
        valid_until=expiry_date(today, g.certificate["validity_years"]), created_at=utcnow(),
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
    """The department's round red seal as official seals are cut: a ring; the name inside it along the top, from
    about 8 to 4 o'clock, each character upright towards the centre; a five-pointed star; the purpose below.
    A long name (up to 20 characters) gets smaller characters rather than touching the ring."""
    c, ring, ring_width = 84.0, 79.0, 3.6  # 168 units ≈ 44 mm
    outer = ring - ring_width / 2 - 3.5  # the name keeps this clear of the ring
    chars = [ch for ch in department[:20] if not ch.isspace()]
    n = max(1, len(chars))
    arc = math.radians(240)  # 8 o'clock to 4 o'clock, over the top
    # The characters' inner corners come closest: size s fits n of them when (outer - s) * arc / n >= s.
    s = min(22.0, outer * (arc / n) / (1 + arc / n))
    rho = outer - s / 2  # the characters' centres
    step = min(arc / n, 1.6 * s / rho)  # a short name is spaced, not spread over the whole arc
    font = 'font-family="Yiwang Serif SC, Noto Serif CJK SC" fill="#c8102e" stroke="#c8102e" stroke-width="0.5"'
    radii = [26.0 if i % 2 == 0 else 26.0 * 0.382 for i in range(10)]  # a regular star's points and notches
    star = " ".join(f"{c + r * math.sin(math.pi * i / 5):.2f},{c - r * math.cos(math.pi * i / 5):.2f}"
                    for i, r in enumerate(radii))
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="168" height="168" viewBox="0 0 168 168">',
             f'<circle cx="{c}" cy="{c}" r="{ring}" fill="none" stroke="#c8102e" stroke-width="{ring_width}"/>',
             f'<polygon fill="#c8102e" points="{star}"/>']
    for i, ch in enumerate(chars):
        angle = -step * n / 2 + step * (i + 0.5)  # radians, clockwise from 12 o'clock
        x, y = c + rho * math.sin(angle), c - rho * math.cos(angle)
        # The baseline 0.38 em below the centre puts a CJK glyph's body on (x, y); then it turns about that point.
        parts.append(f'<text x="{x:.2f}" y="{y + 0.38 * s:.2f}" font-size="{s:.2f}" text-anchor="middle" {font} '
                     f'transform="rotate({math.degrees(angle):.2f} {x:.2f} {y:.2f})">{escape(ch)}</text>')
    label = purpose.strip()[:10]
    size = min(15.0, 96.0 / max(1, len(label)))
    parts.append(f'<text x="{c}" y="{c + 44 + 0.38 * size:.2f}" font-size="{size:.2f}" text-anchor="middle" '
                 f'{font}>{escape(label)}</text></svg>')
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
        case = await Case.select(Case.applicant, Case.bundle_case).where(Case.id == cert["case"]).first()
        material = (await Material.insert(Material(
            holder_person=cert["holder_person"], holder_entity=cert["holder_entity"],
            material_type=ctype["material"], sha256=stored.sha256, size=stored.size, content_type=stored.content_type,
            filename=stored.filename, valid_until=cert["valid_until"], uploaded_by=case["applicant"],
            created_at=utcnow(),
        )).returning(Material.id))[0]["id"]
        await Certificate.update({Certificate.pdf_sha256: stored.sha256, Certificate.pdf_size: stored.size,
                                  Certificate.material: material}).where(Certificate.id == cert["id"])
        if case["bundle_case"] is not None:  # a member of the bundle may have waited for this certificate
            from app.bundles.services import start_ready  # bundles build on certificates

            await start_ready(case["bundle_case"])
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
    # Hand-written: every download and verification starts here, and Piccolo's builder costs more than the query.
    rows = await Certificate.raw(
        "SELECT c.*, t.name AS type_name, d.name AS department_name, k.case_no, k.applicant "
        "FROM certificate c JOIN certificate_type t ON t.id = c.certificate_type "
        "JOIN department d ON d.id = c.department JOIN filing_case k ON k.id = c.\"case\" WHERE c.cert_no = {}",
        cert_no[:32])
    if not rows:
        raise NotFound()
    return rows[0]



def status(cert: dict[str, Any], today: date) -> str:
    """valid | revoked | expired, as the wallet and the verify page show it."""
    if cert["state"] == "revoked":
        return "revoked"
    if cert["valid_until"] is not None and cert["valid_until"] < today:
        return "expired"
    return "valid"


def with_status(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    today = local_today()
    return [{**row, "status": status(row, today)} for row in rows]


def public_holder_name(cert: dict[str, Any]) -> str:
    """A person's name masked (张**); an enterprise's name is public registry data and shown whole."""
    return cert["holder_name"] if cert["holder_entity"] else mask_name(cert["holder_name"])


WALLET_COLUMNS = (Certificate.id, Certificate.cert_no, Certificate.holder_name, Certificate.holder_entity,
                  Certificate.issued_on, Certificate.valid_until, Certificate.state, Certificate.revoked_at,
                  Certificate.revoked_reason, Certificate.pdf_size,
                  Certificate.certificate_type.name.as_alias("type_name"),
                  Certificate.department.name.as_alias("department_name"),
                  Certificate.case.case_no.as_alias("case_no"))


async def wallet(user: CurrentUser) -> list[dict[str, Any]]:
    """The user's own certificates, then those of each enterprise they act for; newest first, with status."""
    entities = [e["uscc"] for e in await enterprises_of(user)]
    where = []
    if user.person_id is not None:
        where.append(Certificate.holder_person == user.person_id)
    if entities:
        where.append(Certificate.holder_entity.uscc.is_in(entities))
    if not where:
        return []
    condition = where[0] if len(where) == 1 else where[0] | where[1]
    rows = await Certificate.select(*WALLET_COLUMNS, Certificate.holder_entity.uscc.as_alias("uscc")).where(
        condition).order_by(Certificate.id, ascending=False)
    rows.sort(key=lambda row: row["uscc"] or "")  # stable: the person's own first, then per enterprise
    return with_status(rows)


async def of_entity(entity_id: int) -> list[dict[str, Any]]:
    """An enterprise's licences and certificates, newest first, for its page."""
    rows = await Certificate.select(*WALLET_COLUMNS).where(Certificate.holder_entity == entity_id).order_by(
        Certificate.id, ascending=False)
    return with_status(rows)


async def for_case(case_id: int) -> list[dict[str, Any]]:
    rows = await Certificate.select(*WALLET_COLUMNS, Certificate.department).where(Certificate.case == case_id)
    return with_status(rows)


async def downloadable(user: CurrentUser, cert: dict[str, Any], *, ip: str) -> None:
    """Whether this user may download the certificate (a `by_number` row): whoever may act for its holder on the
    issuing case, or an officer of the issuing department (whose look goes on the holder's access log). Others:
    NotFound, audited. The certificate's holder is the case's (they move together)."""
    case = {"applicant": cert["applicant"], "case_no": cert["case_no"], "holder_person": cert["holder_person"],
            "holder_entity": cert["holder_entity"]}
    if user.is_officer and user.department_id == cert["department"]:
        await log_access(user, case, _("Electronic certificate %(no)s", no=cert["cert_no"]),
                         _("Checking an issued certificate"))
        return
    if not user.is_officer and await may_act_for_holder(user, case):
        return
    await record_alone("certificate.download", outcome="denied", actor_id=user.id, subject_type="certificate",
                       subject_key=cert["cert_no"], ip=ip)
    raise NotFound()


async def record_download(user: CurrentUser, cert: dict[str, Any], *, ip: str, cached: bool) -> None:
    await record_alone("certificate.download", actor_id=user.id, subject_type="certificate",
                       subject_key=cert["cert_no"], ip=ip, **({"not_modified": True} if cached else {}))


async def by_file_hash(sha256: str) -> dict[str, Any] | None:
    row = await Certificate.select(Certificate.cert_no).where(Certificate.pdf_sha256 == sha256).first()
    return await by_number(row["cert_no"]) if row else None


async def notify_expired(today: date) -> int:
    """Tell each holder once that a certificate expired (the wallet shows it expired and the library copy no
    longer stands in). Returns how many were told."""
    told = 0
    rows = await Certificate.select(Certificate.id, Certificate.cert_no, Certificate.case.applicant.as_alias(
        "applicant"), Certificate.certificate_type.name.as_alias("type_name")).where(
        Certificate.state == "issued", Certificate.valid_until < today, Certificate.expiry_notified_at.is_null(),
    ).limit(1000)
    for row in rows:
        async with write_tx():
            changed = await Certificate.update({Certificate.expiry_notified_at: utcnow()}).where(
                Certificate.id == row["id"], Certificate.expiry_notified_at.is_null()).returning(Certificate.id)
            if not changed:
                continue
            await record("certificate.expired", subject_type="certificate", subject_key=row["cert_no"])
            await notify(row["applicant"], _("Your %(name)s has expired", name=row["type_name"]),
                         _("Certificate %(no)s is no longer valid. You can apply to renew it.", no=row["cert_no"]),
                         "/me/certificates")
        told += 1
    return told

# --- verification ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileCheck:
    verdict: str  # "original" | "altered" | "not_ours"
    signature_ok: bool
    cert: dict[str, Any] | None  # the certificate the file is, or claims to be


def _read_signatures(pdf: bytes) -> list[Any]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return list(PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures)
    except Exception:
        log.info("not a readable signed PDF", exc_info=True)
        return []


async def signature_ok(pdf: bytes) -> bool:
    """Whether the file carries an intact signature, covering the whole file, by a key our CA issued."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    signatures = _read_signatures(pdf)
    if not signatures:
        return False
    try:
        context = ValidationContext(trust_roots=[load_cert_from_pemder(str(keys.ca_cert_path()))],
                                    allow_fetching=False)
        status_ = await async_validate_pdf_signature(signatures[-1], context)
    except Exception:
        log.info("signature check failed", exc_info=True)
        return False
    return bool(status_.intact and status_.valid and status_.trusted
                and status_.coverage == SignatureCoverageLevel.ENTIRE_FILE)


def claimed_number(pdf: bytes) -> str:
    """The certificate number a file's signature names in its reason (present even when the file was altered)."""
    for signature in reversed(_read_signatures(pdf)):
        reason = str(signature.sig_object.get("/Reason", ""))
        digits = "".join(ch for ch in reason if ch.isdigit())
        if 10 <= len(digits) <= 32:
            return digits
    return ""


async def check_file(cert: dict[str, Any] | None, data: bytes) -> FileCheck:
    """original: byte for byte the file we issued; altered: ours once, changed since; not_ours: neither."""
    sha = hashlib.sha256(data).hexdigest()
    if cert is None:
        cert = await by_file_hash(sha)
    if cert is None and (number := claimed_number(data)):
        with contextlib.suppress(NotFound):
            cert = await by_number(number)
    signed = await signature_ok(data)
    if cert is not None and cert["pdf_sha256"] and sha == cert["pdf_sha256"]:
        return FileCheck("original", signed, cert)
    return FileCheck("altered" if signed or cert is not None else "not_ours", signed, cert)


# --- revocation --------------------------------------------------------------------------------------------

async def revoke(cert: dict[str, Any], user: CurrentUser, reason: str, *, ip: str) -> None:
    """By an officer of the issuing department, with a reason; the library copy stops standing in."""
    if not user.is_officer or user.department_id != cert["department"] or "approver" not in user.roles:
        await record_alone("certificate.revoke", outcome="denied", actor_id=user.id, subject_type="certificate",
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

