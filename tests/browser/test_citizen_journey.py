"""A citizen's single item in Chromium, end to end and everyone through the pages: registration, activation,
the application with two files made here, the front desk's acceptance, the police's review and decision, the
signed certificate downloaded and checked on /verify. At 1280 and 375 px, and on the phone with JavaScript off."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from app import filestore
from app.accounts.tables import User
from app.audit.tables import AuditEvent
from app.certificates.services import signature_ok
from app.certificates.tables import Certificate
from app.filings.tables import Case, CaseMaterial, CaseStep
from tests import factories
from tests.browser.journey import WIDTHS, Screen, log_in, screen
from tests.filing_fixture import ITEM, hall

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

PASSWORD = "银杏叶 落满 情侣路"
VARIANTS = [pytest.param(w, True, id=f"{w}") for w in WIDTHS] + [pytest.param(375, False, id="375-nojs")]


def scanned_id_card() -> bytes:
    """A PNG as a phone's scan app would save it."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), "#dfe8f0").save(buffer, "PNG")
    return buffer.getvalue()


def purchase_contract() -> bytes:
    """A one-page PDF, as a scanner's "save as PDF" writes it."""
    buffer = io.BytesIO()
    Image.new("RGB", (595, 842), "white").save(buffer, "PDF", resolution=72)
    return buffer.getvalue()


async def name_officers(h) -> None:
    """The officers' names, as the timeline shows them."""
    for officer, name in ((h.clerk, "吴晓敏"), (h.reviewer, "郑家豪"), (h.approver, "冯建华")):
        await User.update({User.display_name: name}).where(User.id == officer.id)


async def officer_acts(s: Screen, queue: str, case_no: str, button: str, opinion: str, after: str, step: str) -> None:
    """From the workspace to the queue to the case, and the decision with its opinion."""
    await s.go("/office")
    await s.page.get_by_role("link", name=queue).click()
    row = s.page.locator("tr", has_text=case_no)
    assert "林**" in await row.inner_text()  # the name masked
    await s.reachable(row.get_by_text("剩余 5 个工作日"))  # on a phone too, without scrolling the table sideways
    await s.shot(f"citizen-{step}-queue")
    await (await s.reachable(row.get_by_role("link", name=case_no))).click()
    await s.page.get_by_role("heading", name="户口迁移").wait_for()
    await s.shot(f"citizen-{step}-case")
    if opinion:
        await s.page.get_by_label("意见").fill(opinion)
    await (await s.reachable(s.page.get_by_role("button", name=button, exact=True))).click()
    await s.page.get_by_text("办件已处理。").wait_for()
    assert after in await s.page.locator("main .card").first.inner_text()
    await s.shot(f"citizen-{step}-done")


@pytest.mark.parametrize(("width", "javascript"), VARIANTS)
async def test_a_citizen_from_registration_to_a_verified_certificate(db, live_server, browser, tmp_path, width,
                                                                      javascript):
    h = await hall(certificate=True)
    await name_officers(h)
    person = await factories.person(name="林晓彤", male=False)
    card, contract = tmp_path / "身份证.png", tmp_path / "购房合同.pdf"
    card.write_bytes(scanned_id_card())
    contract.write_bytes(purchase_contract())
    citizen = await screen(browser, live_server, width, javascript=javascript)
    page = citizen.page

    # Register and activate the personal page against the registry.
    await citizen.go("/")
    await page.get_by_role("link", name="注册", exact=True).first.click()
    await page.wait_for_url("**/register")  # the boosted swap done: the header link below is the new page's
    await page.get_by_label("手机号码").wait_for()
    register = page.locator(".user-nav").get_by_role("link", name="注册")
    await register.hover()  # where the pointer rests after that click: the words must stay readable
    ink, paper = await register.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert ink != paper
    await page.get_by_label("手机号码").fill("13700000011")
    await page.get_by_label("称呼").fill("小林")
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_label("确认密码").fill(PASSWORD)
    await citizen.shot("citizen-01-register")
    await (await citizen.reachable(page.get_by_role("button", name="注册"))).click()
    await page.get_by_text("注册成功，请登录。").wait_for()
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.get_by_role("link", name="立即激活").click()
    await page.get_by_label("身份证号码").fill(person.id_number)
    await page.get_by_label("社会保障卡号").fill(person.ssc_number)
    await citizen.shot("citizen-02-activate")
    await (await citizen.reachable(page.get_by_role("button", name="激活"))).click()
    await page.get_by_text("您的个人网页已激活。").wait_for()
    assert person.id_number not in await page.inner_text("main")  # masked
    await citizen.shot("citizen-03-my-page")

    # Find the guide, apply: the registry fills the name and ID number, the person types the rest and uploads.
    await citizen.go(f"/services/{ITEM}")
    await page.get_by_role("link", name="在线办理").click()
    await page.get_by_role("heading", name="户口迁移", level=1).wait_for()
    assert await page.get_by_label("申请人姓名").input_value() == "林晓彤"
    assert person.id_number[:6] + "********" + person.id_number[-4:] in await page.inner_text("#field-id_number")
    await page.get_by_label("联系电话").fill("13812345678")
    await page.get_by_label("迁移原因").select_option("购房落户")
    await page.get_by_label("迁入地址").fill("广东省珠海市香洲区凤凰北路18号3栋502房")
    await page.locator("#f-file_id_card").set_input_files(card)
    await page.locator("#f-file_proof").set_input_files(contract)
    await citizen.shot("citizen-04-apply")
    await (await citizen.reachable(page.get_by_role("button", name="提交申请"))).click()
    await page.get_by_text("申请已提交。请保存办件编号和查询码，以便查询进度。").wait_for()
    case_no = page.url.rsplit("/", 1)[-1]
    case = await Case.objects().where(Case.case_no == case_no).first()
    assert (case.state, case.holder_person, case.limit_days) == ("submitted", person.id, 5)
    summary = await page.inner_text("main")
    assert case_no in summary and case.query_code in summary
    assert "待受理 剩余 5 个工作日" in summary
    await citizen.shot("citizen-05-submitted")
    # Both files are kept as they were sent, under their SHA-256.
    kept = await CaseMaterial.select(CaseMaterial.key, CaseMaterial.material.sha256.as_alias("sha256")).where(
        CaseMaterial.case == case.id)
    assert {r["key"]: r["sha256"] for r in kept} == {"id_card": hashlib.sha256(card.read_bytes()).hexdigest(),
                                                     "proof": hashlib.sha256(contract.read_bytes()).hexdigest()}
    assert await filestore.read(hashlib.sha256(contract.read_bytes()).hexdigest()) == contract.read_bytes()

    # The front desk accepts; the police review and decide. Each officer in their own browser, logged in once.
    for officer, queue, button, opinion, after, step in (
            (h.clerk, "待受理（综合窗口）", "受理", "", "已受理，审查中 剩余 5 个工作日", "06-clerk"),
            (h.reviewer, "待审查", "提交审查意见", "材料齐全，符合迁入条件，拟同意。", "已审查，待决定 剩余 5 个工作日",
             "07-reviewer"),
            (h.approver, "待决定", "准予", "准予迁入。", "已办结（准予） 用时 0 个工作日办结", "08-approver")):
        desk = await screen(browser, live_server, width, javascript=javascript)
        await log_in(desk, officer.mobile)
        await officer_acts(desk, queue, case_no, button, opinion, after, step)
        assert desk.problems == []
        await desk.page.context.close()

    # The citizen sees the whole way on the case page and takes the signed certificate.
    await citizen.go(f"/cases/{case_no}")
    await case.refresh()
    assert case.state == "approved"
    main = await page.inner_text("main")
    assert "已办结（准予）" in main and f"用时 {case.days_used} 个工作日办结" in main
    steps = page.locator(".timeline-step")
    assert [t.split("\n")[0].split(" ")[0] for t in await steps.all_inner_texts()] == [
        "提交申请", "受理", "审查", "决定：准予"]
    assert "郑家豪" in await steps.nth(2).inner_text() and "拟同意" in await steps.nth(2).inner_text()
    assert "冯建华" in await steps.nth(3).inner_text() and "准予迁入。" in await steps.nth(3).inner_text()
    await citizen.shot("citizen-09-approved")
    applicant = await User.objects().where(User.mobile == "13700000011").first()
    assert (applicant.person, case.applicant) == (person.id, applicant.id)
    assert [(r["action"], r["actor"]) for r in await CaseStep.select(CaseStep.action, CaseStep.actor).where(
        CaseStep.case == case.id).order_by(CaseStep.id)] == [
        ("submit", applicant.id), ("accept", h.clerk.id), ("review", h.reviewer.id), ("approve", h.approver.id)]
    cert = await Certificate.objects().where(Certificate.case == case.id).first()
    assert (cert.holder_person, cert.state) == (person.id, "issued")
    download = await citizen.reachable(page.locator("#certificates").get_by_role("link", name="下载PDF"))
    async with page.expect_download() as download_info:
        await download.click()
    saved = tmp_path / "户口迁移证明.pdf"
    await (await download_info.value).save_as(saved)
    data = saved.read_bytes()
    assert hashlib.sha256(data).hexdigest() == cert.pdf_sha256 and await signature_ok(data)

    # Anyone may check the file on /verify: choose it, and the page says which certificate it is and that it is whole.
    await citizen.go("/verify")
    await page.get_by_label("证照PDF文件").set_input_files(saved)
    await (await citizen.reachable(page.get_by_role("button", name="核验"))).click()
    await page.get_by_text("该文件是签发部门出具的未经改动的原件。").wait_for()
    verdict = await page.inner_text("main")
    assert "此证照有效。" in verdict and cert.cert_no in verdict and "林晓彤" not in verdict  # the name masked
    await citizen.shot("citizen-10-verified")
    assert await AuditEvent.count().where(AuditEvent.action == "certificate.check_file",
                                          AuditEvent.subject_key == cert.cert_no) == 1
    assert citizen.problems == []
