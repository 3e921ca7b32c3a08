"""The two demo bundles in Chromium at 1280 and 375 px: the applicant fills the one form, every department
approves, and the bundle page shows all of them done; the new firm's page holds its licences, the newborn has a
page linked from the parent's."""

from __future__ import annotations

from datetime import date

import pytest

from app.bundles import services as bundles
from app.bundles.tables import BundleCase
from app.registry.tables import GuardianLink, LegalEntity, Person
from tests import factories
from tests.browser.journey import WIDTHS, Screen, log_in, screen
from tests.filing_fixture import png_bytes
from tests.integration.bundles.test_demo_bundles import KBQY, NEWBORN, approve, fill, members, setup

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def file_in_chromium(s: Screen, user, code: str, given: dict[str, str], tmp_path, journey: str) -> str:
    from app.accounts.sessions import current_user_by_id

    page = s.page
    await log_in(s, user.mobile)
    await s.go(f"/bundles/{code}")
    f = await bundles.bundle_filing(await current_user_by_id(user.id), code)
    values = fill(f.form, f.values, given)
    for fld in f.form:
        field = page.locator(f"[name='{fld['key']}']:not([type=hidden])")
        if await field.count() == 0:
            continue  # the registry's own number, shown masked
        if fld["type"] == "select":
            await field.select_option(values[fld["key"]])
        else:
            await field.fill(values[fld["key"]])
    scan = tmp_path / "scan.png"
    scan.write_bytes(png_bytes())
    for slot in f.slots:
        if slot.required and not slot.provided_by and slot.attached is None:
            await page.set_input_files(f"#f-file_{slot.key}", scan)
    await page.get_by_label("免费邮寄到家").check()
    await page.get_by_label("收件地址（选择邮寄时填写）").fill("广东省珠海市香洲区凤凰北路18号")
    await s.shot(f"{journey}-01-form")
    await (await s.reachable(page.get_by_role("button", name="一次提交，各部门同时办理"))).click()
    await page.get_by_text("一件事已提交").wait_for()
    await s.shot(f"{journey}-02-filed")
    return page.url.rsplit("/", 1)[-1]


@pytest.mark.parametrize("width", WIDTHS)
async def test_opening_a_company_in_chromium(db, client, live_server, browser, tmp_path, width):
    officers = await setup()
    user, _person = await factories.citizen(name="周启航")
    s = await screen(browser, live_server, width)
    bundle_no = await file_in_chromium(s, user, KBQY, {"company_name": "珠海市横琴云帆科技有限公司"}, tmp_path,
                                       "bundle-kbqy")
    parent = await BundleCase.select().where(BundleCase.bundle_no == bundle_no).first()
    kids = await members(parent["idempotency_key"])
    await approve(client, officers, kids["440400-SCJG-001"])
    await s.go(f"/bundle-cases/{bundle_no}")
    await s.page.locator(".bundle-member", has_text="营业执照").get_by_text("已办结（准予）").wait_for()
    await s.shot("bundle-kbqy-03-licence-issued")
    for code, kid in (await members(parent["idempotency_key"])).items():
        if code != "440400-SCJG-001":
            await approve(client, officers, kid)
    await s.go(f"/bundle-cases/{bundle_no}")
    await s.page.get_by_text("已全部办结").first.wait_for()
    assert await s.page.locator(".bundle-member").count() == len(kids)
    await s.shot("bundle-kbqy-04-done")
    firm = await LegalEntity.select(LegalEntity.uscc).where(LegalEntity.name == "珠海市横琴云帆科技有限公司").first()
    await s.go(f"/enterprise/{firm['uscc']}")
    await s.page.get_by_text("营业执照").first.wait_for()
    await s.shot("bundle-kbqy-05-enterprise-page")
    assert s.problems == []


@pytest.mark.parametrize("width", WIDTHS)
async def test_newborn_bundle_in_chromium(db, client, live_server, browser, tmp_path, width):
    officers = await setup()
    father, dad = await factories.citizen(name="陈志远")
    mum = await factories.person(name="林晓雯", male=False, birth=date(1990, 3, 8))
    s = await screen(browser, live_server, width)
    bundle_no = await file_in_chromium(s, father, NEWBORN, {
        "child_name": "陈小满", "child_sex": "女", "birth_date": "2026-11-20", "birth_place": "珠海市妇幼保健院",
        "mother_name": mum.name, "mother_id_number": mum.id_number, "father_name": dad.name,
        "father_id_number": dad.id_number}, tmp_path, "bundle-newborn")
    parent = await BundleCase.select().where(BundleCase.bundle_no == bundle_no).first()
    for code in ("440400-WJJ-001", "440402-GA-001"):
        await approve(client, officers, (await members(parent["idempotency_key"]))[code])
    await s.go(f"/bundle-cases/{bundle_no}")
    await s.shot("bundle-newborn-03-midway")
    for kid in (await members(parent["idempotency_key"])).values():
        if kid["state"] != "approved":
            await approve(client, officers, kid)
    await s.go(f"/bundle-cases/{bundle_no}")
    await s.page.get_by_text("已全部办结").first.wait_for()
    await s.shot("bundle-newborn-04-done")
    child = await Person.select(Person.id).where(Person.name == "陈小满").first()
    assert {r["guardian"] for r in await GuardianLink.select(GuardianLink.guardian).where(
        GuardianLink.child == child["id"])} == {dad.id, mum.id}
    await s.go("/me")
    await (await s.reachable(s.page.get_by_role("link", name="陈小满", exact=True))).click()
    await s.page.wait_for_url(f"**/me/children/{child['id']}")
    await s.page.get_by_role("heading", name="陈小满").first.wait_for()
    await s.shot("bundle-newborn-05-child-page")
    assert s.problems == []
