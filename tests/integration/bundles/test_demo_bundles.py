"""The demo bundles end to end: 开办企业 registers the enterprise and its four followers start with the new
licence; 新生儿出生一件事 opens the child's own page, linked to both parents, when the household registration is
approved."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.bundles import services as bundles
from app.bundles.tables import BundleCase
from app.catalog.services import import_catalogue, load_file
from app.certificates.tables import Certificate
from app.demo import DEMO_CATALOGUE, seed_departments
from app.filings import services as filings
from app.filings.tables import Case, CaseMaterial
from app.lifelong.tables import EnterpriseMember
from app.registry.tables import Department, GuardianLink, LegalEntity, Person
from tests import factories
from tests.filing_fixture import png_bytes
from tests.integration.filings.test_filing import officer_act

pytestmark = pytest.mark.anyio

KBQY, NEWBORN = "440400-YJS-KBQY", "440400-YJS-XSECS"


def fill(form: list[dict[str, Any]], values: dict[str, str], given: dict[str, str]) -> dict[str, str]:
    """Valid values for every field of the merged form: the prefilled ones, the test's own, plain ones else."""
    out = dict(values)
    for fld in form:
        if fld["key"] in given:
            out[fld["key"]] = given[fld["key"]]
        elif not out.get(fld["key"]):
            out[fld["key"]] = {"select": (fld.get("options") or [""])[0], "mobile": "13812345678",
                               "number": "10", "date": "2026-11-01", "id_number": factories.id_number()}.get(
                fld["type"], f"{fld['label']}（测试）")
    return out


async def file(client, user, person, code: str, given: dict[str, str]) -> tuple[str, dict[str, Any]]:
    await factories.login(client, user.mobile)
    page = await client.get(f"/bundles/{code}")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    f = await bundles.bundle_filing(await _current(user), code)
    data = {**fill(f.form, f.values, given), "key": key, "action": "submit", "delivery": "express",
            "delivery_address": person.household_address}
    uploads = {f"file_{s.key}": (f"{s.name}.png", png_bytes(), "image/png") for s in f.slots
               if s.required and not s.provided_by and s.attached is None}
    response = await factories.post(client, f"/bundles/{code}", data, files=uploads)
    assert response.status_code == 303, response.text
    return key, data


async def _current(user):
    from app.accounts.sessions import current_user_by_id

    return await current_user_by_id(user.id)


async def staff(officers: dict[int, tuple[Any, Any, Any]], department_id: int) -> tuple[Any, Any, Any]:
    """A clerk at the department's hall, a reviewer and an approver in it; made the first time a case needs them
    (all sixty departments' would be 180 accounts, most never used)."""
    if department_id not in officers:
        d = await Department.objects().where(Department.id == department_id).first()
        hall = await Department.objects().where(Department.id == await filings.hall_for(d.id)).first()
        officers[department_id] = (await factories.officer(hall, "clerk"), await factories.officer(d, "reviewer"),
                                   await factories.officer(d, "approver"))
    return officers[department_id]


async def approve(client, officers, case: dict[str, Any]) -> None:
    clerk, reviewer, approver = await staff(officers, case["department"])
    for officer, action in ((clerk, "accept"), (reviewer, "review"), (approver, "approve")):
        await factories.login(client, officer.mobile)
        response = await officer_act(client, case["case_no"], action, "同意")
        assert response.status_code == 303, response.text


async def members(key: str) -> dict[str, dict[str, Any]]:
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    rows = await Case.select(*Case.all_columns(), Case.item.code.as_alias("code")).where(
        Case.bundle_case == parent["id"])
    return {r["code"]: r for r in rows}


async def setup() -> dict[int, tuple[Any, Any, Any]]:
    """The demo catalogue; returns the officers by department, none yet (`approve` makes them)."""
    await seed_departments()
    await import_catalogue(load_file(str(DEMO_CATALOGUE)))
    return {}


async def test_opening_a_company_in_one_go(client) -> None:
    officers = await setup()
    user, person = await factories.citizen(name="周启航")
    key, _data = await file(client, user, person, KBQY, {"company_name": "珠海市横琴云帆科技有限公司",
                                                        "registered_capital": "100"})
    kids = await members(key)
    licence = kids["440400-SCJG-001"]
    assert licence["state"] == "submitted"
    assert {k["state"] for c, k in kids.items() if c != "440400-SCJG-001"} == {"waiting"}
    await approve(client, officers, licence)

    firm = await LegalEntity.select().where(LegalEntity.name == "珠海市横琴云帆科技有限公司").first()
    assert firm is not None and firm["legal_rep"] == person.id and firm["registered_capital"] == 1_000_000
    assert await EnterpriseMember.exists().where(EnterpriseMember.entity == firm["id"],
                                                 EnterpriseMember.user == user.id,
                                                 EnterpriseMember.role == "legal_rep")
    cert = await Certificate.select().where(Certificate.case == licence["id"]).first()
    assert cert["holder_entity"] == firm["id"] and cert["holder_name"] == firm["name"] and cert["pdf_sha256"]
    kids = await members(key)
    followers = [k for c, k in kids.items() if c != "440400-SCJG-001"]
    assert all(k["state"] == "submitted" and k["holder_entity"] == firm["id"] for k in followers)
    seal = kids["440400-GA-003"]
    assert firm["uscc"] in str(seal["form_data"])  # the credit code nobody could know when filing
    assert await CaseMaterial.exists().where(CaseMaterial.case == seal["id"], CaseMaterial.reused.eq(True),
                                             CaseMaterial.material == cert["material"])
    for k in followers:
        await approve(client, officers, k)
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    assert parent["state"] == "completed"

    await factories.login(client, user.mobile)
    page = await client.get(f"/enterprise/{firm['uscc']}")
    assert "营业执照" in page.text
    issued = await Certificate.count().where(Certificate.holder_entity == firm["id"])
    assert issued >= 2 and page.text.count('download hx-boost="false"') == issued  # all on the enterprise page
    board = await client.get(f"/bundle-cases/{parent['bundle_no']}")
    assert "已全部办结" in board.text and "邮寄至" in board.text


async def test_a_newborn_gets_a_page_of_its_own(client) -> None:
    officers = await setup()
    father, dad = await factories.citizen(name="陈志远")
    mum = await factories.person(name="林晓雯", male=False, birth=__import__("datetime").date(1990, 3, 8))
    key, _data = await file(client, father, dad, NEWBORN, {
        "child_name": "陈小满", "child_sex": "女", "birth_date": "2026-11-20", "birth_place": "珠海市妇幼保健院",
        "mother_name": mum.name, "mother_id_number": mum.id_number, "father_name": dad.name,
        "father_id_number": dad.id_number})
    kids = await members(key)
    await approve(client, officers, kids["440400-WJJ-001"])
    birth_cert = await Certificate.select().where(Certificate.case == kids["440400-WJJ-001"]["id"]).first()
    assert birth_cert["holder_name"] == "陈小满"
    kids = await members(key)
    assert kids["440402-GA-001"]["state"] == "submitted"  # started with the birth certificate attached
    await approve(client, officers, kids["440402-GA-001"])

    child = await Person.select().where(Person.name == "陈小满").first()
    assert child is not None and child["sex"] == "F" and str(child["birth_date"]) == "2026-11-20"
    guardians = await GuardianLink.select(GuardianLink.guardian).where(GuardianLink.child == child["id"]).output(
        as_list=True)
    assert sorted(guardians) == sorted([dad.id, mum.id])
    moved = await Certificate.select(Certificate.holder_person).where(Certificate.case.is_in(
        [k["id"] for k in kids.values()]))
    assert moved and all(r["holder_person"] == child["id"] for r in moved)
    kids = await members(key)
    for code in ("440402-YBJ-001", "440400-RSJ-002", "440402-WJJ-001"):
        assert kids[code]["state"] == "submitted" and kids[code]["holder_person"] == child["id"]
        await approve(client, officers, kids[code])
    assert (await BundleCase.select().where(BundleCase.idempotency_key == key).first())["state"] == "completed"

    await factories.login(client, father.mobile)
    assert "陈小满" in (await client.get("/me")).text
    page = await client.get(f"/me/children/{child['id']}")
    assert page.status_code == 200 and "陈小满" in page.text
