"""The two demo bundles in Chromium: the applicant fills the one form on a phone, every department approves,
and the bundle page shows all of them done; the new firm's page holds its licences, the newborn has a page."""

from __future__ import annotations

from datetime import date

import pytest

from app.bundles import services as bundles
from app.bundles.tables import BundleCase
from app.registry.tables import LegalEntity, Person
from tests import factories
from tests.filing_fixture import png_bytes
from tests.integration.bundles.test_demo_bundles import KBQY, NEWBORN, approve, fill, members, setup

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def file_in_chromium(page, base: str, user, code: str, given: dict[str, str], tmp_path) -> str:
    from app.accounts.sessions import current_user_by_id

    await page.goto(base + "/login")
    await page.get_by_label("手机号码").fill(user.mobile)
    await page.get_by_label("密码").fill(factories.PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(lambda url: "/login" not in url)
    await page.goto(f"{base}/bundles/{code}")
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
    await page.get_by_role("button", name="一次提交，各部门同时办理").click()
    await page.get_by_text("一件事已提交").wait_for()
    return page.url.rsplit("/", 1)[-1]


@pytest.mark.parametrize("width", [375, 1280])
async def test_opening_a_company_in_chromium(db, client, live_server, browser, artifacts, tmp_path, width):
    officers = await setup()
    user, _person = await factories.citizen(name="周启航")
    page = await browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    bundle_no = await file_in_chromium(page, live_server, user, KBQY, {"company_name": "珠海市横琴云帆科技有限公司"},
                                       tmp_path)
    await page.screenshot(path=artifacts / f"bundle-kbqy-filed-{width}.png", full_page=True, caret="initial")
    parent = await BundleCase.select().where(BundleCase.bundle_no == bundle_no).first()
    kids = await members(parent["idempotency_key"])
    await approve(client, officers, kids["440400-SCJG-001"])
    for code, kid in (await members(parent["idempotency_key"])).items():
        if code != "440400-SCJG-001":
            await approve(client, officers, kid)
    await page.goto(f"{live_server}/bundle-cases/{bundle_no}")
    await page.get_by_text("已全部办结").first.wait_for()
    await page.screenshot(path=artifacts / f"bundle-kbqy-done-{width}.png", full_page=True, caret="initial")
    firm = await LegalEntity.select(LegalEntity.uscc).where(LegalEntity.name == "珠海市横琴云帆科技有限公司").first()
    await page.goto(f"{live_server}/enterprise/{firm['uscc']}")
    await page.get_by_text("营业执照").first.wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []


async def test_newborn_bundle_in_chromium(db, client, live_server, browser, artifacts, tmp_path):
    officers = await setup()
    father, dad = await factories.citizen(name="陈志远")
    mum = await factories.person(name="林晓雯", male=False, birth=date(1990, 3, 8))
    page = await browser.new_page(viewport={"width": 375, "height": 812})
    page.set_default_timeout(15_000)
    bundle_no = await file_in_chromium(page, live_server, father, NEWBORN, {
        "child_name": "陈小满", "child_sex": "女", "birth_date": "2026-11-20", "birth_place": "珠海市妇幼保健院",
        "mother_name": mum.name, "mother_id_number": mum.id_number, "father_name": dad.name,
        "father_id_number": dad.id_number}, tmp_path)
    parent = await BundleCase.select().where(BundleCase.bundle_no == bundle_no).first()
    for code in ("440400-WJJ-001", "440402-GA-001"):
        await approve(client, officers, (await members(parent["idempotency_key"]))[code])
    await page.goto(f"{live_server}/bundle-cases/{bundle_no}")
    await page.screenshot(path=artifacts / "bundle-newborn-midway-375.png", full_page=True, caret="initial")
    for kid in (await members(parent["idempotency_key"])).values():
        if kid["state"] != "approved":
            await approve(client, officers, kid)
    child = await Person.select(Person.id).where(Person.name == "陈小满").first()
    await page.goto(f"{live_server}/me")
    await page.get_by_role("link", name="陈小满", exact=True).click()
    await page.wait_for_url(f"**/me/children/{child['id']}")
    await page.screenshot(path=artifacts / "newborn-page-375.png", full_page=True, caret="initial")
