"""Accessibility in Chromium on the demo city: axe-core on every page type of the route table (at 1280 px), the
apply journey by keyboard alone, and the elderly-friendly mode (适老化) toggled from the header."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from axe_playwright_python.base import AXE_SCRIPT

from app.accounts.tables import OfficerRole, User
from app.bundles.tables import BundleCase
from app.cache import forget_all
from app.certificates.tables import Certificate
from app.demo import DEMO_PASSWORD
from app.filings.tables import Case, CaseMaterial
from app.lifelong.tables import EnterpriseMember
from app.registry.tables import GuardianLink
from app.settings import ROOT
from app.supervision.tables import Complaint, Rectification
from tests.browser.conftest import launched
from tests.conftest import empty_database, process_env

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 900}
GUIDE = "440400-SCJG-002"  # 营业执照变更登记: the README's worked example, with a firm to choose and uploads
BUNDLE = "440400-YJS-KBQY"  # 开办企业
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """One event loop for the module, so the seeded city, the browser and its logged-in contexts are shared."""
    return "asyncio"


@dataclass(frozen=True)
class Demo:
    """Where the demo city's pages are: numbers and ids read from the seeded database."""

    mobiles: dict[str, str]
    case_no: str  # 陈志明's rated licence renewal, with a rectification the police answered
    query_code: str
    rectification_id: int
    department_id: int
    open_case_no: str  # 黄丽华's case waiting at the front desk
    child_id: int
    uscc: str
    cert_no: str
    firm_cert_no: str
    bundle_no: str
    suggestion_no: str  # 黄丽华's, answered
    complaint_no: str  # a neighbour's, about an overdue case


async def _officer(department_id: int, role: str) -> str:
    row = await OfficerRole.select(OfficerRole.user.mobile.as_alias("mobile")).where(
        OfficerRole.user.department == department_id, OfficerRole.role == role).order_by(OfficerRole.id).first()
    return row["mobile"]


async def load_demo() -> Demo:
    users = {r["mobile"]: r for r in await User.select(User.id, User.mobile, User.person, User.department).where(
        User.mobile.is_in(["13800000001", "13800000002", "13900000001"]))}
    father, mother, clerk = users["13800000001"], users["13800000002"], users["13900000001"]
    task = await Rectification.select(
        Rectification.id, Rectification.department, Rectification.case.case_no.as_alias("case_no"),
        Rectification.case.query_code.as_alias("query_code"),
    ).where(Rectification.case.applicant == father["id"]).first()
    open_case = await Case.select(Case.case_no).where(
        Case.applicant == mother["id"], Case.state == "submitted", Case.hall == clerk["department"]).first()
    child = await GuardianLink.select(GuardianLink.child).where(GuardianLink.guardian == father["person"]).first()
    firm = await EnterpriseMember.select(EnterpriseMember.entity.uscc.as_alias("uscc"),
                                         EnterpriseMember.entity.id.as_alias("id")).where(
        EnterpriseMember.user == father["id"]).first()
    cert = await Certificate.select(Certificate.cert_no).where(
        Certificate.holder_person == father["person"]).first()
    firm_cert = await Certificate.select(Certificate.cert_no, Certificate.department).where(
        Certificate.holder_entity == firm["id"]).first()
    bundle = await BundleCase.select(BundleCase.bundle_no).where(BundleCase.applicant == mother["id"]).first()
    suggestion = await Complaint.select(Complaint.complaint_no).where(Complaint.filer == mother["id"]).first()
    complaint = await Complaint.select(Complaint.complaint_no, Complaint.department).where(
        Complaint.kind == "complaint").first()
    mobiles = {
        "citizen": "13800000001", "mother": "13800000002", "newcomer": "13800000003",
        "clerk": "13900000001", "approver": "13900000003", "supervisor": "13900000004",
        "catalog_admin": "13900000005", "proxy_agent": "13900000006",
        "police_approver": await _officer(task["department"], "approver"),
        "complaint_handler": await _officer(complaint["department"], "approver"),
    }
    assert firm_cert["department"] == (await User.select(User.department).where(
        User.mobile == mobiles["approver"]).first())["department"]
    return Demo(
        mobiles=mobiles, case_no=task["case_no"], query_code=task["query_code"], rectification_id=task["id"],
        department_id=task["department"], open_case_no=open_case["case_no"], child_id=child["child"],
        uscc=firm["uscc"], cert_no=cert["cert_no"], firm_cert_no=firm_cert["cert_no"],
        bundle_no=bundle["bundle_no"], suggestion_no=suggestion["complaint_no"],
        complaint_no=complaint["complaint_no"],
    )


@pytest.fixture(scope="module")
async def demo(live_server: str) -> Demo:
    """The demo city, seeded through the real workflow into the live server's database by the operator's command
    (with a connection pool, which the test process does without: a connection per query is slow on PostgreSQL)."""
    await empty_database()
    forget_all()
    await anyio.run_process([sys.executable, "-m", "app", "seed", "--demo"], cwd=ROOT,
                            env=process_env())
    return await load_demo()


@pytest.fixture(scope="module")
async def chromium(chromium_path: str) -> AsyncIterator[Any]:
    async with launched(chromium_path) as instance:
        yield instance


class Sessions:
    """One browser context per demo login, logged in once through the login form, and one tab in it, reused
    (opening a tab costs more than loading a page)."""

    def __init__(self, browser: Any, base: str, demo: Demo) -> None:
        self.browser, self.base, self.demo = browser, base, demo
        self.contexts: dict[str, Any] = {}
        self.pages: dict[str, Any] = {}
        self.elderly = False

    async def set_elderly(self, on: bool) -> None:
        """The elderly-friendly mode's cookie, as the header's toggle sets it, in every context now and later."""
        self.elderly = on
        for context in self.contexts.values():
            await self._apply_mode(context)

    async def _apply_mode(self, context: Any) -> None:
        if self.elderly:
            await context.add_cookies([{"name": "yw_elderly", "value": "1", "url": self.base}])
        else:
            await context.clear_cookies(name="yw_elderly")

    async def page(self, role: str) -> Any:
        if role not in self.contexts:
            context = await self.browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=self.base)
            await context.add_init_script(script=AXE_SCRIPT)
            await self._apply_mode(context)
            self.contexts[role] = context
            page = self.pages[role] = await context.new_page()
            page.set_default_timeout(15_000)
            if role != "anonymous":
                await log_in(page, self.demo.mobiles[role])
        return self.pages[role]

    async def close(self) -> None:
        for context in self.contexts.values():
            await context.close()


async def log_in(page: Any, mobile: str) -> None:
    await page.goto("/login")
    await page.get_by_label("手机号码").fill(mobile)
    await page.get_by_label("密码").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="module")
async def sessions(chromium: Any, live_server: str, demo: Demo) -> AsyncIterator[Sessions]:
    s = Sessions(chromium, live_server, demo)
    yield s
    await s.close()


# --- every page type ---------------------------------------------------------------------------------------------

Step = Callable[[Any, Demo], Awaitable[None]]


@dataclass(frozen=True)
class Sample:
    """A page to check: who opens it, where, and what they do there first (an empty submit shows the errors)."""

    role: str
    url: Callable[[Demo], str]
    then: Step | None = None
    status: int = 200
    note: str = ""


def at(path: str) -> Callable[[Demo], str]:
    return lambda _d: path


async def submit_empty(page: Any, button: str) -> None:
    await page.get_by_role("button", name=button, exact=True).first.click()
    await page.locator("[aria-invalid=true], .form-error").first.wait_for()


async def submit_cleared(page: Any, _demo: Demo) -> None:
    """Everything is prefilled from the registry and the last case: empty the typed fields, then submit."""
    fields = page.locator("#apply-form").locator("input[type=text], input[type=tel], textarea")
    for i in range(await fields.count()):
        await fields.nth(i).fill("")
    await submit_empty(page, "提交申请")


async def wrong_login(page: Any, _demo: Demo) -> None:
    await page.get_by_label("手机号码").fill("13700009999")  # no such account: locks nobody out
    await page.get_by_label("密码").fill("not-the-password")
    await page.get_by_role("button", name="登录").click()
    await page.locator(".form-error").wait_for()


def track(code: Callable[[Demo], str]) -> Step:
    async def steps(page: Any, demo: Demo) -> None:
        await page.get_by_label("办件编号").fill(demo.case_no)
        await page.get_by_label("查询码").fill(code(demo))
        await page.get_by_role("button", name="查询").click()
        await page.locator(".form-error, main h2").first.wait_for()
    return steps


# Every GET route of the app: the pages each with samples, and what is no page (files, data, images).
NOT_PAGES = {
    "/healthz": "JSON for the load balancer",
    "/static/{file_path:path}": "static files",
    "/certificates/{name:str}": "a certificate's PDF",
    "/cases/{case_no:str}/materials/{material_id:int}": "an uploaded material (PDF or image)",
    "/office/cases/{case_no:str}/materials/{material_id:int}": "an uploaded material (PDF or image)",
    "/me/materials/{material_id:int}/file": "an uploaded material (PDF or image)",
    "/me/export": "the holder's data as a download",
    "/stats/charts/months.svg": "an SVG chart (its page shows it with its data table)",
    "/supervision/charts/months.svg": "an SVG chart (its page shows it with its data table)",
    "/supervision/charts/on-time.svg": "an SVG chart (its page shows it with its data table)",
    "/supervision/charts/satisfaction.svg": "an SVG chart (its page shows it with its data table)",
    "/supervision/export.csv": "CSV",
    "/supervision/departments/{department_id:int}/cases.csv": "CSV",
}

PAGES: dict[str, tuple[Sample, ...]] = {
    "/": (Sample("anonymous", at("/")), Sample("citizen", at("/"))),
    "/services": (Sample("anonymous", at("/services")), Sample("anonymous", at("/services?q=社保"))),
    "/services/{code:str}": (Sample("anonymous", at(f"/services/{GUIDE}")),),
    "/services/{code:str}/print": (Sample("anonymous", at(f"/services/{GUIDE}/print")),),
    "/services/{code:str}/apply": (
        Sample("citizen", lambda d: f"/services/{GUIDE}/apply?as={d.uscc}"),
        Sample("citizen", lambda d: f"/services/{GUIDE}/apply?as={d.uscc}", submit_cleared, note="errors"),
        Sample("citizen", at(f"/services/{GUIDE}/apply"), status=422, note="for himself: only firms may"),
    ),
    "/login": (Sample("anonymous", at("/login")), Sample("anonymous", at("/login"), wrong_login, note="errors")),
    "/register": (Sample("anonymous", at("/register")),
                  Sample("anonymous", at("/register"), lambda p, _d: submit_empty(p, "注册"), note="errors")),
    "/activate": (Sample("newcomer", at("/activate")),
                  Sample("newcomer", at("/activate"), lambda p, _d: submit_empty(p, "激活"), note="errors")),
    "/enterprise/activate": (Sample("newcomer", at("/enterprise/activate")),),
    "/me": (Sample("citizen", at("/me")),),
    "/me/cases": (Sample("citizen", at("/me/cases")),),
    "/me/certificates": (Sample("citizen", at("/me/certificates")),),
    "/me/materials": (Sample("citizen", at("/me/materials")),),
    "/me/todos": (Sample("citizen", at("/me/todos")),),
    "/me/access-log": (Sample("mother", at("/me/access-log")),),
    "/me/complaints": (Sample("mother", at("/me/complaints")),),
    "/me/children/{child_id:int}": (Sample("citizen", lambda d: f"/me/children/{d.child_id}"),),
    "/enterprise/{uscc:str}": (Sample("citizen", lambda d: f"/enterprise/{d.uscc}"),),
    "/enterprise/{uscc:str}/members": (Sample("citizen", lambda d: f"/enterprise/{d.uscc}/members"),),
    "/cases/{case_no:str}": (Sample("citizen", lambda d: f"/cases/{d.case_no}"),
                             Sample("mother", lambda d: f"/cases/{d.open_case_no}")),
    "/cases/{case_no:str}/rating": (Sample("citizen", lambda d: f"/cases/{d.case_no}/rating"),),
    "/track": (Sample("anonymous", at("/track")),),
    "/verify": (Sample("anonymous", at("/verify")),),
    "/verify/{cert_no:str}": (Sample("anonymous", lambda d: f"/verify/{d.cert_no}"),),
    "/bundles": (Sample("anonymous", at("/bundles")),),
    "/bundles/{code:str}": (Sample("citizen", at(f"/bundles/{BUNDLE}")),),
    "/bundle-cases/{bundle_no:str}": (Sample("mother", lambda d: f"/bundle-cases/{d.bundle_no}"),),
    "/complaints/new": (Sample("citizen", at("/complaints/new")),),
    "/complaints/{complaint_no:str}": (Sample("mother", lambda d: f"/complaints/{d.suggestion_no}"),),
    "/office": (Sample("clerk", at("/office")),),
    "/office/queue/{key:str}": (Sample("clerk", at("/office/queue/accept")),),
    "/office/cases/{case_no:str}": (Sample("clerk", lambda d: f"/office/cases/{d.open_case_no}"),),
    "/office/proxy": (Sample("proxy_agent", at("/office/proxy")),),
    "/office/certificates/{cert_no:str}": (Sample("approver", lambda d: f"/office/certificates/{d.firm_cert_no}"),),
    "/office/catalog": (Sample("catalog_admin", at("/office/catalog")),),
    "/office/catalog/synonyms": (Sample("catalog_admin", at("/office/catalog/synonyms")),),
    "/office/catalog/{code:str}": (Sample("catalog_admin", at(f"/office/catalog/{GUIDE}")),),
    "/office/catalog/{code:str}/versions": (Sample("catalog_admin", at(f"/office/catalog/{GUIDE}/versions")),),
    "/office/catalog/bundles": (Sample("catalog_admin", at("/office/catalog/bundles")),),
    "/office/catalog/bundles/new": (Sample("catalog_admin", at("/office/catalog/bundles/new")),),
    "/office/catalog/bundles/{code:str}": (Sample("catalog_admin", at(f"/office/catalog/bundles/{BUNDLE}")),),
    "/office/calendar": (Sample("catalog_admin", at("/office/calendar")),),
    "/office/complaints": (Sample("complaint_handler", at("/office/complaints")),),
    "/office/complaints/{complaint_no:str}": (
        Sample("complaint_handler", lambda d: f"/office/complaints/{d.complaint_no}"),),
    "/office/rectifications": (Sample("police_approver", at("/office/rectifications")),),
    "/office/rectifications/{task_id:int}": (
        Sample("police_approver", lambda d: f"/office/rectifications/{d.rectification_id}"),),
    "/supervision": (Sample("supervisor", at("/supervision")),),
    "/supervision/departments/{department_id:int}": (
        Sample("supervisor", lambda d: f"/supervision/departments/{d.department_id}"),),
    "/supervision/appeals": (Sample("supervisor", at("/supervision/appeals")),),
    "/supervision/complaints": (Sample("supervisor", at("/supervision/complaints")),),
    "/supervision/complaints/{complaint_no:str}": (
        Sample("supervisor", lambda d: f"/supervision/complaints/{d.complaint_no}"),),
    "/supervision/disputes": (Sample("supervisor", at("/supervision/disputes")),),
    "/stats": (Sample("anonymous", at("/stats")),),
}
# States a route reaches only by a form post, and the error pages.
MORE = (
    ("/track", Sample("anonymous", at("/track"), track(lambda d: d.query_code), note="result")),
    ("/track", Sample("anonymous", at("/track"), track(lambda _d: "ZZZZZZ"), note="wrong code")),
    ("404", Sample("anonymous", at("/no-such-page"), status=404)),
    ("404", Sample("citizen", at("/cases/0000000000000000"), status=404)),
    ("403", Sample("citizen", at("/office"), status=403)),
)


def get_routes() -> set[str]:
    from app.main import create_app

    return {route.path for route in create_app().routes if "GET" in getattr(route, "methods", ())}


def test_every_page_route_has_samples():
    """A new GET route must be declared here: with the pages to check, or as no page."""
    routes = get_routes()
    assert routes - PAGES.keys() - NOT_PAGES.keys() == set(), "new routes: add samples to PAGES or to NOT_PAGES"
    assert (PAGES.keys() | NOT_PAGES.keys()) - routes == set(), "routes gone: remove them here"


async def check(sessions: Sessions, demo: Demo, label: str, sample: Sample, *, rules: dict[str, Any] | None = None
                ) -> list[dict[str, Any]]:
    """axe-core's violations on the sample's page, each with where it was found."""
    page = await sessions.page(sample.role)
    response = await page.goto(sample.url(demo))
    assert response.status == sample.status, f"{label} {sample.url(demo)}: {response.status}"
    assert "text/html" in response.headers["content-type"]
    if sample.then is not None:
        await sample.then(page, demo)
    options: dict[str, Any] = {"resultTypes": ["violations"], "rules": rules or {}}
    results = await page.evaluate("options => axe.run(document, options)", options)
    where = f"{label} as {sample.role}{' (' + sample.note + ')' if sample.note else ''}: {page.url}"
    return [{"page": where, "rule": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [" ".join(map(str, n["target"])) for n in v["nodes"][:6]]} for v in results["violations"]]


def blocking(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['page']}: {v['rule']} ({v['impact']}) {v['help']}: {'; '.join(v['nodes'])}"
                     for v in violations if v["impact"] in BLOCKING)


async def test_axe_finds_nothing_serious_on_any_page(demo, sessions, artifacts):
    samples = [(route, s) for route, group in PAGES.items() for s in group] + list(MORE)
    found: list[dict[str, Any]] = []
    for route, sample in samples:
        found += await check(sessions, demo, route, sample)
    # Every finding, the moderate and minor ones too, for whoever looks at the CI artifacts.
    (artifacts / "axe.json").write_text(json.dumps({"pages": len(samples), "violations": found},
                                                   ensure_ascii=False, indent=1))
    assert blocking(found) == ""


# --- the apply journey by keyboard alone -------------------------------------------------------------------------

KEYBOARD_ITEM = "440402-GA-004"  # 居住证签注: one material to upload (the ID card comes from the library)

FOCUSED = """() => {
  const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {tag: e.tagName, id: e.id, type: e.getAttribute('type') || '', href: e.getAttribute('href') || '',
          text: (e.innerText || e.value || '').trim().slice(0, 40), outline: s.outlineStyle,
          outlineWidth: parseFloat(s.outlineWidth), focus: e.matches(':focus'),
          visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.left < innerWidth};
}"""


async def tab_to(page: Any, wanted: Callable[[dict[str, Any]], bool], *, back: bool = False) -> dict[str, Any]:
    """Tab (or Shift+Tab) until `wanted` has the focus; every stop on the way must show where the focus is."""
    for _ in range(80):
        await page.keyboard.press("Shift+Tab" if back else "Tab")
        # A date field hands the focus on to its year part a moment later; until then nothing matches :focus.
        for _wait in range(20):
            focused = await page.evaluate(FOCUSED)
            if focused["focus"]:
                break
            await page.wait_for_timeout(100)
        if focused["tag"] == "BODY":
            continue  # past the last (or first) element, the browser's own UI has the focus
        if focused["type"] == "date" and not focused["focus"]:
            continue  # on the date field's own calendar button, which Chromium rings itself (no CSS reaches it)
        assert focused["outline"] != "none" and focused["outlineWidth"] >= 2, f"focus not visible on {focused}"
        assert focused["visible"], f"focus on something not on screen: {focused}"
        if wanted(focused):
            return focused
    raise AssertionError("the keyboard never got there")


def by_id(element_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["id"] == element_id


def by_text(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["text"] == text


async def test_apply_by_keyboard_alone(demo, chromium, live_server, artifacts, tmp_path):
    """From a guide to a submitted case with Tab, Shift+Tab, Enter and Space (and typing): no mouse at all."""
    from tests.filing_fixture import png_bytes

    scan = tmp_path / "residence-permit.png"
    scan.write_bytes(png_bytes())
    context = await chromium.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    # Intercepting file choosers is switched on by the first listener; switched on here, well before the Space
    # press, it cannot lose a race with it.
    page.on("filechooser", lambda _chooser: None)
    try:
        await page.goto(f"/services/{KEYBOARD_ITEM}")
        # The first Tab shows the skip link; Enter on it puts the focus on the main content.
        skip = await tab_to(page, lambda f: True)
        assert (skip["text"], skip["href"]) == ("跳到正文", "#main")
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"
        first_in_main = await tab_to(page, lambda f: True)
        assert await page.evaluate("document.querySelector('main').contains(document.activeElement)"), first_in_main

        await tab_to(page, by_text("在线办理"))
        await page.keyboard.press("Enter")
        await page.wait_for_url(lambda url: "/login?next=" in url, wait_until="commit")
        await page.get_by_label("手机号码").wait_for()
        await tab_to(page, by_id("f-mobile"))
        await page.keyboard.type(demo.mobiles["citizen"])
        await tab_to(page, by_id("f-password"))
        await page.keyboard.type(DEMO_PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"**/services/{KEYBOARD_ITEM}/apply", wait_until="commit")
        await page.get_by_role("heading", name="居住证签注", level=1).wait_for()

        # The file first: Space on the focused file input opens the chooser, as it does for a keyboard user.
        await tab_to(page, by_id("f-file_permit"))
        async with page.expect_file_chooser() as chooser:
            await page.keyboard.press("Space")
        await (await chooser.value).set_files(scan)
        assert await page.locator("#f-file_permit").evaluate("e => e.files[0].name") == "residence-permit.png"
        # Then back up to the address, which the registry cannot fill in.
        await tab_to(page, by_id("f-residence_address"), back=True)
        await page.keyboard.type("香洲区凤凰北路18号3栋502房")
        await tab_to(page, by_text("提交申请"))
        await page.screenshot(path=artifacts / "keyboard-apply-1280.png", caret="initial")
        await page.keyboard.press("Enter")
        await page.get_by_text("申请已提交").wait_for()
        case_no = page.url.rsplit("/", 1)[-1]
    finally:
        await context.close()
    case = await Case.select(Case.state, Case.form_data, Case.item.code.as_alias("item_code")).where(
        Case.case_no == case_no).first()
    assert (case["state"], case["item_code"]) == ("submitted", KEYBOARD_ITEM)
    assert json.loads(case["form_data"])["residence_address"] == "香洲区凤凰北路18号3栋502房"
    assert await CaseMaterial.exists().where(CaseMaterial.case.case_no == case_no, CaseMaterial.key == "permit")


# --- the elderly-friendly mode (适老化) -----------------------------------------------------------------------------

MEASURE = """() => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const luminance = c => {
    const [r, g, b] = c.slice(0, 3).map(v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = e => {
    let back = e;
    while (back && rgb(getComputedStyle(back).backgroundColor)[3] === 0) back = back.parentElement;
    const behind = back ? rgb(getComputedStyle(back).backgroundColor) : [255, 255, 255];
    const [a, b] = [luminance(rgb(getComputedStyle(e).color)), luminance(behind)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  };
  const text = document.querySelector('main .card p:not(.muted)'), muted = document.querySelector('main .muted'),
        link = document.querySelector('main a:not(.button)');
  return {body: parseFloat(getComputedStyle(document.body).fontSize), text: parseFloat(getComputedStyle(text).fontSize),
          textContrast: contrast(text), mutedContrast: contrast(muted), linkContrast: contrast(link),
          elderly: document.documentElement.classList.contains('elderly'),
          pressed: document.querySelector('.mode-toggle').getAttribute('aria-pressed')};
}"""


async def toggle(page: Any, *, to: bool) -> None:
    await page.get_by_role("button", name="长者模式").click()
    await page.locator("html.elderly" if to else "html:not(.elderly)").wait_for(state="attached")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_elderly_mode_from_the_header(demo, chromium, live_server, javascript):
    """Larger type and stronger contrast, toggled from the header, kept in a cookie, announced as a pressed
    button; with JavaScript off too, since the toggle is a plain form."""
    context = await chromium.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server,
                                         java_script_enabled=javascript)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    try:
        await page.goto("/login")
        await page.get_by_label("手机号码").fill(demo.mobiles["citizen"])
        await page.get_by_label("密码").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(lambda url: "/login" not in url, wait_until="commit")
        await page.goto("/me")
        normal = await page.evaluate(MEASURE)
        assert (normal["elderly"], normal["pressed"]) == (False, "false")

        await toggle(page, to=True)
        assert page.url.endswith("/me")  # back on the same page
        cookie = next(c for c in await context.cookies() if c["name"] == "yw_elderly")
        assert (cookie["value"], cookie["httpOnly"], cookie["sameSite"]) == ("1", True, "Lax")
        elderly = await page.evaluate(MEASURE)
        assert elderly["pressed"] == "true"
        assert elderly["body"] >= 1.25 * normal["body"] and elderly["text"] >= 1.25 * normal["text"], (normal, elderly)
        for kind in ("textContrast", "mutedContrast", "linkContrast"):
            assert elderly[kind] >= 7 and elderly[kind] >= normal[kind], (kind, normal, elderly)
        assert elderly["mutedContrast"] > normal["mutedContrast"]

        await page.goto(f"/services/{GUIDE}")  # the next page keeps it
        assert await page.locator("html.elderly").count() == 1
        await toggle(page, to=False)
        assert page.url.endswith(f"/services/{GUIDE}")
        assert "yw_elderly" not in {c["name"] for c in await context.cookies()}
        await page.goto("/me")
        assert await page.evaluate(MEASURE) == normal
    finally:
        await context.close()


# Checked again in the elderly-friendly mode, where text must reach 7:1 (axe's AAA contrast rule): a page of each
# kind of part (forms and their errors, tags and states, timelines, tables, tiles, charts). Every page passed when
# the mode was made; these keep it so at a quarter of the time.
ELDERLY_AXE = (
    "/", "/services", "/services/{code:str}", "/services/{code:str}/apply", "/me", "/me/cases", "/me/certificates",
    "/me/access-log", "/cases/{case_no:str}", "/verify/{cert_no:str}", "/bundle-cases/{bundle_no:str}",
    "/complaints/{complaint_no:str}", "/office", "/office/cases/{case_no:str}", "/office/calendar", "/supervision",
    "/stats",
)


async def test_axe_in_elderly_mode_with_aaa_contrast(demo, sessions):
    samples = [(route, s) for route, group in PAGES.items() if route in ELDERLY_AXE for s in group] + list(MORE)
    found: list[dict[str, Any]] = []
    await sessions.set_elderly(True)
    try:
        for route, sample in samples:
            found += await check(sessions, demo, route, sample, rules={"color-contrast-enhanced": {"enabled": True}})
    finally:
        await sessions.set_elderly(False)
    assert blocking(found) == ""


async def test_elderly_mode_pages_at_phone_and_desktop_widths(demo, sessions, chromium, live_server, artifacts):
    """Home, the personal page and an apply form in both modes at 375 and 1280 px: screenshots for the artifacts,
    and nothing pushed sideways by the larger type on a phone."""
    await sessions.page("citizen")
    logged_in = await sessions.contexts["citizen"].storage_state()
    pages = {"home": "/", "me": "/me", "apply": f"/services/{KEYBOARD_ITEM}/apply"}
    for width in (375, 1280):
        for mode in ("normal", "elderly"):
            context = await chromium.new_context(viewport={"width": width, "height": 900}, locale="zh-CN",
                                                 base_url=live_server, storage_state=logged_in)
            if mode == "elderly":
                await context.add_cookies([{"name": "yw_elderly", "value": "1", "url": live_server}])
            page = await context.new_page()
            try:
                for name, url in pages.items():
                    await page.goto(url)
                    assert await page.locator("html.elderly").count() == (mode == "elderly")
                    await page.screenshot(path=artifacts / f"{mode}-{name}-{width}.png", full_page=True,
                                          caret="initial")
                    assert await page.evaluate("document.documentElement.scrollWidth") <= width, (mode, url)
            finally:
                await context.close()
