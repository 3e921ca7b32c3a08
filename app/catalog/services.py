"""Catalogue rules: import and export of whole catalogues, the search index, guides and their material lists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.audit.services import record
from app.bundles.tables import Bundle
from app.cache import TTLCache
from app.catalog.schema import FORMAT, FORMAT_VERSION, CatalogueErrors, validate_catalogue
from app.catalog.search import folds_of, forget_synonyms, item_grams, normalize
from app.catalog.tables import (
    CertificateType,
    MaterialType,
    SearchGram,
    SearchSynonym,
    ServiceItem,
    ServiceItemEvent,
)
from app.db import executemany, read_one, utcnow, write_tx
from app.errors import NotFound
from app.registry.tables import Department
from app.settings import get_settings

# The item fields a catalogue file carries, in file order; versions and exports use the same shape.
ITEM_FIELDS = (
    "code", "name", "department", "kind", "audience", "life_events", "summary", "basis", "conditions", "procedure",
    "legal_limit_days", "promised_limit_days", "visits", "online_level", "fee", "fee_basis", "place", "contact",
    "hours", "materials", "situations", "form", "certificate", "status",
)
# A bundle member's keys in file order, with the defaults a file may leave out.
MEMBER_DEFAULTS: dict[str, Any] = {"item": None, "after": [], "fee": 0, "registers": None}
INDEX_BATCH = 500


@dataclass(frozen=True)
class ImportResult:
    material_types: int
    certificate_types: int
    items_added: int
    items_changed: int
    items_unchanged: int
    bundles_added: int = 0
    bundles_changed: int = 0
    bundles_unchanged: int = 0


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _timestamp(value: datetime) -> Any:
    """Timestamps for raw statements: on SQLite the text Piccolo itself writes, on PostgreSQL a datetime."""
    return str(value) if get_settings().is_sqlite else value


async def _department_codes() -> dict[str, dict[str, Any]]:
    rows = await Department.select(Department.id, Department.code, Department.level)
    return {r["code"]: r for r in rows}


async def item_document(row: dict[str, Any], departments_by_id: dict[int, str], certificates_by_id: dict[int, str],
                        events: list[str]) -> dict[str, Any]:
    """An item row as it stands in a catalogue file."""
    audience = [a for a in ("person", "enterprise") if row[f"audience_{a}"]]
    return {
        "code": row["code"], "name": row["name"], "department": departments_by_id[row["department"]],
        "kind": row["kind"], "audience": audience, "life_events": events, "summary": row["summary"],
        "basis": row["basis"], "conditions": row["conditions"], "procedure": as_json(row["procedure"]),
        "legal_limit_days": row["legal_limit_days"], "promised_limit_days": row["promised_limit_days"],
        "visits": row["visits"], "online_level": row["online_level"], "fee": row["fee"],
        "fee_basis": row["fee_basis"], "place": row["place"], "contact": row["contact"], "hours": row["hours"],
        "materials": as_json(row["materials"]), "situations": as_json(row["situations"]), "form": as_json(row["form"]),
        "certificate": certificates_by_id.get(row["certificate_type"]) if row["certificate_type"] else None,
        "status": row["status"],
    }


def _item_values(doc: dict[str, Any], department: dict[str, Any], certificate_id: int | None) -> dict[str, Any]:
    return {
        "name": doc["name"], "department": department["id"], "level": department["level"], "kind": doc["kind"],
        "audience_person": "person" in doc["audience"], "audience_enterprise": "enterprise" in doc["audience"],
        "summary": doc["summary"], "basis": doc["basis"], "conditions": doc["conditions"],
        "procedure": doc["procedure"], "legal_limit_days": doc["legal_limit_days"],
        "promised_limit_days": doc["promised_limit_days"], "visits": doc["visits"],
        "online_level": doc["online_level"], "fee": doc["fee"], "fee_basis": doc["fee_basis"], "place": doc["place"],
        "contact": doc["contact"], "hours": doc["hours"], "materials": doc["materials"],
        "situations": doc["situations"], "form": doc["form"], "certificate_type": certificate_id,
        "status": doc.get("status", "published"),
        "search_name": normalize(doc["name"]), "search_text": normalize(doc["summary"]),
    }


def canonical(doc: dict[str, Any]) -> dict[str, Any]:
    """The document in one canonical shape (defaults, set-like lists ordered), to compare and to store."""
    return {
        **{k: doc.get(k) for k in ITEM_FIELDS},
        "audience": [a for a in ("person", "enterprise") if a in doc["audience"]],
        "life_events": sorted(set(doc["life_events"])),
        "status": doc.get("status", "published"),
    }


async def import_catalogue(doc: Any, *, actor_id: int | None = None, note: str = "import") -> ImportResult:
    """Validate everything, then upsert by code in one transaction; unchanged items are left untouched."""
    departments = await _department_codes()
    validate_catalogue(doc, set(departments))
    now = utcnow()
    changed = unchanged = 0
    async with write_tx(bulk=True):
        materials = await _upsert_codes(MaterialType, doc["material_types"],
                                        lambda m: {"name": m["name"], "description": m.get("description", "")})
        certificates = await _upsert_codes(
            CertificateType, doc["certificate_types"],
            lambda t: {"name": t["name"], "material": materials[t["material"]],
                       "validity_years": t["validity_years"], "fields": t.get("fields", [])},
        )
        existing = {r["code"]: r for r in await ServiceItem.select()}
        departments_by_id = {d["id"]: code for code, d in departments.items()}
        certificates_by_id = {v: k for k, v in certificates.items()}
        events_by_item: dict[int, list[str]] = {}
        for e in await ServiceItemEvent.select(ServiceItemEvent.item, ServiceItemEvent.event):
            events_by_item.setdefault(e["item"], []).append(e["event"])
        new_docs: list[dict[str, Any]] = []
        written: list[tuple[int, int, str, dict[str, Any]]] = []  # (item id, version, changed fields, doc)
        for item_doc in doc["items"]:
            values = _item_values(item_doc, departments[item_doc["department"]],
                                  certificates.get(item_doc["certificate"]) if item_doc.get("certificate") else None)
            current = existing.get(item_doc["code"])
            if current is None:
                new_docs.append({**values, "code": item_doc["code"], "version": 1, "updated_at": now})
                continue
            before = canonical(await item_document(current, departments_by_id, certificates_by_id,
                                                   events_by_item.get(current["id"], [])))
            diff = [k for k in ITEM_FIELDS if before.get(k) != canonical(item_doc).get(k)]
            if not diff:
                unchanged += 1
                continue
            version = current["version"] + 1
            await ServiceItem.update({**values, "version": version, "updated_at": now}).where(
                ServiceItem.id == current["id"])
            await ServiceItemEvent.delete().where(ServiceItemEvent.item == current["id"])
            written.append((current["id"], version, ",".join(diff), item_doc))
            changed += 1
        by_code = {d["code"]: d for d in doc["items"]}
        for start in range(0, len(new_docs), INDEX_BATCH):
            chunk = new_docs[start:start + INDEX_BATCH]
            rows = await ServiceItem.insert(*[ServiceItem(**values) for values in chunk])
            written += [(row["id"], 1, "*", by_code[values["code"]]) for row, values in zip(rows, chunk, strict=True)]
        added = len(new_docs)
        await executemany("INSERT INTO service_item_event (item, event) VALUES (?, ?)",
                          [(item_id, e) for item_id, _, _, d in written for e in dict.fromkeys(d["life_events"])])
        await executemany(
            "INSERT INTO service_item_version (item, version, state, snapshot, changed_fields, note, author_id, "
            "created_at) VALUES (?, ?, 'published', ?, ?, ?, ?, ?)",
            [(item_id, version, json.dumps(canonical(d), ensure_ascii=False), fields[:400], note[:200], actor_id,
              _timestamp(now)) for item_id, version, fields, d in written],
        )
        touched = [(item_id, d["name"], d["summary"], d.get("status", "published")) for item_id, _, _, d in written]
        folds_changed = "synonyms" in doc and await replace_synonyms(
            [(s["term"], s["alternative"]) for s in doc["synonyms"]])
        await (reindex_all() if folds_changed else reindex(touched))
        bundles = await upsert_bundles(doc["bundles"], now) if "bundles" in doc else (0, 0, 0)
        await record("catalog.import", actor_id=actor_id, subject_type="catalogue", subject_key=note[:64],
                     added=added, changed=changed, unchanged=unchanged, bundles_added=bundles[0],
                     bundles_changed=bundles[1], bundles_unchanged=bundles[2])
    _material_types.forget()  # this worker sees new names at once; others within GUIDE_TTL
    return ImportResult(len(materials), len(certificates), added, changed, unchanged, *bundles)


def bundle_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A bundle as it stands in a catalogue file, defaults filled in: from a file or from its row."""
    return {
        "code": doc["code"], "name": doc["name"], "audience": doc["audience"], "summary": doc["summary"],
        "life_events": list(dict.fromkeys(as_json(doc["life_events"]))), "on_failure": doc["on_failure"],
        "delivery": bool(doc["delivery"]), "status": doc.get("status", "active"),
        "members": [{k: m.get(k, default) for k, default in MEMBER_DEFAULTS.items()} for m in as_json(doc["members"])],
    }


async def upsert_bundles(entries: list[dict[str, Any]], now: datetime) -> tuple[int, int, int]:
    """Insert or update these validated bundles by code (others are left as they are); (added, changed, unchanged).
    Call inside the writing transaction: an import's, or one bundle saved by an administrator."""
    existing = {r["code"]: r for r in await Bundle.select()}
    added = changed = 0
    for entry in entries:
        wanted = bundle_document(entry)
        row = existing.get(entry["code"])
        if row is None:
            await Bundle.insert(Bundle(**wanted, updated_at=now))
            added += 1
        elif bundle_document(row) != wanted:
            await Bundle.update({**wanted, "updated_at": now}).where(Bundle.id == row["id"])
            changed += 1
    return added, changed, len(entries) - added - changed


async def _upsert_codes(table: Any, entries: list[dict[str, Any]], values: Any) -> dict[str, int]:
    existing = {r["code"]: r for r in await table.select()}
    for entry in entries:
        wanted = values(entry)
        row = existing.get(entry["code"])
        if row is None:
            await table.insert(table(code=entry["code"], **wanted))
        elif any((as_json(row[k]) if isinstance(v, list) else row[k]) != v for k, v in wanted.items()):
            await table.update(wanted).where(table.code == entry["code"])
    return {r["code"]: r["id"] for r in await table.select(table.id, table.code)}


async def reindex(items: list[tuple[int, str, str, str]]) -> None:
    """Replace the search postings of these items (id, name, summary, status); withdrawn ones get none.
    Call inside the writing transaction."""
    folds = folds_of([(normalize(s["term"]), normalize(s["alternative"]))
                      for s in await SearchSynonym.select(SearchSynonym.term, SearchSynonym.alternative)])
    for start in range(0, len(items), INDEX_BATCH):
        batch = items[start:start + INDEX_BATCH]
        await SearchGram.delete().where(SearchGram.item.is_in([i for i, _, _, _ in batch]))
        await executemany(
            "INSERT INTO search_gram (gram, item, sort_key) VALUES (?, ?, ?)",
            [(gram, item_id, key) for item_id, name, summary, status in batch if status == "published"
             for gram, key in item_grams(name, summary, folds)],
        )


async def reindex_all() -> None:
    """Every item again: the synonym folds changed. Call inside the writing transaction."""
    rows = await ServiceItem.select(ServiceItem.id, ServiceItem.name, ServiceItem.summary, ServiceItem.status)
    await reindex([(r["id"], r["name"], r["summary"], r["status"]) for r in rows])


async def replace_synonyms(pairs: list[tuple[str, str]]) -> bool:
    """Make the synonym table these pairs; say whether that changed it (then the caller re-posts every item)."""
    current = [(r["term"], r["alternative"])
               for r in await SearchSynonym.select().order_by(SearchSynonym.id)]
    if current == pairs:
        return False
    await SearchSynonym.delete(force=True)
    if pairs:
        await SearchSynonym.insert(*[SearchSynonym(term=a, alternative=b) for a, b in pairs])
    forget_synonyms()
    return True


async def export_catalogue() -> dict[str, Any]:
    departments_by_id = {d["id"]: d["code"] for d in await Department.select(Department.id, Department.code)}
    materials = await MaterialType.select().order_by(MaterialType.code)
    material_codes = {m["id"]: m["code"] for m in materials}
    certificates = await CertificateType.select().order_by(CertificateType.code)
    certificates_by_id = {c["id"]: c["code"] for c in certificates}
    events: dict[int, list[str]] = {}
    for e in await ServiceItemEvent.select(ServiceItemEvent.item, ServiceItemEvent.event):
        events.setdefault(e["item"], []).append(e["event"])
    items = [
        await item_document(row, departments_by_id, certificates_by_id, sorted(events.get(row["id"], [])))
        for row in await ServiceItem.select().order_by(ServiceItem.code)
    ]
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "material_types": [{"code": m["code"], "name": m["name"], "description": m["description"]} for m in materials],
        "certificate_types": [
            {"code": c["code"], "name": c["name"], "material": material_codes[c["material"]],
             "validity_years": c["validity_years"], "fields": as_json(c["fields"])} for c in certificates
        ],
        "synonyms": [{"term": s["term"], "alternative": s["alternative"]}
                     for s in await SearchSynonym.select().order_by(SearchSynonym.id)],
        "items": items,
        "bundles": [bundle_document(row) for row in await Bundle.select().order_by(Bundle.code)],
    }


@dataclass(frozen=True)
class Guide:
    item: dict[str, Any]
    department: dict[str, Any]
    certificate: dict[str, Any] | None
    material_names: dict[str, str]
    events: list[str]


GUIDE_TTL = 60.0  # seconds; an item's own change shows at once (its version and updated_at are checked)
_guides = TTLCache(GUIDE_TTL)


async def guide(code: str, *, include_withdrawn: bool = False) -> Guide:
    """The item with what its guide shows. A per-worker copy, checked against the item's row on every call
    (one small query instead of five); a department's or material type's renaming shows within GUIDE_TTL."""
    head = await read_one("SELECT id, status, version, updated_at FROM service_item WHERE code = {}", code)
    if head is None or (head["status"] != "published" and not include_withdrawn):
        raise NotFound()
    return await _guides.get((code, head["id"], head["version"], head["updated_at"], head["status"]),
                             lambda: _load_guide(code))


async def _load_guide(code: str) -> Guide:
    item = await ServiceItem.select().where(ServiceItem.code == code).first()
    if item is None:
        raise NotFound()
    for key in ("procedure", "materials", "situations", "form"):
        item[key] = as_json(item[key])
    department = await Department.select().where(Department.id == item["department"]).first()
    certificate = None
    if item["certificate_type"]:
        certificate = await CertificateType.select().where(CertificateType.id == item["certificate_type"]).first()
    types = await material_types({m["material"] for m in item["materials"]})
    names = {code: t["name"] for code, t in types.items()}
    events = await ServiceItemEvent.select(ServiceItemEvent.event).where(ServiceItemEvent.item == item["id"]).output(
        as_list=True)
    return Guide(item=item, department=department, certificate=certificate, material_names=names, events=events)


_material_types = TTLCache(GUIDE_TTL)


async def material_types(codes: set[str]) -> dict[str, dict[str, Any]]:
    """id, code and name of the material types with these codes (a per-worker copy for GUIDE_TTL)."""
    async def load() -> dict[str, dict[str, Any]]:
        rows = await MaterialType.select(MaterialType.id, MaterialType.code, MaterialType.name).where(
            MaterialType.code.is_in(list(codes) or [""]))
        return {r["code"]: r for r in rows}

    return await _material_types.get(frozenset(codes), load)


def material_list(item: dict[str, Any], answers: dict[str, str]) -> list[dict[str, Any]]:
    """The materials this applicant must bring: base ones, plus what their answers add, minus what they remove."""
    chosen = {m["key"] for m in item["materials"] if m["base"]}
    for situation in item["situations"]:
        answer = next((a for a in situation["answers"] if a["key"] == answers.get(situation["key"])), None)
        if answer is not None:
            chosen |= set(answer["add"])
            chosen -= set(answer["remove"])
    return [m for m in item["materials"] if m["key"] in chosen]


def load_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fp:
            return json.load(fp)
    except json.JSONDecodeError as exc:
        raise CatalogueErrors([f"(file) line {exc.lineno} column {exc.colno}: {exc.msg}"]) from None
