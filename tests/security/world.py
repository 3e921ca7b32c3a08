"""One lived-in hall for the security suite: a citizen who owns one of everything the app has a URL for (cases, a
certificate, a library file, a child, an enterprise with an agent, a complaint, a rating's rectification, a dispute,
a bundle), and the people who try to reach it — one of each role, none of whom it belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.accounts.sessions import SESSION_COOKIE, create_session
from app.accounts.sessions import current_user_by_id as as_current
from app.audit.tables import AuditEvent, DataAccess
from app.bundles.tables import BundleCase
from app.catalog.tables import SearchSynonym
from app.certificates.tables import Certificate
from app.filings import workflow
from app.filings.tables import Case, CaseMaterial, Material
from app.lifelong.tables import AccessDispute
from app.registry.tables import Department
from app.supervision.tables import Complaint, Rectification
from app.web.security import CSRF_COOKIE
from app.workdays import calendar
from tests import factories
from tests.bundle_fixture import BUNDLE, VALUES, bundle_hall, files
from tests.filing_fixture import ITEM, VALID_FORM, apply_form, both_files, submit

# The officers who try: name → (roles, department code); none of them works where the owner's cases are handled.
OFFICERS = {
    "proxy_agent": (("proxy_agent",), "ZH-DM-JA-HALL"),
    "clerk": (("clerk",), "ZH-XZ-HALL"),  # another hall's front desk
    "reviewer": (("reviewer",), "ZH-MARKET"),
    "approver": (("approver",), "ZH-HEALTH"),  # an approver of another department
    "supervisor": (("supervisor",), "ZH-JW-HALL"),
    "catalog_admin": (("catalog_admin",), "ZH-HALL"),
}
# Besides them: a visitor; an activated citizen; a stranger (an account with no registry person behind it); the
# guardian of another child; the legal representative and an agent of another enterprise.
ROLES = ("anonymous", "citizen", "stranger", "guardian", "ent_rep", "ent_agent", *OFFICERS)


@dataclass
class Actor:
    name: str
    user_id: int | None = None
    mobile: str = ""
    officer_roles: frozenset[str] = frozenset()
    session: str = ""

    @property
    def is_officer(self) -> bool:
        return bool(self.officer_roles)


@dataclass
class World:
    """`params` fills every path parameter of the route table with an object the actors do not own."""

    owner: Actor
    insider: Actor  # an approver of the department that handles the owner's cases
    actors: dict[str, Actor]
    params: dict[str, str]
    library_material_id: str = ""
    csrf: str = ""

    def url(self, path: str) -> str:
        """The route's path (`/cases/{case_no:str}`) with the owner's objects in it."""
        params = dict(self.params)
        if path.startswith("/me/materials/"):  # the owner's library, not a case's attachment
            params["material_id"] = self.library_material_id
        if "/apply/check/" in path:  # a field of the item's form, not a work queue
            params["key"] = "mobile"
        if path.startswith(("/bundles/", "/office/catalog/bundles/")):  # a bundle's code, not an item's
            params["code"] = BUNDLE
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: params[m.group(1)], path)

    def cookies(self, actor: Actor) -> dict[str, str]:
        """What the actor's browser holds: the CSRF cookie, and their session if they are logged in."""
        jar = {CSRF_COOKIE: self.csrf}
        if actor.session:
            jar[SESSION_COOKIE] = actor.session
        return jar


async def session_of(actor: Actor) -> str:
    """A session as a login makes it (logging in itself, argon2 and all, is tested in accounts)."""
    return await create_session(actor.user_id, "127.0.0.1", "security suite")


async def sign_in(client: Any, user_id: int) -> None:
    """The client's browser now holds a fresh session of this user (and no other cookie)."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, await create_session(user_id, "127.0.0.1", "security suite"),
                       domain="testserver.local")


async def _filed(client: Any, h: Any) -> dict[str, Any]:
    key = await apply_form(client)
    response = await submit(client, key, files=both_files(), form={**VALID_FORM, "id_number": h.person.id_number})
    assert response.status_code == 303, response.text
    return await workflow.load_case((await Case.select(Case.case_no).where(Case.idempotency_key == key).first())[
        "case_no"])


async def build(client: Any) -> World:
    b = await bundle_hall()
    h = b.h
    owner = Actor("owner", h.citizen.id, h.citizen.mobile)
    await sign_in(client, owner.user_id)

    # Two cases of the owner at the police: one waiting at the front desk, one approved with a certificate whose
    # bad rating opened a rectification task; a complaint about the first; a bundle.
    waiting = await _filed(client, h)
    decided = await _filed(client, h)
    for officer, act in ((h.clerk, workflow.accept_case), (h.reviewer, workflow.review_case),
                         (h.approver, workflow.approve_case)):
        kwargs = {} if act is workflow.accept_case else {"opinion": "同意"}
        decided = await act(decided, await as_current(officer.id), ip="", **kwargs)
    rated = await factories.post(client, f"/cases/{decided['case_no']}/rating",
                                 {"level": "2", "tags": ["slow"], "comment": "跑了三趟。"})
    assert rated.status_code == 303, rated.text
    complained = await factories.post(client, "/complaints/new", {"kind": "complaint", "case": waiting["case_no"],
                                                                  "subject": "窗口态度差", "body": "不耐烦。"})
    assert complained.status_code == 303, complained.text
    page = await client.get(f"/bundles/{BUNDLE}")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    bundled = await factories.post(client, f"/bundles/{BUNDLE}", {
        **VALUES, "id_number": h.person.id_number, "key": key, "action": "submit", "delivery": "window"},
        files=files())
    assert bundled.status_code == 303, bundled.text

    # The front desk opens the waiting case (a line on the owner's access log), which the owner disputes.
    await sign_in(client, h.clerk.id)
    assert (await client.get(f"/office/cases/{waiting['case_no']}")).status_code == 200
    access = await DataAccess.select().where(DataAccess.holder_person == h.person.id).first()
    await sign_in(client, owner.user_id)
    disputed = await factories.post(client, f"/me/access-log/{access['id']}/dispute", {"reason": "不是我办的。"})
    assert disputed.status_code == 303, disputed.text
    client.cookies.clear()

    # The owner's child, and their enterprise with an agent.
    child = await factories.person(name="陈小宝", birth=date.today() - timedelta(days=400))
    await factories.guardian_of(h.person, child)
    firm = await factories.entity(h.person, name="珠海市海韵科技有限公司")
    await factories.member(firm, h.citizen)
    agent_user, _agent = await factories.citizen(name="黄丽华")
    agent = await factories.member(firm, agent_user, "agent", scope="all",
                                   expires_on=date.today() + timedelta(days=300))

    admin = await factories.officer(h.hall, "catalog_admin")
    await calendar.set_day(date(2026, 10, 9), False, "测试假日", author_id=admin.id, ip="")

    actors = {"anonymous": Actor("anonymous")}
    citizen, _ = await factories.citizen(name="李明")
    actors["citizen"] = Actor("citizen", citizen.id, citizen.mobile)
    stranger = await factories.user()  # registered, no registry person behind the account
    actors["stranger"] = Actor("stranger", stranger.id, stranger.mobile)
    guardian, guardian_person = await factories.citizen(name="赵父")
    await factories.guardian_of(guardian_person, await factories.person(name="赵儿", birth=date(2020, 5, 1)))
    actors["guardian"] = Actor("guardian", guardian.id, guardian.mobile)
    rep, rep_person = await factories.citizen(name="孙总")
    other_firm = await factories.entity(rep_person, name="珠海市另一家有限公司")
    await factories.member(other_firm, rep)
    actors["ent_rep"] = Actor("ent_rep", rep.id, rep.mobile)
    other_agent, _ = await factories.citizen(name="周办")
    await factories.member(other_firm, other_agent, "agent", scope="all", expires_on=date.today() + timedelta(days=30))
    actors["ent_agent"] = Actor("ent_agent", other_agent.id, other_agent.mobile)
    departments = {d["code"]: d["id"] for d in await Department.select(Department.code, Department.id)}
    for name, (roles, code) in OFFICERS.items():
        officer = await factories.officer(await Department.objects().get(Department.id == departments[code]),
                                          *roles)
        actors[name] = Actor(name, officer.id, officer.mobile, frozenset(roles))
    insider = Actor("insider", h.approver.id, h.approver.mobile, frozenset({"approver"}))
    for actor in [*actors.values(), owner, insider]:
        if actor.user_id is not None:
            actor.session = await session_of(actor)

    cert = await Certificate.select(Certificate.cert_no).where(Certificate.case == decided["id"]).first()
    library = await Material.select(Material.id).where(Material.holder_person == h.person.id).first()
    case_material = await CaseMaterial.select(CaseMaterial.id).where(CaseMaterial.case == waiting["id"]).first()
    params = {
        "code": ITEM,
        "case_no": waiting["case_no"],
        "material_id": str(case_material["id"]),
        "child_id": str(child.id),
        "uscc": firm.uscc,
        "member_id": str(agent.id),
        "access_id": str(access["id"]),
        "complaint_no": (await Complaint.select(Complaint.complaint_no).first())["complaint_no"],
        "dispute_id": str((await AccessDispute.select(AccessDispute.id).first())["id"]),
        "task_id": str((await Rectification.select(Rectification.id).first())["id"]),
        "department_id": str(h.police.id),
        "cert_no": cert["cert_no"],
        "name": f"{cert['cert_no']}.pdf",
        "bundle_no": (await BundleCase.select(BundleCase.bundle_no).first())["bundle_no"],
        "synonym_id": str((await SearchSynonym.select(SearchSynonym.id).first())["id"]),
        "day": "2026-10-09",
        "key": "accept",
        "file_path": "css/app.css",
    }
    # /me/materials/{material_id} is the owner's library, /cases/{case_no}/materials/{material_id} the case's.
    world = World(owner=owner, insider=insider, actors=actors, params=params, library_material_id=str(library["id"]))
    world.csrf = await csrf_token(client)
    assert not await AuditEvent.exists().where(AuditEvent.outcome == "denied")
    return world


async def csrf_token(client: Any) -> str:
    client.cookies.clear()
    await client.get("/login")
    token = client.cookies.get(CSRF_COOKIE)
    client.cookies.clear()
    return token


