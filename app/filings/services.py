"""Filing rules: whose case it is, the draft, materials from the library (免提交) or uploaded, submission,
correction answers, and what officers and the public may see of a case."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from app.accounts.sessions import CurrentUser
from app.audit.services import record_alone
from app.audit.tables import DataAccess
from app.cache import TTLCache
from app.catalog.services import Guide, as_json, guide, material_list, material_types
from app.db import executemany, hold, read_one, read_small, unused_number, utcnow, write_tx
from app.errors import DomainError, FieldErrors, Forbidden, NotFound
from app.filings import workflow
from app.filings.forms import Holder, prefill, validate_form
from app.filings.storage import StoredFile
from app.filings.tables import Case, CaseMaterial, Material, ProxyConsent
from app.i18n import _
from app.lifelong.tables import EnterpriseMember
from app.registry.tables import Department, LegalEntity, Person

QUERY_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
PROXY_CONSENT_HOURS = 24


@dataclass
class MaterialSlot:
    """One material the applicant must (or may) provide, and what already stands for it."""

    key: str
    code: str
    name: str
    form: str
    required: bool
    note: str
    attached: dict[str, Any] | None = None  # a Material row
    reused: bool = False


@dataclass
class Filing:
    """Everything the apply page shows."""

    guide: Guide
    holder: Holder
    proxy: dict[str, Any] | None
    key: str
    draft: dict[str, Any] | None
    values: dict[str, str]
    sources: dict[str, str]
    answers: dict[str, str]
    materials: list[MaterialSlot] = field(default_factory=list)
    library: dict[int, dict[str, Any]] = field(default_factory=dict)  # the holder's valid materials by type

    @property
    def item(self) -> dict[str, Any]:
        return self.guide.item

    @property
    def holder_query(self) -> str:
        """The query string that brings the applicant back to this filing."""
        if self.proxy is not None:
            return f"?proxy={self.proxy['id']}"
        if self.holder.entity is not None:
            return f"?as={self.holder.entity['uscc']}"
        return ""


# --- whose filing ------------------------------------------------------------------------------------------------

async def _refuse_holder(user: CurrentUser, subject_type: str, key: str, ip: str, reason: str) -> None:
    await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type=subject_type,
                       subject_key=key[:64], ip=ip, reason=reason)


async def resolve_holder(user: CurrentUser, item: dict[str, Any], *, as_uscc: str = "", proxy_id: int = 0,
                         ip: str = "") -> tuple[Holder, dict[str, Any] | None]:
    """The page the case will belong to: the user's own, an enterprise they file for, or a resident who
    consented to a proxy agent. Anyone else's is refused, audited."""
    if proxy_id:
        if not user.is_officer or "proxy_agent" not in user.roles:
            await _refuse_holder(user, "proxy_consent", str(proxy_id), ip, "not a proxy agent")
            raise Forbidden()
        consent = await ProxyConsent.select().where(ProxyConsent.id == proxy_id, ProxyConsent.agent == user.id).first()
        if (consent is None or consent["confirmed_at"] is None or consent["used_at"] is not None
                or consent["created_at"] < utcnow() - timedelta(hours=PROXY_CONSENT_HOURS)):
            raise DomainError(_("The resident's consent is missing, used or expired. Please ask for it again."))
        if not item["audience_person"]:
            raise DomainError(_("A proxy agent files only for residents; this item is for enterprises."))
        person = await Person.select().where(Person.id == consent["person"]).first()
        return Holder(person=person), consent
    if user.is_officer:
        await _refuse_holder(user, "service_item", str(item.get("code", "")), ip,
                             "officers file only with a resident's consent")
        raise Forbidden()
    if as_uscc:
        if not item["audience_enterprise"]:
            raise DomainError(_("This item is for individuals, not enterprises."))
        entity = await LegalEntity.select(*LegalEntity.all_columns(),
                                          LegalEntity.legal_rep.name.as_alias("legal_rep_name")).where(
            LegalEntity.uscc == as_uscc.upper()[:18]).first()
        member = None
        if entity is not None:
            member = await EnterpriseMember.select().where(
                EnterpriseMember.entity == entity["id"], EnterpriseMember.user == user.id,
                EnterpriseMember.revoked_at.is_null()).first()
        if (member is None or (member["expires_on"] is not None and member["expires_on"] < workflow.local_today())
                or (member["role"] != "legal_rep" and member["scope"] not in workflow.AGENT_FILING_SCOPES)):
            await _refuse_holder(user, "enterprise", as_uscc, ip, "may not file for this enterprise")
            raise NotFound()
        return Holder(entity=entity), None
    if not item["audience_person"]:
        raise DomainError(_("This item is for enterprises: choose the enterprise you file for."))
    if user.person_id is None:
        raise DomainError(_("Please activate your personal page before filing."))
    return Holder(person=(await read_small("SELECT * FROM person WHERE id = {}", user.person_id))[0]), None


# The apply page's reads are written out and go through read_small: Piccolo's query builder cost more than the
# database on this path, which every filing takes twice (the page, then the submission).
def _holder_sql(holder: Holder) -> tuple[str, int]:
    """The holder's column (on cases and materials alike) and its value."""
    if holder.entity is not None:
        return "holder_entity", holder.entity["id"]
    return "holder_person", holder.person["id"]


async def find_draft(user: CurrentUser, item_id: int, holder: Holder) -> dict[str, Any] | None:
    column, value = _holder_sql(holder)
    return await read_one(
        f"SELECT * FROM filing_case WHERE applicant = {{}} AND item = {{}} AND state = 'draft' AND {column} = {{}} "  # noqa: S608 - our own column name
        "ORDER BY id DESC LIMIT 1", user.id, item_id, value)


async def last_form(item_id: int, holder: Holder) -> dict[str, str] | None:
    """The holder's last filing of the same item (not a draft): its answers prefill the new form."""
    column, value = _holder_sql(holder)
    row = await read_one(
        f"SELECT form_data FROM filing_case WHERE item = {{}} AND state <> 'draft' AND {column} = {{}} "  # noqa: S608 - our own column name
        "ORDER BY id DESC LIMIT 1", item_id, value)
    return as_json(row["form_data"]) if row else None


# --- materials --------------------------------------------------------------------------------------------------

async def _material_type_ids(item: dict[str, Any]) -> dict[str, int]:
    """The material type id behind each of the item's material keys."""
    types = await material_types({m["material"] for m in item["materials"]})
    return {m["key"]: types[m["material"]]["id"] for m in item["materials"] if m["material"] in types}


async def library_for(holder: Holder, type_ids: list[int], today: date) -> dict[int, dict[str, Any]]:
    """The holder's newest valid material of each type (their library), to attach without an upload."""
    column, value = _holder_sql(holder)
    types = ", ".join(str(int(t)) for t in type_ids) or "0"
    rows = await read_small(
        f"SELECT * FROM material WHERE {column} = {{}} AND material_type IN ({types}) AND deleted_at IS NULL "  # noqa: S608 - our own column name, integers
        "ORDER BY id DESC", value)
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["valid_until"] is not None and row["valid_until"] < today:
            continue
        found.setdefault(row["material_type"], row)
    return found


async def material_slots(item: dict[str, Any], answers: dict[str, str], holder: Holder, case_id: int | None,
                         library: dict[int, dict[str, Any]] | None = None) -> list[MaterialSlot]:
    """The materials this filing needs, each with what is attached: the case's own, else the library's."""
    chosen = material_list(item, answers)
    types = await material_types({m["material"] for m in chosen})
    attached: dict[str, dict[str, Any]] = {}
    if case_id is not None:
        for row in await read_small('SELECT cm.key AS case_key, cm.reused AS case_reused, m.* FROM case_material cm '
                                    'JOIN material m ON m.id = cm.material WHERE cm."case" = {}', case_id):
            attached[row.pop("case_key")] = row
    if library is None:
        library = await library_for(holder, [t["id"] for t in types.values()], workflow.local_today())
    slots = []
    for m in chosen:
        mtype = types.get(m["material"])
        slot = MaterialSlot(key=m["key"], code=m["material"], name=mtype["name"] if mtype else m["material"],
                            form=m["form"], required=m["required"], note=m.get("note", ""))
        if m["key"] in attached:
            row = attached[m["key"]]
            slot.reused = bool(row.pop("case_reused"))
            slot.attached = row
        elif mtype and mtype["id"] in library:
            slot.attached, slot.reused = library[mtype["id"]], True
        slots.append(slot)
    return slots


# --- the apply page --------------------------------------------------------------------------------------------

async def filing(user: CurrentUser, code: str, *, as_uscc: str = "", proxy_id: int = 0,
                 answers: dict[str, str] | None = None, ip: str = "") -> Filing:
    g = await guide(code)
    holder, consent = await resolve_holder(user, g.item, as_uscc=as_uscc, proxy_id=proxy_id, ip=ip)
    draft = await find_draft(user, g.item["id"], holder)
    registry_values, sources = prefill(g.item["form"], holder, await last_form(g.item["id"], holder))
    if draft is not None:
        values = as_json(draft["form_data"])
        sources = {k: v for k, v in sources.items() if values.get(k) == registry_values.get(k)}
        answers = answers if answers is not None else as_json(draft["answers"])
    else:
        values = registry_values
    answers = answers or {}
    filing_ = Filing(guide=g, holder=holder, proxy=consent, key=draft["idempotency_key"] if draft else new_key(),
                     draft=draft, values=values, sources=sources, answers=answers)
    type_ids = [t["id"] for t in (await material_types({m["material"] for m in g.item["materials"]})).values()]
    filing_.library = await library_for(holder, type_ids, workflow.local_today())
    filing_.materials = await material_slots(g.item, answers, holder, draft["id"] if draft else None,
                                             filing_.library)
    return filing_


def new_key() -> str:
    return secrets.token_urlsafe(32)


def new_case_no(today: date) -> str:
    return f"{today:%Y%m%d}{secrets.randbelow(10 ** 8):08d}"


async def unused_case_no(today: date) -> str:
    """The day and eight random digits, not yet in use (inside the write transaction that inserts the case)."""
    return await unused_number("filing_case", "case_no", lambda: new_case_no(today))


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(6))


_halls = TTLCache(60.0)


async def hall_for(department_id: int) -> int:
    """The service hall whose front desk accepts the department's items: the department itself if it is a
    hall, else the hall of its region and level, else the nearest one up the tree (a per-worker copy)."""
    return await _halls.get(department_id, lambda: _find_hall(department_id))


async def _find_hall(department_id: int) -> int:
    current = await Department.select().where(Department.id == department_id).first()
    while current is not None:
        if current["kind"] == "hall":
            return int(current["id"])
        hall = await Department.select(Department.id).where(
            Department.kind == "hall", Department.level == current["level"],
            Department.region_code == current["region_code"]).first()
        if hall is not None:
            return int(hall["id"])
        current = await Department.select().where(Department.id == current["parent"]).first() \
            if current["parent"] else None
    return department_id


@dataclass(frozen=True)
class Upload:
    key: str
    stored: StoredFile
    valid_until: date | None


async def save_filing(f: Filing, user: CurrentUser, form: dict[str, str], answers: dict[str, str],
                      uploads: list[Upload], key: str) -> dict[str, Any]:
    """Create or update the draft with what was typed and uploaded (one transaction); return the case row.

    The idempotency key comes from the form: a second post of a submitted form finds the submitted case."""
    item = f.item
    known = {fld["key"] for fld in item["form"]}
    data = {k: v[:5000] for k, v in form.items() if k in known}
    situations = {s["key"]: {a["key"] for a in s["answers"]} for s in item["situations"]}
    answers = {k: v for k, v in answers.items() if v in situations.get(k, set())}
    material_type = await _material_type_ids(item)
    now = utcnow()
    async with write_tx():  # the key is looked up inside: a double click's second post waits, then finds it
        await hold(f"filing_case.idempotency_key={key[:43]}")
        existing = await read_one("SELECT * FROM filing_case WHERE idempotency_key = {}", key[:43])
        if existing is not None:
            if existing["applicant"] != user.id:
                raise Forbidden()
            if existing["state"] != "draft":
                return existing
        if existing is None:
            department = item["department"]
            case_id = (await Case.insert(Case(
                case_no=await unused_case_no(workflow.local_today()), query_code=new_query_code(),
                idempotency_key=key[:43],
                item=item["id"], item_version=item["version"], department=department,
                hall=await hall_for(department), applicant=user.id,
                holder_person=f.holder.person["id"] if f.holder.person else None,
                holder_entity=f.holder.entity["id"] if f.holder.entity else None,
                proxy_consent=f.proxy["id"] if f.proxy else None, state="draft", form_data=data, answers=answers,
                limit_days=item["promised_limit_days"], created_at=now, updated_at=now,
            )).returning(Case.id))[0]["id"]
        else:
            case_id = existing["id"]
            await Case.update({Case.form_data: data, Case.answers: answers, Case.updated_at: now}).where(
                Case.id == case_id, Case.state == "draft")
        for up in uploads:
            await _attach_upload(case_id, f.holder, user, up, material_type[up.key], now)
    return (await read_small("SELECT * FROM filing_case WHERE id = {}", case_id))[0]


async def add_to_library(holder: Holder, user: CurrentUser, up: Upload, type_id: int, now: Any) -> int:
    """The upload as a material of the holder's library; its id."""
    return int((await Material.insert(Material(
        holder_person=holder.person["id"] if holder.person else None,
        holder_entity=holder.entity["id"] if holder.entity else None,
        material_type=type_id, sha256=up.stored.sha256, size=up.stored.size, content_type=up.stored.content_type,
        filename=up.stored.filename, valid_until=up.valid_until, uploaded_by=user.id, created_at=now,
    )).returning(Material.id))[0]["id"])


async def _attach_upload(case_id: int, holder: Holder, user: CurrentUser, up: Upload, type_id: int,
                         now: Any) -> None:
    """The upload joins the holder's library and the case (replacing what the case had for that material)."""
    material_id = await add_to_library(holder, user, up, type_id, now)
    await CaseMaterial.delete().where(CaseMaterial.case == case_id, CaseMaterial.key == up.key)
    await CaseMaterial.insert(CaseMaterial(case=case_id, key=up.key, material=material_id, reused=False,
                                           created_at=now))


async def attach_uploads(case: dict[str, Any], user: CurrentUser, uploads: list[Upload]) -> None:
    """Materials uploaded for a correction join the library and the case (one transaction)."""
    if not uploads:
        return
    g = await guide_by_id(case["item"])
    material_type = await _material_type_ids(g.item)
    holder = Holder(person={"id": case["holder_person"]} if case["holder_person"] else None,
                    entity={"id": case["holder_entity"]} if case["holder_entity"] else None)
    now = utcnow()
    async with write_tx():
        for up in uploads:
            await _attach_upload(case["id"], holder, user, up, material_type[up.key], now)


def check_complete(f: Filing, form: dict[str, str]) -> dict[str, str]:
    """Every problem that stops a submission: fields, and required materials neither attached nor held."""
    errors = validate_form(f.item["form"], form)[1]
    missing = [slot for slot in f.materials if slot.required and slot.attached is None]
    for slot in missing:
        errors[f"file_{slot.key}"] = _("Please upload %(name)s.", name=slot.name)
    if missing:
        errors["materials"] = _("These materials are missing: %(names)s.", names="、".join(s.name for s in missing))
    return errors


async def submit_filing(f: Filing, case: dict[str, Any], user: CurrentUser, *, ip: str) -> dict[str, Any]:
    """Attach the library's materials the applicant did not upload again, and submit (one transaction each)."""
    async with write_tx():
        await attach_reused(case["id"], f.materials)
    return await workflow.submit_case(case, user, ip=ip)


async def attach_reused(case_id: int, slots: list[MaterialSlot]) -> None:
    """The slots the holder's library fills (免提交) become the case's own materials, marked as reused."""
    reuse = [slot for slot in slots if slot.reused and slot.attached is not None]
    if not reuse:
        return
    now = utcnow()
    # Written out (every submission makes them): the slots' keys are the item's own material keys.
    await CaseMaterial.delete().where(CaseMaterial.case == case_id, CaseMaterial.key.is_in([s.key for s in reuse]))
    await executemany('INSERT INTO case_material ("case", "key", material, reused, created_at) VALUES (?, ?, ?, ?, ?)',
                      [(case_id, slot.key, slot.attached["id"], True, now) for slot in reuse])


# --- reading a case -------------------------------------------------------------------------------------------

async def case_detail(case: dict[str, Any]) -> dict[str, Any]:
    """What the case pages show: the item, the holder, the steps with who and where, the materials, the clock."""
    g = await guide_by_id(case["item"])
    # Written out through read_small, as the apply page's reads are: every case page view makes them.
    steps = await read_small(
        "SELECT s.action, s.from_state, s.to_state, s.opinion, s.days_used, s.created_at, "
        "u.display_name AS actor_name, u.kind AS actor_kind, d.name AS department_name FROM case_step s "
        "LEFT JOIN app_user u ON u.id = s.actor LEFT JOIN department d ON d.id = s.department "
        'WHERE s."case" = {} ORDER BY s.id', case["id"])
    materials = await read_small(
        "SELECT cm.id, cm.key, cm.reused, m.filename, m.size, t.name AS type_name, m.content_type "
        "FROM case_material cm LEFT JOIN material m ON m.id = cm.material "
        'LEFT JOIN material_type t ON t.id = m.material_type WHERE cm."case" = {} ORDER BY cm.id', case["id"])
    holder = Holder(
        person=await read_one("SELECT * FROM person WHERE id = {}", case["holder_person"])
        if case["holder_person"] else None,
        entity=await read_one("SELECT * FROM legal_entity WHERE id = {}", case["holder_entity"])
        if case["holder_entity"] else None,
    )
    hall = await _department_names.get(case["hall"], lambda: _department_name(case["hall"]))
    cal = await workflow.load_calendar()
    from app.bundles.tables import BundleCase  # bundles and certificates build on filings
    from app.certificates.services import for_case

    return {
        "case": case, "item": g.item, "department": g.department, "material_names": g.material_names,
        "hall": hall,
        "holder": holder, "steps": steps, "materials": materials,
        "form": as_json(case["form_data"]), "correction": as_json(case["correction"]),
        "clock": workflow.clock_view(case, cal, workflow.local_today()),
        "proxy": case["proxy_consent"] is not None,
        "certificates": await for_case(case["id"]) if case["state"] == "approved" else [],
        "bundle": await BundleCase.select(BundleCase.bundle_no, BundleCase.bundle.name.as_alias("name")).where(
            BundleCase.id == case["bundle_case"]).first() if case["bundle_case"] else None,
    }


# Per-worker copies for every case page view: an item's code never changes, a department's name seldom does.
_item_codes = TTLCache(300.0)
_department_names = TTLCache(300.0)


async def _item_code(item_id: int) -> str | None:
    row = await read_one("SELECT code FROM service_item WHERE id = {}", item_id)
    return row["code"] if row else None


async def _department_name(department_id: int) -> str:
    row = await read_one("SELECT name FROM department WHERE id = {}", department_id)
    return row["name"] if row else ""


async def guide_by_id(item_id: int) -> Guide:
    code = await _item_codes.get(item_id, lambda: _item_code(item_id))
    if code is None:
        raise NotFound()
    return await guide(code, include_withdrawn=True)


async def _refuse_case(user: CurrentUser, case_no: str, ip: str, reason: str) -> None:
    await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type="case",
                       subject_key=case_no[:20], ip=ip, reason=reason)


async def applicant_case(user: CurrentUser, case_no: str, *, ip: str) -> dict[str, Any]:
    case = await workflow.load_case(case_no)
    if not await workflow.may_act_for_holder(user, case):
        await _refuse_case(user, case_no, ip, "not the holder")
        raise NotFound()
    return case


def officer_may_see(user: CurrentUser, case: dict[str, Any]) -> bool:
    """The case's hall front desk, the item's department, and the hall's supervisors."""
    if not user.is_officer:
        return False
    if user.department_id == case["hall"] and user.roles & {"clerk", "supervisor"}:
        return True
    return user.department_id == case["department"] and bool(user.roles & {"reviewer", "approver", "supervisor"})


async def officer_case(user: CurrentUser, case_no: str, *, ip: str) -> dict[str, Any]:
    case = await workflow.load_case(case_no)
    if not officer_may_see(user, case):
        await _refuse_case(user, case_no, ip, "other department")
        raise Forbidden()
    return case


async def log_access(user: CurrentUser, case: dict[str, Any], what: str, reason: str) -> None:
    """An officer looked at the holder's data: it goes on the holder's access log."""
    async with write_tx():
        await DataAccess.insert(DataAccess(
            created_at=utcnow(), holder_person=case["holder_person"], holder_entity=case["holder_entity"],
            officer_id=user.id, department_id=user.department_id, case_no=case["case_no"], what=what[:120],
            reason=reason[:60]))


async def case_material(case: dict[str, Any], material_id: int) -> dict[str, Any]:
    row = await CaseMaterial.select(
        CaseMaterial.id, CaseMaterial.material.sha256.as_alias("sha256"),
        CaseMaterial.material.content_type.as_alias("content_type"),
        CaseMaterial.material.filename.as_alias("filename"), CaseMaterial.material.size.as_alias("size"),
        CaseMaterial.material.material_type.name.as_alias("type_name"),
    ).where(CaseMaterial.id == material_id, CaseMaterial.case == case["id"]).first()
    if row is None:
        raise NotFound()
    return row


async def cases_of(user: CurrentUser, state: str = "", limit: int = 50) -> list[dict[str, Any]]:
    """The user's cases: those on their page, and those they filed (for an enterprise too)."""
    query = Case.select(Case.case_no, Case.state, Case.submitted_at, Case.due_on, Case.limit_days,
                        Case.clock_started_on, Case.paused_since, Case.paused_days, Case.days_used,
                        Case.item.name.as_alias("item_name"), Case.department.short_name.as_alias("department_name"),
                        Case.holder_entity.name.as_alias("entity_name"))
    owner = Case.applicant == user.id
    if user.person_id is not None:
        owner = owner | (Case.holder_person == user.person_id)
    query = query.where(owner, Case.state != "draft")
    if state in workflow.STATES:
        query = query.where(Case.state == state)
    rows = await query.order_by(Case.id, ascending=False).limit(limit)
    cal = await workflow.load_calendar()
    today = workflow.local_today()
    return [{**r, "clock": workflow.clock_view(r, cal, today)} for r in rows]


async def drafts_of(user: CurrentUser) -> list[dict[str, Any]]:
    return await Case.select(Case.updated_at, Case.item.code.as_alias("code"), Case.item.name.as_alias("item_name"),
                             Case.holder_entity.uscc.as_alias("uscc")).where(
        Case.applicant == user.id, Case.state == "draft", Case.proxy_consent.is_null()).order_by(
        Case.updated_at, ascending=False)


def correction_errors(case: dict[str, Any], form: dict[str, str], item: dict[str, Any],
                      uploaded: set[str]) -> FieldErrors:
    """A resubmission must bring every material the correction named and valid fields."""
    errors = FieldErrors()
    correction = as_json(case["correction"])
    names = {m["key"]: m["material"] for m in item["materials"]}
    for key in correction.get("materials", []):
        if key not in uploaded:
            errors.add(f"file_{key}", _("Please upload the corrected material."))
    for k, v in validate_form(item["form"], form)[1].items():
        errors.add(k, v)
    if errors.errors and names:
        errors.add("", _("Please correct what the front desk listed."))
    return errors
