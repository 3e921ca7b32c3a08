"""Catalogue administration: edit a guide as a draft, publish it, and keep every version (who, when, what)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.accounts.sessions import CurrentUser
from app.accounts.tables import User
from app.audit.services import record
from app.catalog.schema import ONLINE_LEVELS, STATUSES
from app.catalog.search import forget_synonyms, normalize
from app.catalog.services import ITEM_FIELDS, as_json, canonical, item_document, reindex, reindex_all
from app.catalog.tables import CertificateType, SearchSynonym, ServiceItem, ServiceItemEvent, ServiceItemVersion
from app.db import utcnow, write_tx
from app.errors import DomainError, FieldErrors, NotFound
from app.i18n import _
from app.registry.tables import Department

# Guide fields an administrator edits in the browser; structure (materials, situations, form) comes by file.
EDITABLE_TEXT = {
    "name": (2, 60), "summary": (0, 500), "basis": (0, 2000), "conditions": (0, 2000), "fee": (0, 200),
    "fee_basis": (0, 500), "place": (0, 200), "contact": (0, 100), "hours": (0, 200),
}
EDITABLE = (*EDITABLE_TEXT, "procedure", "legal_limit_days", "promised_limit_days", "visits", "online_level",
            "status")


async def current_document(code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The item row and its document in catalogue-file shape."""
    row = await ServiceItem.select().where(ServiceItem.code == code).first()
    if row is None:
        raise NotFound()
    departments = {d["id"]: d["code"] for d in await Department.select(Department.id, Department.code)}
    certificates = {c["id"]: c["code"] for c in await CertificateType.select(CertificateType.id, CertificateType.code)}
    events = await ServiceItemEvent.select(ServiceItemEvent.event).where(ServiceItemEvent.item == row["id"]).output(
        as_list=True)
    return row, canonical(await item_document(row, departments, certificates, events))


async def latest_draft(item_id: int, published_version: int) -> dict[str, Any] | None:
    draft = await ServiceItemVersion.select().where(
        ServiceItemVersion.item == item_id, ServiceItemVersion.state == "draft",
        ServiceItemVersion.version > published_version,
    ).order_by(ServiceItemVersion.id, ascending=False).first()
    if draft:
        draft["snapshot"] = as_json(draft["snapshot"])
    return draft


def form_values(doc: dict[str, Any]) -> dict[str, str]:
    values = {k: str(doc[k]) for k in EDITABLE if k != "procedure"}
    values["procedure"] = "\n".join(doc["procedure"])
    return values


def apply_form(doc: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The document with the form's values, or DomainError naming each bad field in Chinese."""
    errors = FieldErrors()
    changed = dict(doc)
    for key, (lo, hi) in EDITABLE_TEXT.items():
        value = form.get(key, "").strip()
        if not lo <= len(value) <= hi:
            errors.add(key, _("Please enter %(lo)s to %(hi)s characters.", lo=lo, hi=hi))
        changed[key] = value
    steps = [line.strip() for line in form.get("procedure", "").splitlines() if line.strip()]
    if not 1 <= len(steps) <= 12 or any(len(s) > 300 for s in steps):
        errors.add("procedure", _("Enter 1 to 12 steps, one per line, each at most 300 characters."))
    changed["procedure"] = steps
    for key, hi in (("legal_limit_days", 365), ("promised_limit_days", 365), ("visits", 2)):
        raw = form.get(key, "").strip()
        if not raw.isdigit() or int(raw) > hi:
            errors.add(key, _("Please enter a whole number from 0 to %(hi)s.", hi=hi))
        else:
            changed[key] = int(raw)
    if "legal_limit_days" not in errors.errors and "promised_limit_days" not in errors.errors and (
        changed["promised_limit_days"] > changed["legal_limit_days"]
    ):
        errors.add("promised_limit_days", _("The promised time limit cannot be longer than the legal one."))
    for key, choices in (("online_level", ONLINE_LEVELS), ("status", STATUSES)):
        if form.get(key) not in choices:
            errors.add(key, _("Please choose one of the options."))
        else:
            changed[key] = form[key]
    errors.raise_if_any()
    return changed


@dataclass(frozen=True)
class SaveResult:
    version: int
    published: bool
    changed_fields: list[str]


async def save(user: CurrentUser, code: str, form: dict[str, str], *, publish: bool, note: str, ip: str) -> SaveResult:
    """Save the edited guide as a draft, or publish it; either way a version row records who changed what."""
    row, published_doc = await current_document(code)
    draft = await latest_draft(row["id"], row["version"])
    base = draft["snapshot"] if draft else published_doc
    new_doc = apply_form(base, form)
    changed = [k for k in ITEM_FIELDS if new_doc.get(k) != published_doc.get(k)]
    if not changed:
        raise DomainError(_("Nothing has changed compared with the published guide."))
    now = utcnow()
    async with write_tx():
        last = await ServiceItemVersion.select(ServiceItemVersion.version).where(
            ServiceItemVersion.item == row["id"]).order_by(ServiceItemVersion.version, ascending=False).first()
        version = max(row["version"], last["version"] if last else 0) + 1
        await ServiceItemVersion.insert(ServiceItemVersion(
            item=row["id"], version=version, state="published" if publish else "draft", snapshot=new_doc,
            changed_fields=",".join(changed)[:400], note=note[:200], author_id=user.id, created_at=now,
        ))
        if publish:
            values = {k: new_doc[k] for k in EDITABLE}
            values.update(search_name=normalize(new_doc["name"]), search_text=normalize(new_doc["summary"]),
                          version=version, updated_at=now)
            await ServiceItem.update(values).where(ServiceItem.id == row["id"])
            await reindex([(row["id"], new_doc["name"], new_doc["summary"], new_doc["status"])])
        await record("catalog.publish" if publish else "catalog.draft", actor_id=user.id, subject_type="item",
                     subject_key=code, ip=ip, version=version, fields=changed)
    return SaveResult(version=version, published=publish, changed_fields=changed)


async def versions(code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The item and its versions, newest first, each with the fields it changed and their old and new values."""
    row = await ServiceItem.select(ServiceItem.id, ServiceItem.code, ServiceItem.name, ServiceItem.version).where(
        ServiceItem.code == code).first()
    if row is None:
        raise NotFound()
    rows = await ServiceItemVersion.select(
        ServiceItemVersion.all_columns(), ServiceItemVersion.item.code.as_alias("code"),
    ).where(ServiceItemVersion.item == row["id"]).order_by(ServiceItemVersion.version)
    authors = {u["id"]: u["display_name"] for u in await User.select(User.id, User.display_name).where(
        User.id.is_in([r["author_id"] for r in rows if r["author_id"]] or [0]))}
    previous: dict[str, Any] = {}
    result = []
    for r in rows:
        snapshot = as_json(r["snapshot"])
        fields = [f for f in r["changed_fields"].split(",") if f and f != "*"]
        result.append({
            **r, "author": authors.get(r["author_id"], ""),
            "changes": [(f, previous.get(f), snapshot.get(f)) for f in fields],
        })
        if r["state"] == "published":
            previous = snapshot
    return row, list(reversed(result))


async def synonyms() -> list[dict[str, Any]]:
    return await SearchSynonym.select().order_by(SearchSynonym.term)


async def add_synonym(user: CurrentUser, term: str, alternative: str, *, ip: str) -> None:
    errors = FieldErrors()
    for key, value in (("term", term), ("alternative", alternative)):
        if not 1 <= len(value) <= 20:
            errors.add(key, _("Please enter 1 to 20 characters."))
    if not errors.errors and normalize(term) == normalize(alternative):
        errors.add("alternative", _("The two words are the same."))
    errors.raise_if_any()
    pairs = [(s["term"], s["alternative"]) for s in await synonyms()]
    if (term, alternative) in pairs or (alternative, term) in pairs:
        raise DomainError(_("This pair is already in the table."), "term")
    async with write_tx():
        await SearchSynonym.insert(SearchSynonym(term=term, alternative=alternative))
        await reindex_all()
        await record("catalog.synonym.add", actor_id=user.id, subject_type="synonym", subject_key=term, ip=ip,
                     alternative=alternative)
    forget_synonyms()


async def delete_synonym(user: CurrentUser, synonym_id: int, *, ip: str) -> None:
    async with write_tx():
        row = await SearchSynonym.select().where(SearchSynonym.id == synonym_id).first()
        if row is None:
            raise NotFound()
        await SearchSynonym.delete().where(SearchSynonym.id == synonym_id)
        await reindex_all()
        await record("catalog.synonym.delete", actor_id=user.id, subject_type="synonym", subject_key=row["term"],
                     ip=ip, alternative=row["alternative"])
    forget_synonyms()
