"""The demo city (`seed --demo`): Zhuhai's departments and officers, a registry of families and firms,
and a handful of named citizens whose logins the README lists. Idempotent: a seeded database is left alone."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.accounts.passwords import hash_password
from app.accounts.tables import OfficerRole, User
from app.catalog.services import import_catalogue, load_file
from app.db import utcnow, write_tx
from app.i18n import _
from app.lifelong.services import AGENT_GRANTED, PAGE_ACTIVATED
from app.lifelong.tables import EnterpriseMember
from app.notify.services import notify
from app.registry import generator as gen
from app.registry.bulk import load_registry
from app.registry.tables import Department, GuardianLink, LegalEntity, Person
from app.settings import ROOT
from app.workdays.calendar import load_calendar, local_date

DEMO_PASSWORD = "Zhuhai-demo-2026"  # noqa: S105 - the published demo password, listed in the README
DEMO_SEED = 2026
DEMO_CATALOGUE = ROOT / "app" / "catalog" / "data" / "catalogue.json"
REGISTRY_PERSONS = 6000
REGISTRY_ENTITIES = 600


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    sex: str
    birth: date
    district: str
    mobile: str = ""
    activated: bool = True


FAMILY = (
    DemoPerson("father", "陈志明", "M", date(1986, 4, 12), "440402", "13800000001"),
    DemoPerson("mother", "黄丽华", "F", date(1988, 9, 3), "440402", "13800000002"),
    DemoPerson("son", "陈子轩", "M", date(2020, 9, 1), "440402"),
    DemoPerson("daughter", "陈可欣", "F", date(2026, 8, 18), "440402"),
    DemoPerson("newcomer", "李国强", "M", date(1979, 1, 23), "440403", "13800000003", activated=False),
)
NAMED_OFFICERS = {
    # mobile: (department code, roles, name)
    "13900000001": ("ZH-HALL", ("clerk",), "吴晓敏"),
    "13900000002": ("ZH-MARKET", ("reviewer",), "郑家豪"),
    "13900000003": ("ZH-MARKET", ("approver",), "冯建华"),
    "13900000004": ("ZH-HALL", ("supervisor",), "何志远"),
    "13900000005": ("ZH-HALL", ("catalog_admin",), "罗慧敏"),
    "13900000006": ("ZH-DM-JA-HALL", ("proxy_agent", "clerk"), "钟伟强"),
}


async def seed_departments() -> None:
    """The department tree (those missing)."""
    await load_registry(0, 0)


async def seed_demo() -> str:
    if await User.exists().where(User.mobile == FAMILY[0].mobile):
        return "already seeded (left as it is)" + await seed_demo_filings()
    await seed_departments()
    password_hash = await hash_password(DEMO_PASSWORD)
    rng = random.Random(DEMO_SEED)
    now = utcnow()
    async with write_tx():
        persons: dict[str, Person] = {}
        for p in FAMILY:
            row = Person(
                id_number=gen.id_number(rng, p.district, p.birth, p.sex),
                name=p.name,
                sex=p.sex,
                birth_date=p.birth,
                region_code=p.district,
                household_address="广东省珠海市香洲区情侣中路39号海滨花园5栋1203房"
                if p.district == "440402" else "广东省珠海市斗门区井岸镇湖滨路66号湖景苑2栋501房",
                ssc_number=gen.ssc_number(rng),
                mobile=p.mobile,
            )
            await row.save()
            persons[p.key] = row
        for child in ("son", "daughter"):
            await GuardianLink(guardian=persons["father"].id, child=persons[child].id, relation="父亲").save()
            await GuardianLink(guardian=persons["mother"].id, child=persons[child].id, relation="母亲").save()

        users: dict[str, User] = {}
        for p in FAMILY:
            if not p.mobile:
                continue
            user = User(mobile=p.mobile, password_hash=password_hash, display_name=p.name, kind="citizen",
                        person=persons[p.key].id if p.activated else None, created_at=now - timedelta(days=400),
                        activated_at=now - timedelta(days=399) if p.activated else None)
            await user.save()
            users[p.key] = user
            if p.activated:
                await notify(user.id, _(PAGE_ACTIVATED[0]), _(PAGE_ACTIVATED[1]), "/me")

        firm = LegalEntity(uscc=gen.uscc(rng, "440400"), name="珠海市海韵软件科技有限公司", entity_type="有限责任公司",
                           legal_rep=persons["father"].id, address="广东省珠海市香洲区唐家湾镇港湾大道科技五路8号",
                           industry="软件和信息技术服务业", registered_capital=5_000_000,
                           established_on=date(2017, 6, 8), region_code="440402")
        await firm.save()
        trading = LegalEntity(uscc=gen.uscc(rng, "440400"), name="珠海市粤澳顺达贸易有限公司",
                              entity_type="有限责任公司",
                              legal_rep=persons["newcomer"].id, address="广东省珠海市斗门区井岸镇新青工业园12号",
                              industry="批发和零售业", registered_capital=1_000_000,
                              established_on=date(2021, 11, 19), region_code="440403")
        await trading.save()
        await EnterpriseMember(entity=firm.id, user=users["father"].id, role="legal_rep",
                               created_at=now - timedelta(days=380)).save()
        agent_until = date(now.year + 1, 12, 31)
        await EnterpriseMember(entity=firm.id, user=users["mother"].id, role="agent", scope="filing",
                               expires_on=agent_until, granted_by=users["father"].id,
                               created_at=now - timedelta(days=200)).save()
        await notify(users["mother"].id, _(AGENT_GRANTED[0], name=firm.name),
                     _(AGENT_GRANTED[1], date=agent_until.isoformat()), f"/enterprise/{firm.uscc}")

        departments = await Department.select(Department.id, Department.code, Department.kind)
        by_code = {d["code"]: d for d in departments}
        for mobile, (code, roles, name) in NAMED_OFFICERS.items():
            await _officer(mobile, name, by_code[code]["id"], roles, password_hash, now)
        # Every department gets its own reviewer and approver; every service hall a front-desk clerk.
        for index, d in enumerate(sorted(departments, key=lambda d: d["code"]), start=1):
            roles = ("clerk",) if d["kind"] == "hall" else ("reviewer", "approver")
            for n, role in enumerate(roles, start=1):
                name = f"{gen.surname(rng)}{gen.given_name(rng, rng.choice('MF'), 1985)}"
                await _officer(f"139{index:04d}{n:04d}", name, d["id"], (role,), password_hash, now)

    counts = await load_registry(REGISTRY_PERSONS, REGISTRY_ENTITIES, seed=DEMO_SEED)
    catalogue = await import_catalogue(load_file(str(DEMO_CATALOGUE)), note="demo catalogue")
    filings = await seed_demo_filings()
    return (f"{len(departments)} departments, {counts['persons'] + len(FAMILY)} persons, "
            f"{counts['legal_entities'] + 2} legal entities, {catalogue.items_added} service items{filings}; "
            f"log in as {FAMILY[0].mobile} / {DEMO_PASSWORD}")


async def _officer(mobile: str, name: str, department_id: int, roles: tuple[str, ...], password_hash: str,
                   now: object) -> None:
    user = User(mobile=mobile, password_hash=password_hash, display_name=name, kind="officer",
                department=department_id, created_at=now)
    await user.save()
    for role in roles:
        await OfficerRole(user=user.id, role=role).save()


# --- demo filings: real cases through the real workflow, so their certificates are real too --------------------

@dataclass(frozen=True)
class DemoFiling:
    applicant: str  # a FAMILY key
    code: str
    answers: dict[str, str]
    form: dict[str, str]
    for_firm: bool = False  # filed for the applicant's enterprise
    days_ago: int = 0  # its clock ran this long ago (the history of the pages); 0: today


HOME = "广东省珠海市香洲区情侣中路39号海滨花园5栋1203房"
DEMO_FILINGS = (
    # Years of history, oldest first: what they uploaded then is in their library now.
    DemoFiling("mother", "440402-GA-001", {"marital": "married", "agent": "self"},
               {"child_name": "陈子轩", "child_sex": "男", "birth_date": "2020-09-01",
                "birth_place": "珠海市妇幼保健院", "mother_name": "黄丽华", "father_name": "陈志明"}, days_ago=2270),
    DemoFiling("father", "440400-GJJ-002", {"reason": "rent", "spouse": "no", "agent": "self"},
               {"extract_reason": "租赁自住住房", "extract_amount": "18000", "bank_name": "中国建设银行珠海分行",
                "bank_account": "6217003320012345678"}, days_ago=1180),
    DemoFiling("mother", "440400-RSJ-002", {"age": "adult", "type": "replace"},
               {"residence_address": HOME, "card_bank": "中国建设银行"}, days_ago=640),
    # A dog licence is good for a year: this one runs out within 90 days (a renewal to-do).
    DemoFiling("father", "440402-GA-007", {"housing": "own", "household": "local"},
               {"residence_address": HOME, "dog_name": "豆豆", "dog_breed": "柯基", "dog_sex": "雄性",
                "dog_chip_number": "900164000123456"}, days_ago=320),
    # 陈志明 renews his driving licence: the electronic licence then stands in for the paper one (免提交) when he
    # applies for the freight drivers' qualification.
    DemoFiling("father", "440400-GA-002", {"license_class": "small", "channel": "online"},
               {"change_reason": "有效期满换证", "residence_address": HOME}),
    # His company widens its business scope and gets a new electronic business licence.
    DemoFiling("father", "440400-SCJG-002",
               {"change_name": "no", "change_address": "no", "change_legal_rep": "no", "change_capital": "none",
                "change_scope": "general", "change_shareholder": "no", "change_type": "no", "change_officers": "no",
                "license_form": "electronic", "agent": "legal_rep"},
               {"change_items": "经营范围",
                "business_scope": "软件开发；信息系统集成服务；人工智能应用软件开发；数据处理和存储支持服务",
                "contact_name": "陈志明", "contact_mobile": "13800000001"}, for_firm=True),
)


def _scan(title: str) -> bytes:
    """A stand-in scanned page (PNG) for a demo upload."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (620, 877), "#fbfaf6")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 590, 847), outline="#8b8b8b", width=3)
    for y in range(140, 800, 36):
        draw.line((70, y, 550 - (y * 7) % 160, y), fill="#c9c9c9", width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def _officer_of(department_id: int, role: str) -> int:
    row = await OfficerRole.select(OfficerRole.user).where(
        OfficerRole.role == role, OfficerRole.user.department == department_id).first()
    return row["user"]


async def _demo_filing(plan: DemoFiling, user_id: int, uscc: str, others: dict[str, Person]) -> dict[str, Any]:
    """Filed, accepted, reviewed and approved: as on the pages."""
    return await _approve(await file_demo_case(plan, user_id, uscc, others), days_ago=plan.days_ago)


async def file_demo_case(plan: DemoFiling, user_id: int, uscc: str, others: dict[str, Person]) -> dict[str, Any]:
    """Filed and submitted, what the library lacks uploaded as a scan."""
    from app.accounts.sessions import current_user_by_id
    from app.filings import services
    from app.filings.storage import store_bytes

    user = await current_user_by_id(user_id)
    f = await services.filing(user, plan.code, as_uscc=uscc if plan.for_firm else "", answers=plan.answers)
    uploads = [services.Upload(slot.key, await store_bytes(_scan(slot.name), "image/png", f"{slot.name}.png"), None)
               for slot in f.materials if slot.required and slot.attached is None]
    form = {**f.values, **plan.form}
    fields = {fld["key"] for fld in f.item["form"]}
    if "license_number" in fields:
        form["license_number"] = f.holder.person["id_number"]  # a driving licence's number is the ID number
    for key, who in (("mother_id_number", "mother"), ("father_id_number", "father")):
        if key in fields:
            form[key] = others[who].id_number
    case = await services.save_filing(f, user, form, plan.answers, uploads, f.key)
    f.materials = await services.material_slots(f.item, plan.answers, f.holder, case["id"], f.library)
    problems = services.check_complete(f, form)
    if problems:
        raise RuntimeError(f"demo filing {plan.code} is incomplete: {problems}")
    return await services.submit_filing(f, case, user, ip="")


async def _approve(case: dict[str, Any], *, days_ago: int = 0, took: int = 2, render: bool = True,
                   steps: int = 3) -> dict[str, Any]:
    """The hall's front desk accepts, the department reviews and approves (the first `steps` of these); the
    certificate is rendered, after the case is moved back in time if it belongs to the pages' history."""
    from app.accounts.sessions import current_user_by_id
    from app.certificates.services import ensure_pdfs_for_case
    from app.filings import services, workflow

    plan = ((case["hall"], "clerk", workflow.accept_case, "材料齐全，予以受理。"),
             (case["department"], "reviewer", workflow.review_case, "经审查，符合办理条件。"),
             (case["department"], "approver", workflow.approve_case, "准予办理。"))
    for department_id, role, act, opinion in plan[:steps]:
        officer = await current_user_by_id(await _officer_of(department_id, role))
        case = await workflow.load_case(case["case_no"])
        # As on the office case page: the officer's opening of the case goes on the holder's access log.
        await services.log_access(officer, case, _("Case details and application form"), _("Handling the case"))
        case = await act(case, officer, ip="", opinion=opinion)
    if days_ago:
        case = await move_back(case["id"], days_ago, took)
    if render and steps == len(plan):
        await ensure_pdfs_for_case(case["id"])
    return case


async def move_back(case_id: int, days: int, took: int = 2) -> dict[str, Any]:
    """Everything the case wrote, as if its clock had started `days` ago (and, if it has ended, it took `took`
    days from filing to decision): its number, times, steps, materials, certificate (number and validity),
    access-log rows and messages. Not its audit rows: the audit log is a hash chain (app.audit.chain) and says
    truthfully when the seeding wrote what, under the numbers the cases had then."""
    from app.audit.tables import DataAccess
    from app.certificates.services import expiry_date, next_serial
    from app.certificates.tables import Certificate
    from app.filings.tables import Case, CaseMaterial, CaseStep, Material
    from app.notify.tables import Notification

    case = await Case.select().where(Case.id == case_id).first()
    shift = timedelta(days=days)
    cal = await load_calendar()
    filed = local_date(case["submitted_at"] - shift)
    decided = filed + timedelta(days=took) if case["decided_on"] else None
    used = cal.working_days_between(filed, decided) if decided else 0
    number = filed.strftime("%Y%m%d") + case["case_no"][8:]
    await Case.update({Case.case_no: number, Case.created_at: case["created_at"] - shift,
                       Case.submitted_at: case["submitted_at"] - shift, Case.updated_at: case["updated_at"] - shift,
                       Case.clock_started_on: filed, Case.due_on: cal.add_working_days(filed, case["limit_days"]),
                       Case.decided_on: decided, Case.days_used: used if decided else None}).where(Case.id == case_id)
    for step in await CaseStep.select(CaseStep.id, CaseStep.action, CaseStep.created_at).where(
            CaseStep.case == case_id):
        late = decided is not None and step["action"] in ("review", "approve")  # decided `took` days after filing
        await CaseStep.update({CaseStep.created_at: step["created_at"] - shift + timedelta(days=took if late else 0),
                               CaseStep.days_used: used if late else 0}).where(CaseStep.id == step["id"])
    used = await CaseMaterial.select(CaseMaterial.material).where(CaseMaterial.case == case_id,
                                                                  CaseMaterial.reused.eq(False)).output(as_list=True)
    await Material.update({Material.created_at: Material.created_at - shift}).where(Material.id.is_in(used or [0]))
    await CaseMaterial.update({CaseMaterial.created_at: CaseMaterial.created_at - shift}).where(
        CaseMaterial.case == case_id)
    await DataAccess.update({DataAccess.case_no: number, DataAccess.created_at: DataAccess.created_at - shift}).where(
        DataAccess.case_no == case["case_no"])
    await Notification.update({Notification.link: f"/cases/{number}",
                               Notification.created_at: Notification.created_at - shift}).where(
        Notification.link == f"/cases/{case['case_no']}")
    for cert in await Certificate.select(Certificate.id, Certificate.cert_no, Certificate.certificate_type,
                                         Certificate.certificate_type.validity_years.as_alias("years")).where(
            Certificate.case == case_id):
        cert_no = cert["cert_no"]
        if decided is None:
            continue
        if cert_no[6:10] != str(decided.year):  # numbered in the year it was issued
            serial = await next_serial(cert["certificate_type"], decided.year)
            cert_no = f"{cert_no[:6]}{decided.year}{cert['certificate_type']:03d}{serial:06d}"
        await Certificate.update({
            Certificate.cert_no: cert_no,
            Certificate.issued_on: decided, Certificate.valid_until: expiry_date(decided, cert["years"]),
            Certificate.created_at: Certificate.created_at - shift}).where(Certificate.id == cert["id"])
    return await Case.select().where(Case.id == case_id).first()


async def _demo_bundle(user_id: int) -> None:
    """黄丽华 buys a flat in one go (二手房交易一件事): taxes paid and approved, the transfer now running, the
    utilities waiting for it."""
    from app.accounts.sessions import current_user_by_id
    from app.bundles import services as bundles
    from app.filings import services
    from app.filings.storage import store_bytes
    from app.filings.tables import Case

    user = await current_user_by_id(user_id)
    f = await bundles.bundle_filing(user, "440400-YJS-ESFJY")
    seller = await Person.select(Person.name, Person.id_number).where(Person.region_code == "440402").order_by(
        Person.id).offset(50).first()
    given = {"property_address": "广东省珠海市香洲区吉大景山路128号海景花园3栋801房", "transaction_price": "2680000",
             "seller_name": seller["name"], "seller_id_number": seller["id_number"], "building_area": "89.6",
             "property_cert_number": "粤（2019）珠海市不动产权第0123456号"}
    uploads = [services.Upload(slot.key, await store_bytes(_scan(slot.name), "image/png", f"{slot.name}.png"), None)
               for slot in f.slots if slot.required and not slot.provided_by and slot.attached is None]
    cleaned, problems = bundles.check_bundle(f, {**f.values, **given}, set(), {u.key for u in uploads}, "window", "")
    if problems:
        raise RuntimeError(f"demo bundle is incomplete: {problems}")
    parent = await bundles.submit_bundle(f, user, cleaned, uploads, f.key, "window", "", ip="")
    first = await Case.select().where(Case.bundle_case == parent["id"], Case.state == "submitted").first()
    await _approve(first)


async def seed_demo_filings() -> str:
    """The demo filings, unless the demo citizens already have cases."""
    users = {p.key: await User.select(User.id).where(User.mobile == p.mobile).first() for p in FAMILY if p.mobile}
    from app.filings.tables import Case

    if await Case.exists().where(Case.applicant.is_in([u["id"] for u in users.values()])):
        return ""
    firm = await LegalEntity.select(LegalEntity.uscc).where(LegalEntity.name == "珠海市海韵软件科技有限公司").first()
    others = {p.key: await Person.objects().where(Person.name == p.name, Person.birth_date == p.birth).first()
              for p in FAMILY}
    for plan in DEMO_FILINGS:
        await _demo_filing(plan, users[plan.applicant]["id"], firm["uscc"], others)
    await _demo_bundle(users["mother"]["id"])
    from app.demo_activity import seed_activity  # builds on this module

    activity = await seed_activity(await hash_password(DEMO_PASSWORD))
    return (f", {len(DEMO_FILINGS)} approved cases over six years with their certificates, a bundle under way"
            f"{activity}")
