"""The holder's records on the personal page: the materials library, the data-access log and its disputes, and
the export of everything the page holds (the PIPL right to a copy)."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any

import anyio
import anyio.to_thread
from babel.numbers import format_decimal

from app.accounts.sessions import CurrentUser
from app.accounts.tables import User
from app.audit.services import record, record_alone
from app.audit.tables import DataAccess
from app.catalog.services import as_json
from app.certificates import services as certificates
from app.certificates.tables import Certificate
from app.db import utcnow, write_tx
from app.errors import Conflict, DomainError, NotFound
from app.filestore import CHUNK, get_store
from app.filings import workflow
from app.filings.tables import Case, CaseMaterial, CaseStep, Material
from app.i18n import LOCALE, _
from app.lifelong.services import children_of, enterprises_of, person_of
from app.lifelong.tables import AccessDispute, Todo
from app.notify.tables import Notification
from app.registry.tables import Department
from app.settings import get_settings

EXPIRY_WARNING = timedelta(days=90)
ACCESS_PAGE_SIZE = 50
DISPUTE_MAX_CHARS = 500
# A material these cases rely on stays: the officers handling them must still be able to open it.
IN_USE_STATES = (*workflow.OPEN_STATES, "waiting")
EXPORT_FORMAT = "yiwang-export/1"
# Each export reads every file of the library and writes a zip of it: two at a time per worker process.
_export_limiter = anyio.CapacityLimiter(2)


async def _refused(user: CurrentUser, subject_type: str, key: int, ip: str, reason: str) -> None:
    await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type=subject_type,
                       subject_key=str(key), ip=ip, reason=reason)


# --- the materials library -------------------------------------------------------------------------------------

def validity(valid_until: date | None, today: date) -> str:
    """long_term | valid | expiring (within 90 days) | expired."""
    if valid_until is None:
        return "long_term"
    if valid_until < today:
        return "expired"
    return "expiring" if valid_until <= today + EXPIRY_WARNING else "valid"


def size_label(size: int) -> str:
    """A file size as people read it: 820 KB, 1.4 MB."""
    if size >= 1_000_000:
        return f"{format_decimal(round(size / 1_000_000, 1), locale=LOCALE)} MB"
    return f"{format_decimal(max(1, round(size / 1000)), locale=LOCALE)} KB"


async def library(person_id: int, today: date) -> list[dict[str, Any]]:
    """The holder's materials (not deleted), newest first, each with its validity, the cases that used it and the
    certificate it is the copy of."""
    rows = await Material.select(
        Material.id, Material.sha256, Material.size, Material.content_type, Material.filename, Material.valid_until,
        Material.created_at, Material.material_type.name.as_alias("type_name"),
    ).where(Material.holder_person == person_id, Material.deleted_at.is_null()).order_by(
        Material.id, ascending=False)
    used: dict[int, list[dict[str, Any]]] = {}
    for use in await CaseMaterial.select(
        CaseMaterial.material, CaseMaterial.reused, CaseMaterial.case.case_no.as_alias("case_no"),
        CaseMaterial.case.state.as_alias("state"),
    ).where(CaseMaterial.material.holder_person == person_id, CaseMaterial.material.deleted_at.is_null()).order_by(
        CaseMaterial.case.id, ascending=False):
        cases = used.setdefault(use["material"], [])
        if all(c["case_no"] != use["case_no"] for c in cases):
            cases.append(use)
    issued = {c["material"]: c for c in await Certificate.select(
        Certificate.material, Certificate.cert_no, Certificate.certificate_type.name.as_alias("type_name"),
    ).where(Certificate.material.holder_person == person_id, Certificate.material.deleted_at.is_null())}
    return [{**row, "validity": validity(row["valid_until"], today), "size_label": size_label(row["size"]),
             "cases": used.get(row["id"], []),
             "certificate": issued.get(row["id"])} for row in rows]


async def own_material(user: CurrentUser, material_id: int, *, ip: str) -> dict[str, Any]:
    """A material of the user's own library; anyone else's (or a deleted one) is NotFound, audited."""
    row = None
    if user.person_id is not None and not user.is_officer:
        row = await Material.select().where(Material.id == material_id, Material.holder_person == user.person_id,
                                            Material.deleted_at.is_null()).first()
    if row is None:
        await _refused(user, "material", material_id, ip, "not the holder")
        raise NotFound()
    return row


async def delete_material(user: CurrentUser, material_id: int, *, ip: str) -> dict[str, Any]:
    """Take an upload out of the library (soft delete, with its audit row, in one transaction).

    Refused while a case in progress relies on it, and for a certificate's own copy (the wallet keeps that). A
    draft that holds it only loses the attachment: the applicant uploads again or takes another from the library."""
    material = await own_material(user, material_id, ip=ip)
    try:
        async with write_tx():
            if await Certificate.exists().where(Certificate.material == material_id):
                raise DomainError(_("This is the copy of an electronic certificate; it stays with the certificate "
                                    "in your wallet and cannot be deleted."))
            busy = await CaseMaterial.select(CaseMaterial.case.case_no.as_alias("case_no")).where(
                CaseMaterial.material == material_id, CaseMaterial.case.state.is_in(list(IN_USE_STATES)))
            if busy:
                raise Conflict(_("Case %(numbers)s in progress relies on this material; it can be deleted once the "
                                 "case is finished.", numbers="、".join(sorted({b["case_no"] for b in busy}))))
            deleted = await Material.update({Material.deleted_at: utcnow()}).where(
                Material.id == material_id, Material.deleted_at.is_null()).returning(Material.id)
            if not deleted:
                raise NotFound()
            drafts = await CaseMaterial.select(CaseMaterial.id).where(CaseMaterial.material == material_id,
                                                                      CaseMaterial.case.state == "draft")
            if drafts:
                await CaseMaterial.delete().where(CaseMaterial.id.is_in([d["id"] for d in drafts]))
            await record("material.delete", actor_id=user.id, subject_type="material", subject_key=str(material_id),
                         ip=ip, sha256=material["sha256"], drafts=len(drafts))
    except DomainError as exc:
        await record_alone("material.delete", outcome="refused", actor_id=user.id, subject_type="material",
                           subject_key=str(material_id), ip=ip, reason=" ".join(exc.errors.values()))
        raise
    return material


# --- the data-access log and disputes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AccessPage:
    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int


async def _names(table: Any, column: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {r["id"]: r["name"] for r in await table.select(table.id, column.as_alias("name")).where(
        table.id.is_in(sorted(ids)))}


async def with_officer_names(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DataAccess rows (with officer_id and department_id) and the officer's and the department's names."""
    officers = await _names(User, User.display_name, {r["officer_id"] for r in rows})
    departments = await _names(Department, Department.name, {r["department_id"] for r in rows if r["department_id"]})
    return [{**r, "officer_name": officers.get(r["officer_id"], ""),
             "department_name": departments.get(r["department_id"], "")} for r in rows]


async def _with_names_and_disputes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DataAccess rows with the officer's display name, the department's name and the row's dispute."""
    disputes = {}
    if rows:
        disputes = {d["access"]: d for d in await AccessDispute.select(
            AccessDispute.id, AccessDispute.access, AccessDispute.reason, AccessDispute.state, AccessDispute.answer,
            AccessDispute.created_at, AccessDispute.answered_at,
        ).where(AccessDispute.access.is_in([r["id"] for r in rows]))}
    return [{**r, "dispute": disputes.get(r["id"])} for r in await with_officer_names(rows)]


async def access_log(person_id: int, page: int) -> AccessPage:
    """Every look an officer took at the person's data, newest first, 50 a page."""
    total = await DataAccess.count().where(DataAccess.holder_person == person_id)
    pages = max(1, -(-total // ACCESS_PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = await DataAccess.select().where(DataAccess.holder_person == person_id).order_by(
        DataAccess.created_at, ascending=False).order_by(DataAccess.id, ascending=False).limit(
        ACCESS_PAGE_SIZE).offset((page - 1) * ACCESS_PAGE_SIZE)
    return AccessPage(rows=await _with_names_and_disputes(rows), page=page, pages=pages, total=total)


async def access_page_of(person_id: int, access_id: int) -> int:
    """The page of the log that shows this row (to come back to it after a dispute)."""
    row = await DataAccess.select(DataAccess.created_at).where(DataAccess.id == access_id).first()
    if row is None:
        return 1
    newer = await DataAccess.count().where(
        DataAccess.holder_person == person_id,
        (DataAccess.created_at > row["created_at"])
        | ((DataAccess.created_at == row["created_at"]) & (DataAccess.id > access_id)))
    return newer // ACCESS_PAGE_SIZE + 1


async def raise_dispute(user: CurrentUser, access_id: int, reason: str, *, ip: str) -> None:
    """The holder questions one officer's look (once per look); it waits for a supervisor's answer."""
    access = None
    if user.person_id is not None and not user.is_officer:
        access = await DataAccess.select(DataAccess.id).where(
            DataAccess.id == access_id, DataAccess.holder_person == user.person_id).first()
    if access is None:
        await _refused(user, "data_access", access_id, ip, "not the holder")
        raise NotFound()
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Please say what you question about this access."), "reason")
    if len(reason) > DISPUTE_MAX_CHARS:
        raise DomainError(_("Please keep it within %(n)d characters.", n=DISPUTE_MAX_CHARS), "reason")
    async with write_tx():
        # The check and the insert are one step: SQLite's IMMEDIATE transaction, PostgreSQL's row lock.
        if not get_settings().is_sqlite:
            await DataAccess.select(DataAccess.id).where(DataAccess.id == access_id).lock_rows()
        if await AccessDispute.exists().where(AccessDispute.access == access_id):
            raise Conflict(_("You have already questioned this access; a supervisor will answer it."), "reason")
        await AccessDispute.insert(AccessDispute(access=access_id, raised_by=user.id, reason=reason, state="open",
                                                 created_at=utcnow()))
        await record("access.dispute", actor_id=user.id, subject_type="data_access", subject_key=str(access_id),
                     ip=ip)


# --- the export ----------------------------------------------------------------------------------------------------

@dataclass
class Export:
    """What goes into the zip: page.json, and each file under the name page.json gives it."""

    page: dict[str, Any]
    files: list[tuple[str, str]] = field(default_factory=list)  # (name in the zip, the stored file's SHA-256)


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _material_name(row: dict[str, Any]) -> str:
    return f"materials/{row['id']}-{row['filename'] or row['id']}"


async def _cases(user: CurrentUser) -> list[dict[str, Any]]:
    """The user's cases (on their page, and those they filed, for an enterprise too) with steps and materials."""
    mine = Case.applicant == user.id
    if user.person_id is not None:
        mine = mine | (Case.holder_person == user.person_id)
    cases = await Case.select(
        Case.id, Case.case_no, Case.state, Case.item.code.as_alias("item_code"), Case.item.name.as_alias("item_name"),
        Case.department.name.as_alias("department"), Case.holder_entity.uscc.as_alias("enterprise_uscc"),
        Case.form_data, Case.answers, Case.correction, Case.limit_days, Case.due_on, Case.decided_on, Case.days_used,
        Case.created_at, Case.submitted_at, Case.updated_at,
    ).where(mine).order_by(Case.id)
    steps_mine = CaseStep.case.applicant == user.id
    materials_mine = CaseMaterial.case.applicant == user.id
    if user.person_id is not None:
        steps_mine = steps_mine | (CaseStep.case.holder_person == user.person_id)
        materials_mine = materials_mine | (CaseMaterial.case.holder_person == user.person_id)
    steps: dict[int, list[dict[str, Any]]] = {}
    for s in await CaseStep.select(
        CaseStep.case, CaseStep.action, CaseStep.from_state, CaseStep.to_state, CaseStep.opinion, CaseStep.days_used,
        CaseStep.created_at, CaseStep.actor.display_name.as_alias("actor"),
        CaseStep.department.name.as_alias("department"),
    ).where(steps_mine).order_by(CaseStep.id):
        steps.setdefault(s.pop("case"), []).append({**s, "label": workflow.step_label(s["action"])})
    materials: dict[int, list[dict[str, Any]]] = {}
    for m in await CaseMaterial.select(CaseMaterial.case, CaseMaterial.key, CaseMaterial.material,
                                       CaseMaterial.reused).where(materials_mine).order_by(CaseMaterial.id):
        materials.setdefault(m.pop("case"), []).append(m)
    return [{**{k: v for k, v in c.items() if k != "id"}, "state_label": workflow.state_label(c["state"]),
             "form_data": as_json(c["form_data"]), "answers": as_json(c["answers"]),
             "correction": as_json(c["correction"]), "steps": steps.get(c["id"], []),
             "materials": materials.get(c["id"], [])} for c in cases]


async def _certificates(user: CurrentUser, export: Export) -> list[dict[str, Any]]:
    """The wallet as /me/certificates lists it, each with its PDF (rendered now if it never was)."""
    wallet = await certificates.wallet(user)
    stored = {r["id"]: r for r in await Certificate.select(Certificate.id, Certificate.pdf_sha256,
                                                            Certificate.fields).where(
        Certificate.id.is_in([c["id"] for c in wallet] or [0]))}
    rows = []
    for c in wallet:
        sha = stored[c["id"]]["pdf_sha256"] or (await certificates.ensure_pdf(
            await certificates.by_number(c["cert_no"])))["pdf_sha256"]
        name = f"certificates/{c['cert_no']}.pdf"
        export.files.append((name, sha))
        rows.append({
            "cert_no": c["cert_no"], "type": c["type_name"], "holder_name": c["holder_name"],
            "enterprise_uscc": c["uscc"], "department": c["department_name"], "case_no": c["case_no"],
            "fields": as_json(stored[c["id"]]["fields"]), "issued_on": c["issued_on"],
            "valid_until": c["valid_until"], "status": c["status"], "revoked_at": c["revoked_at"],
            "revoked_reason": c["revoked_reason"], "pdf_sha256": sha, "file": name,
        })
    return rows


async def _materials(person_id: int, export: Export) -> list[dict[str, Any]]:
    rows = []
    for m in await library(person_id, workflow.local_today()):
        name = _material_name(m)
        export.files.append((name, m["sha256"]))
        rows.append({
            "id": m["id"], "type": m["type_name"], "filename": m["filename"], "content_type": m["content_type"],
            "size": m["size"], "sha256": m["sha256"], "valid_until": m["valid_until"], "validity": m["validity"],
            "uploaded_at": m["created_at"], "used_by_cases": [c["case_no"] for c in m["cases"]],
            "certificate_no": m["certificate"]["cert_no"] if m["certificate"] else None, "file": name,
        })
    return rows


async def _access_log(person_id: int) -> list[dict[str, Any]]:
    rows = await DataAccess.select().where(DataAccess.holder_person == person_id).order_by(
        DataAccess.created_at, ascending=False).order_by(DataAccess.id, ascending=False)
    return [{"id": r["id"], "at": r["created_at"], "officer": r["officer_name"], "department": r["department_name"],
             "case_no": r["case_no"], "what": r["what"], "reason": r["reason"],
             "dispute_id": r["dispute"]["id"] if r["dispute"] else None}
            for r in await _with_names_and_disputes(rows)]


async def gather(user: CurrentUser) -> Export:
    """Everything the page holds for this user, and the files that go with it."""
    person = await person_of(user)
    account = await User.select(User.mobile, User.display_name, User.created_at, User.activated_at).where(
        User.id == user.id).first()
    export = Export(page={"format": EXPORT_FORMAT, "exported_at": utcnow(), "account": account,
                          "profile": person.to_dict() if person else None})
    page = export.page
    page["enterprises"] = [{k: e[k] for k in ("uscc", "name", "role", "expires_on")}
                           for e in await enterprises_of(user)]
    page["children"] = await children_of(person.id, utcnow().date()) if person else []
    page["cases"] = await _cases(user)
    page["certificates"] = await _certificates(user, export)
    page["materials"], page["todos"], page["access_log"] = [], [], []
    if person is not None:
        page["materials"] = await _materials(person.id, export)
        page["todos"] = await Todo.select(Todo.kind, Todo.title, Todo.body, Todo.link, Todo.due_on,
                                          Todo.created_at, Todo.done_at).where(
            Todo.holder_person == person.id).order_by(Todo.id)
        page["access_log"] = await _access_log(person.id)
    page["notifications"] = await Notification.select(
        Notification.title, Notification.body, Notification.link, Notification.created_at, Notification.read_at,
    ).where(Notification.user == user.id).order_by(Notification.id)
    page["disputes"] = await AccessDispute.select(
        AccessDispute.id, AccessDispute.access, AccessDispute.reason, AccessDispute.state, AccessDispute.answer,
        AccessDispute.created_at, AccessDispute.answered_at,
    ).where(AccessDispute.raised_by == user.id).order_by(AccessDispute.id)
    page["files"] = [name for name, _sha in export.files]
    return export


def write_zip(export: Export, out: IO[bytes]) -> None:
    """In a worker thread: page.json, then every file copied from the file store in chunks (already compressed:
    stored as is)."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("page.json", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
            encoder = json.JSONEncoder(ensure_ascii=False, indent=1, default=_plain)
            for chunk in encoder.iterencode(export.page):
                text.write(chunk)
        store = get_store()
        for name, sha in export.files:
            entry = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
            entry.compress_type = zipfile.ZIP_STORED
            with store.open(sha) as source, zf.open(entry, "w") as target:
                shutil.copyfileobj(source, target, CHUNK)


def _build(export: Export) -> tuple[IO[bytes], int]:
    """The zip in an unnamed temporary file on the var disk (it vanishes when closed, even after a crash)."""
    folder = get_settings().var_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    out = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed by stream() once the client has it
    try:
        write_zip(export, out)
        size = out.tell()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out, size


async def export_zip(user: CurrentUser, *, ip: str) -> tuple[IO[bytes], int]:
    """The zip of the user's page (an open temporary file and its size), audited."""
    export = await gather(user)
    out, size = await anyio.to_thread.run_sync(_build, export, limiter=_export_limiter)
    try:
        await record_alone("page.export", actor_id=user.id, subject_type="person",
                           subject_key=str(user.person_id or ""), ip=ip, files=len(export.files), bytes=size)
    except BaseException:
        out.close()
        raise
    return out, size


async def stream(out: IO[bytes]) -> AsyncIterator[bytes]:
    """The file in chunks, read off the event loop; closed (and so deleted) however the download ends."""
    try:
        while chunk := await anyio.to_thread.run_sync(out.read, CHUNK):
            yield chunk
    finally:
        out.close()
