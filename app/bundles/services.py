"""Bundle rules: the merged form and materials, submission (one parent, one child per member, one transaction),
members starting when what they wait for is approved, the bundle's failure rule, the parent's derived state,
the enterprise or child a member registers, and the days a bundle saves."""

from __future__ import annotations

import contextlib
import random
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.accounts.sessions import CurrentUser, current_user_by_id
from app.audit.services import record, record_alone
from app.bundles.payment import payment_adapter
from app.bundles.tables import Bundle, BundleCase, Payment
from app.catalog.schema import ancestors
from app.catalog.services import Guide, as_json, guide, material_list, material_types
from app.catalog.tables import MaterialType
from app.certificates.tables import Certificate
from app.db import hold, unused_number, utcnow, write_tx
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.filings import services as filings
from app.filings import workflow
from app.filings.forms import prefill, validate_form
from app.filings.tables import Case, CaseMaterial, Material
from app.i18n import _
from app.lifelong.tables import EnterpriseMember
from app.notify.services import notify
from app.registry import generator as gen
from app.registry.tables import GuardianLink, LegalEntity, Person
from app.workdays.calendar import load_calendar

DELIVERY = ("window", "express")
CLOSED_WITHOUT_APPROVAL = ("denied", "rejected", "withdrawn", "cancelled")


# --- the bundle as the one form shows it ----------------------------------------------------------------------

@dataclass
class Member:
    guide: Guide
    after: list[str]
    fee: int
    registers: str | None

    @property
    def code(self) -> str:
        return str(self.guide.item["code"])

    @property
    def item(self) -> dict[str, Any]:
        return self.guide.item


@dataclass
class Slot:
    """One material of the merged list: asked once however many members need it."""

    code: str
    name: str
    form: str
    required: bool
    members: list[str]  # names of the member items that need it
    provided_by: str = ""  # a member whose certificate it is: attached when that member is approved
    attached: dict[str, Any] | None = None  # from the holder's library (免提交)

    @property
    def key(self) -> str:
        return self.code.lower()


@dataclass
class BundleFiling:
    bundle: dict[str, Any]
    members: list[Member]
    holder: filings.Holder
    key: str
    form: list[dict[str, Any]]
    situations: list[dict[str, Any]]
    values: dict[str, str]
    sources: dict[str, str]
    answers: dict[str, str]
    slots: list[Slot] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # member items no longer offered

    @property
    def fee_total(self) -> int:
        return sum(m.fee for m in self.members)



def planned_days(members: list[Member]) -> tuple[int, int]:
    """Promised working days one after another, and along the bundle's longest chain."""
    days = {m.code: int(m.item["promised_limit_days"]) for m in members}
    return sum(days.values()), critical_path(days, {m.code: m.after for m in members})


def critical_path(days: dict[str, int], after: dict[str, list[str]]) -> int:
    """The longest chain of working days through the dependency graph (acyclic: the import refuses cycles)."""
    finish: dict[str, int] = {}

    def end(code: str) -> int:
        if code not in finish:
            finish[code] = days[code] + max((end(a) for a in after.get(code, []) if a in days), default=0)
        return finish[code]

    return max((end(c) for c in days), default=0)


def topological(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    pending = list(members)
    while pending:
        ready = [m for m in pending if all(a in {d["item"] for d in done} for a in m.get("after", []))]
        if not ready:  # a cycle: refused at import, so only a hand-edited database gets here
            raise DomainError(_("This bundle's order of items is broken. Please contact the service hall."))
        done.extend(ready)
        pending = [m for m in pending if m not in ready]
    return done


async def load_bundle(code: str) -> dict[str, Any]:
    row = await Bundle.select().where(Bundle.code == code[:40]).first()
    if row is None or row["status"] != "active":
        raise NotFound()
    row["members"] = topological(as_json(row["members"]))
    row["life_events"] = as_json(row["life_events"])
    return row


async def members_of(bundle: dict[str, Any]) -> tuple[list[Member], list[str]]:
    """The member items' guides, and the names of those withdrawn from the catalogue."""
    members, unavailable = [], []
    for m in bundle["members"]:
        g = await guide(m["item"], include_withdrawn=True)
        if g.item["status"] != "published":
            unavailable.append(g.item["name"])
        members.append(Member(guide=g, after=list(m.get("after", [])), fee=int(m.get("fee", 0)),
                              registers=m.get("registers")))
    return members, unavailable


def deferred_keys(members: list[Member]) -> set[str]:
    """Fields about an enterprise the bundle itself registers (its credit code …): asked of no one, filled from
    the registry when the members that need them start."""
    registrar = next((m.code for m in members if m.registers == "enterprise"), None)
    if registrar is None:
        return set()
    after = {m.code: m.after for m in members}
    keys: dict[str, bool] = {}
    for m in members:
        for fld in m.item["form"]:
            later = registrar in ancestors(m.code, after) and (fld.get("prefill") or "").startswith("entity.")
            keys[fld["key"]] = keys.get(fld["key"], True) and later
    return {k for k, later in keys.items() if later}


def merged_form(members: list[Member]) -> list[dict[str, Any]]:
    """Every member's fields, each key once (the import refuses a key two members define differently)."""
    seen: dict[str, dict[str, Any]] = {}
    deferred = deferred_keys(members)
    for m in members:
        for fld in m.item["form"]:
            if fld["key"] in deferred:
                continue
            if fld["key"] not in seen:
                seen[fld["key"]] = {**fld, "members": [m.item["name"]], "item_code": m.code}
            else:
                seen[fld["key"]]["members"].append(m.item["name"])
                seen[fld["key"]]["required"] = seen[fld["key"]]["required"] or fld["required"]
    return list(seen.values())


def merged_situations(members: list[Member]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for m in members:
        for situation in m.item["situations"]:
            seen.setdefault(situation["key"], situation)
    return list(seen.values())


async def merged_slots(members: list[Member], answers: dict[str, str], holder: filings.Holder) -> list[Slot]:
    """The union of the members' materials by type. One that a member's certificate provides to every member
    needing it (through the order of items) is not asked for: it is attached when that member is approved."""
    after = {m.code: m.after for m in members}
    issuers = {m.guide.certificate["material"]: m.code for m in members if m.guide.certificate is not None}
    codes = await MaterialType.select(MaterialType.id, MaterialType.code).where(
        MaterialType.id.is_in(list(issuers) or [0]))
    provides = {r["code"]: issuers[r["id"]] for r in codes}  # material code → the member whose certificate it is
    slots: dict[str, Slot] = {}
    needers: dict[str, list[str]] = {}
    for m in members:
        for mat in material_list(m.item, answers):
            code = mat["material"]
            needers.setdefault(code, []).append(m.code)
            slot = slots.get(code)
            if slot is None:
                slots[code] = Slot(code=code, name=m.guide.material_names.get(code, code), form=mat["form"],
                                   required=mat["required"], members=[m.item["name"]])
            else:
                slot.members.append(m.item["name"])
                slot.required = slot.required or mat["required"]
    names = {m.code: m.item["name"] for m in members}
    for code, slot in slots.items():
        source = provides.get(code)
        if source and all(source in ancestors(n, after) for n in needers[code]):
            slot.provided_by = names[source]
    types = await material_types(set(slots))
    library = await filings.library_for(holder, [t["id"] for t in types.values()], workflow.local_today())
    for code, slot in slots.items():
        if code in types and types[code]["id"] in library and not slot.provided_by:
            slot.attached = library[types[code]["id"]]
    return list(slots.values())


async def _holder(user: CurrentUser, bundle: dict[str, Any], as_uscc: str, ip: str) -> filings.Holder:
    audience = {"code": bundle["code"], "audience_person": bundle["audience"] == "person",
                "audience_enterprise": bundle["audience"] == "enterprise"}
    holder, _consent = await filings.resolve_holder(user, audience, as_uscc=as_uscc if audience[
        "audience_enterprise"] else "", ip=ip)
    return holder


async def bundle_filing(user: CurrentUser, code: str, *, as_uscc: str = "",
                        answers: dict[str, str] | None = None, ip: str = "") -> BundleFiling:
    bundle = await load_bundle(code)
    members, unavailable = await members_of(bundle)
    holder = await _holder(user, bundle, as_uscc, ip)
    form = merged_form(members)
    values, sources = prefill(form, holder, None)
    situations = merged_situations(members)
    answers = {k: v for k, v in (answers or {}).items()
               if any(k == s["key"] and v in {a["key"] for a in s["answers"]} for s in situations)}
    f = BundleFiling(bundle=bundle, members=members, holder=holder, key=filings.new_key(), form=form,
                     situations=situations, values=values, sources=sources, answers=answers,
                     unavailable=unavailable)
    f.slots = await merged_slots(members, answers, holder)
    return f


# --- submission --------------------------------------------------------------------------------------------------

def check_bundle(f: BundleFiling, fields: dict[str, str], conflicts: set[str], uploaded: set[str],
                 delivery: str, address: str) -> tuple[dict[str, str], dict[str, str]]:
    """(cleaned values, errors by field): every problem at once."""
    cleaned, errors = validate_form(f.form, fields)
    for key in conflicts:
        errors[key] = _("This fact was given twice with different values. Please give it once.")
    for slot in f.slots:
        if slot.required and not slot.provided_by and slot.attached is None and slot.key not in uploaded:
            errors[f"file_{slot.key}"] = _("Please upload %(name)s.", name=slot.name)
    if f.bundle["delivery"]:
        if delivery not in DELIVERY:
            errors["delivery"] = _("Please choose how you receive the certificates.")
        elif delivery == "express" and not address.strip():
            errors["delivery_address"] = _("Please give the address for the express delivery.")
        elif len(address) > 200:
            errors["delivery_address"] = _("The address can be at most 200 characters.")
    if f.unavailable:
        errors[""] = _("%(names)s can no longer be applied for, so this bundle cannot be filed now.",
                       names="、".join(f.unavailable))
    return cleaned, errors


def _new_bundle_no(today: date) -> str:
    return f"B{today:%Y%m%d}{secrets.randbelow(10**11):011d}"


async def submit_bundle(f: BundleFiling, user: CurrentUser, cleaned: dict[str, str], uploads: list[filings.Upload],
                        key: str, delivery: str, address: str, *, ip: str) -> dict[str, Any]:
    """One transaction: the parent, the payment, the uploads in the library, one child per member with its
    materials; the members that wait for nothing are submitted at once. A second post of the same form finds
    the first parent."""
    today = workflow.local_today()
    now = utcnow()
    types = await material_types({s.code for s in f.slots})
    uploaded = {u.key: u for u in uploads}
    async with write_tx():
        await hold(f"bundle_case.idempotency_key={key[:43]}")
        existing = await BundleCase.select().where(BundleCase.idempotency_key == key[:43]).first()
        if existing is not None:
            if existing["applicant"] != user.id:
                raise Forbidden()
            return existing
        parent = (await BundleCase.insert(BundleCase(
            bundle_no=await unused_number("bundle_case", "bundle_no", lambda: _new_bundle_no(today)),
            query_code=filings.new_query_code(), idempotency_key=key[:43],
            bundle=f.bundle["id"], applicant=user.id,
            holder_person=f.holder.person["id"] if f.holder.person else None,
            holder_entity=f.holder.entity["id"] if f.holder.entity else None, state="in_progress",
            form_data=cleaned, answers=f.answers, fee_total=f.fee_total,
            delivery=delivery if f.bundle["delivery"] else "", delivery_address=address.strip()[:200]
            if delivery == "express" else "", created_at=now, updated_at=now,
        )).returning(*BundleCase.all_columns()))[0]
        if f.fee_total:
            paid = payment_adapter().charge(f.fee_total, f"{parent['bundle_no']}-1")
            await Payment.insert(Payment(bundle_case=parent["id"], adapter=paid.adapter, amount=f.fee_total,
                                         reference=paid.reference, status=paid.status, created_at=now))
            if paid.status != "paid":
                raise DomainError(_("The payment did not go through. Nothing was filed; please try again."))
        materials: dict[str, tuple[int, bool]] = {}  # material code → (Material id, reused)
        for slot in f.slots:
            up = uploaded.get(slot.key)
            if up is not None:
                materials[slot.code] = (await filings.add_to_library(f.holder, user, up, types[slot.code]["id"],
                                                                     now), False)
            elif slot.attached is not None:
                materials[slot.code] = (slot.attached["id"], True)
        children = []
        for m in f.members:
            department = m.item["department"]
            child = (await Case.insert(Case(
                case_no=await filings.unused_case_no(today), query_code=filings.new_query_code(),
                idempotency_key=f"{key[:30]}-{m.item['id']}", item=m.item["id"], item_version=m.item["version"],
                department=department, hall=await filings.hall_for(department), applicant=user.id,
                holder_person=f.holder.person["id"] if f.holder.person else None,
                holder_entity=f.holder.entity["id"] if f.holder.entity else None, bundle_case=parent["id"],
                state="waiting" if m.after else "draft",
                form_data={fld["key"]: cleaned.get(fld["key"], "") for fld in m.item["form"]},
                answers={s["key"]: f.answers[s["key"]] for s in m.item["situations"] if s["key"] in f.answers},
                limit_days=m.item["promised_limit_days"], created_at=now, updated_at=now,
            )).returning(*Case.all_columns()))[0]
            rows = [CaseMaterial(case=child["id"], key=mat["key"], material=materials[mat["material"]][0],
                                 reused=materials[mat["material"]][1], created_at=now)
                    for mat in material_list(m.item, f.answers) if mat["material"] in materials]
            if rows:
                await CaseMaterial.insert(*rows)
            children.append(child)
        await record("bundle.submit", actor_id=user.id, subject_type="bundle_case", subject_key=parent["bundle_no"],
                     ip=ip, bundle=f.bundle["code"], fee=f.fee_total)
        for child in children:
            if child["state"] == "draft":
                await workflow.submit_case(child, user, ip=ip)
    return parent


# --- members moving on ---------------------------------------------------------------------------------------------

async def _bundle_of(bundle_case_id: int) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    parent = await BundleCase.select().where(BundleCase.id == bundle_case_id).first()
    bundle = await Bundle.select().where(Bundle.id == parent["bundle"]).first()
    bundle["members"] = as_json(bundle["members"])
    children = await Case.select(*Case.all_columns(), Case.item.code.as_alias("item_code"),
                                 Case.item.name.as_alias("item_name")).where(
        Case.bundle_case == bundle_case_id).order_by(Case.id)
    return parent, bundle, children


async def register_on_approval(case: dict[str, Any], today: date) -> dict[str, Any]:
    """Inside the approval's transaction: the member that registers an enterprise or a child creates it, and the
    bundle's cases (with what they issued) move to its page. Returns the case with its new holder."""
    parent, bundle, children = await _bundle_of(case["bundle_case"])
    code = next((c["item_code"] for c in children if c["id"] == case["id"]), "")
    member = next((m for m in bundle["members"] if m["item"] == code), None)
    if member is None or not member.get("registers"):
        return case
    form = as_json(case["form_data"])
    person = await Person.select().where(Person.id == parent["holder_person"]).first()
    rng = random.SystemRandom()
    ids = [c["id"] for c in children]
    if member["registers"] == "enterprise":
        entity_id = await _register_enterprise(form, person, parent["applicant"], rng, today)
        holder = {Case.holder_entity: entity_id, Case.holder_person: None}
        name = (await LegalEntity.select(LegalEntity.name).where(LegalEntity.id == entity_id).first())["name"]
        await BundleCase.update({BundleCase.holder_entity: entity_id}).where(BundleCase.id == parent["id"])
        await Certificate.update({Certificate.holder_entity: entity_id, Certificate.holder_person: None,
                                  Certificate.holder_name: name}).where(Certificate.case.is_in(ids))
        moved = {Material.holder_entity: entity_id, Material.holder_person: None}
        new_holder = {"holder_entity": entity_id, "holder_person": None}
    else:
        child_id, name = await _register_child(form, person, rng)
        holder = {Case.holder_person: child_id}
        await Certificate.update({Certificate.holder_person: child_id, Certificate.holder_name: name}).where(
            Certificate.case.is_in(ids))
        moved = {Material.holder_person: child_id}
        new_holder = {"holder_person": child_id}
    await Case.update(holder).where(Case.bundle_case == parent["id"])
    issued = await Certificate.select(Certificate.material).where(Certificate.case.is_in(ids),
                                                                  Certificate.material.is_not_null())
    if issued:
        await Material.update(moved).where(Material.id.is_in([r["material"] for r in issued]))
    return {**case, **new_holder}


async def _register_enterprise(form: dict[str, str], legal_rep: dict[str, Any], applicant: int, rng: random.Random,
                               today: date) -> int:
    region = legal_rep["region_code"]
    while await LegalEntity.exists().where(LegalEntity.uscc == (uscc := gen.uscc(rng, region[:4] + "00"))):
        pass
    capital = form.get("registered_capital", "") or "0"
    entity = (await LegalEntity.insert(LegalEntity(
        uscc=uscc, name=form.get("company_name", "")[:100], entity_type=form.get("entity_type", "")[:40],
        legal_rep=legal_rep["id"], address=form.get("company_address", "")[:200],
        industry=form.get("industry", "")[:40], registered_capital=int(float(capital) * 10_000),
        established_on=today, region_code=region,
    )).returning(LegalEntity.id))[0]["id"]
    await EnterpriseMember.insert(EnterpriseMember(entity=entity, user=applicant, role="legal_rep",
                                                   created_at=utcnow()))
    await record("enterprise.registered", actor_id=applicant, subject_type="enterprise", subject_key=uscc)
    return int(entity)


async def _register_child(form: dict[str, str], parent: dict[str, Any], rng: random.Random) -> tuple[int, str]:
    sex = "F" if form.get("child_sex") in ("女", "F") else "M"
    born = date.fromisoformat(form["birth_date"])
    region = parent["region_code"]
    while await Person.exists().where(Person.id_number == (number := gen.id_number(rng, region, born, sex))):
        pass
    name = form.get("child_name", "")[:40]
    child = (await Person.insert(Person(
        id_number=number, name=name, sex=sex, birth_date=born, region_code=region,
        household_address=parent["household_address"], ssc_number=gen.ssc_number(rng),
    )).returning(Person.id))[0]["id"]
    guardians = {parent["id"]: _("Father") if parent["sex"] == "M" else _("Mother")}
    for key, relation in (("father_id_number", _("Father")), ("mother_id_number", _("Mother"))):
        other = await Person.select(Person.id).where(Person.id_number == form.get(key, "").upper()).first()
        if other is not None:
            guardians.setdefault(other["id"], relation)
    await GuardianLink.insert(*[GuardianLink(guardian=g, child=child, relation=r) for g, r in guardians.items()])
    await record("person.registered", subject_type="person", subject_key=str(child))
    return int(child), name


async def after_member_transition(case: dict[str, Any], target: str, today: date) -> None:
    """Inside the member's transition: start the members now free to start, stop those that can no longer go
    on (by the bundle's rule), and bring the parent's state up to date."""
    parent, bundle, children = await _bundle_of(case["bundle_case"])
    if target == "approved":
        await _start_ready(parent, bundle, children)
    elif target in CLOSED_WITHOUT_APPROVAL:
        # What waits for this member can never start; by the "stop" rule nothing else goes on either.
        after = {m["item"]: list(m.get("after", [])) for m in bundle["members"]}
        this = next(c for c in children if c["id"] == case["id"])
        code = this["item_code"]
        applicant = await current_user_by_id(parent["applicant"])
        stop_all = bundle["on_failure"] == "stop" and target != "cancelled"
        reason = _("%(item)s was not approved, so this item of the bundle stops.", item=this["item_name"])
        for child in children:
            if child["id"] == case["id"] or child["state"] not in ("waiting", *workflow.OPEN_STATES):
                continue
            if stop_all or code in ancestors(child["item_code"], after):
                await workflow.cancel_case(child, applicant, opinion=reason)
    await _derive_parent(parent["id"], bundle)


async def start_ready(bundle_case_id: int) -> None:
    """Start every waiting member whose predecessors are approved and whose materials are all at hand (a
    certificate it needs joins the library when its PDF is made: `certificates.ensure_pdf` calls this again)."""
    await _start_ready(*await _bundle_of(bundle_case_id))


async def _start_ready(parent: dict[str, Any], bundle: dict[str, Any], children: list[dict[str, Any]]) -> None:
    after = {m["item"]: list(m.get("after", [])) for m in bundle["members"]}
    approved = {c["item_code"] for c in children if c["state"] == "approved"}
    applicant = await current_user_by_id(parent["applicant"])
    for child in children:
        if child["state"] == "waiting" and all(a in approved for a in after.get(child["item_code"], [])):
            with contextlib.suppress(Conflict):  # started meanwhile by another request
                await _start(child, applicant)


async def _start(child: dict[str, Any], applicant: CurrentUser) -> None:
    """A waiting member starts: what its holder's library now holds (the certificate it waited for) is attached,
    then it is submitted and its clock starts. Not yet if a required material is still missing."""
    g = await guide(child["item_code"], include_withdrawn=True)
    holder = filings.Holder(person={"id": child["holder_person"]} if child["holder_person"] else None,
                            entity={"id": child["holder_entity"]} if child["holder_entity"] else None)
    slots = await filings.material_slots(g.item, as_json(child["answers"]), holder, child["id"])
    if any(s.required and s.attached is None for s in slots):
        return
    if child["holder_entity"] is not None:  # what the bundle's registration now knows (the credit code …)
        entity = await LegalEntity.select(*LegalEntity.all_columns(),
                                          LegalEntity.legal_rep.name.as_alias("legal_rep_name")).where(
            LegalEntity.id == child["holder_entity"]).first()
        form = as_json(child["form_data"])
        known, _sources = prefill([f for f in g.item["form"] if not form.get(f["key"])],
                                  filings.Holder(entity=entity), None)
        if known:
            await Case.update({Case.form_data: {**form, **known}}).where(Case.id == child["id"])
    await filings.attach_reused(child["id"], slots)
    await workflow.submit_case(child, applicant, ip="")


async def _derive_parent(parent_id: int, bundle: dict[str, Any]) -> None:
    states = await Case.select(Case.state).where(Case.bundle_case == parent_id).output(as_list=True)
    if any(s not in workflow.FINAL_STATES for s in states):
        state = "in_progress"
    elif all(s == "approved" for s in states):
        state = "completed"
    else:
        state = "partly_completed" if "approved" in states else "stopped"
    now = utcnow()
    changed = await BundleCase.update({BundleCase.state: state, BundleCase.updated_at: now,
                                       BundleCase.completed_at: now if state != "in_progress" else None}).where(
        BundleCase.id == parent_id, BundleCase.state != state).returning(BundleCase.bundle_no, BundleCase.applicant)
    if changed and state != "in_progress":
        row = changed[0]
        await record(f"bundle.{state}", subject_type="bundle_case", subject_key=row["bundle_no"])
        await notify(row["applicant"], _("%(name)s: every item is finished", name=bundle["name"]),
                     _("All certificates are issued.") if state == "completed" else "",
                     f"/bundle-cases/{row['bundle_no']}")


# --- reading ------------------------------------------------------------------------------------------------------

async def applicant_bundle_case(user: CurrentUser, bundle_no: str, *, ip: str) -> dict[str, Any]:
    parent = await BundleCase.select().where(BundleCase.bundle_no == bundle_no[:20]).first()
    if parent is not None and (parent["applicant"] == user.id or (
            not user.is_officer and parent["holder_person"] is not None and parent["holder_person"] == user.person_id)):
        return parent
    await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type="bundle_case",
                       subject_key=bundle_no[:20], ip=ip, reason="not the applicant")
    raise NotFound()


async def bundle_detail(parent: dict[str, Any]) -> dict[str, Any]:
    """The parent page: each member's progress side by side, and the days the bundle saves by the real clocks."""
    _p, bundle, children = await _bundle_of(parent["id"])
    cal = await load_calendar()
    today = workflow.local_today()
    after = {m["item"]: list(m.get("after", [])) for m in bundle["members"]}
    members = []
    for child in children:
        clock = workflow.clock_view(child, cal, today)
        g = await guide(child["item_code"], include_withdrawn=True)
        certificates = await Certificate.select(
            Certificate.cert_no, Certificate.state, Certificate.certificate_type.name.as_alias("type_name")).where(
            Certificate.case == child["id"])
        members.append({"case": child, "clock": clock, "department": g.department["name"],
                        "after": [c["item_name"] for c in children if c["item_code"] in after.get(
                            child["item_code"], [])],
                        "correction": as_json(child["correction"]), "certificates": certificates})
    # One after another: each member's working days as its clock really ran (at least its promise while it runs,
    # its promise if it has not started). Together: the working days from the bundle's first start to its last
    # decision (or today), plus the longest chain of what the unfinished members still have to go.
    days, remaining = {}, {}
    for m in members:
        c, used, limit = m["case"], m["clock"].used, int(m["case"]["limit_days"])
        done = c["state"] in workflow.FINAL_STATES
        days[c["item_code"]] = used if done else max(used, limit) if c["clock_started_on"] else limit
        if not done:
            remaining[c["item_code"]] = max(limit - used, 0)
    serial = sum(days.values())
    starts = [c["clock_started_on"] for c in children if c["clock_started_on"]]
    end = max((c["decided_on"] for c in children if c["decided_on"]), default=today) if not remaining else today
    parallel = (cal.working_days_between(min(starts), end) if starts else 0) + critical_path(remaining, after)
    payment = await Payment.select().where(Payment.bundle_case == parent["id"]).first()
    return {"parent": parent, "bundle": bundle, "members": members, "serial": serial, "parallel": parallel,
            "saved": max(serial - parallel, 0), "payment": payment,
            "planned_serial": sum(int(c["limit_days"]) for c in children),
            "planned_parallel": critical_path({c["item_code"]: int(c["limit_days"]) for c in children}, after)}


async def bundles_of(user: CurrentUser, limit: int = 20) -> list[dict[str, Any]]:
    return await BundleCase.select(BundleCase.bundle_no, BundleCase.state, BundleCase.created_at,
                                   BundleCase.bundle.name.as_alias("bundle_name")).where(
        BundleCase.applicant == user.id).order_by(BundleCase.id, ascending=False).limit(limit)


async def active_bundles() -> list[dict[str, Any]]:
    rows = await Bundle.select(Bundle.code, Bundle.name, Bundle.audience, Bundle.summary, Bundle.members).where(
        Bundle.status == "active").order_by(Bundle.code)
    for row in rows:
        row["members"] = as_json(row["members"])
    return rows
