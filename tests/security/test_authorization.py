"""The authorization matrix: every route of the app's own route table × every kind of user, each path parameter
filled with an object that belongs to someone else. What each route allows is declared below; a route missing
from the declaration fails, so a new route cannot go live without a decision. Every response of the matrix (every
page type, status and user) is also checked for the security headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.accounts.sessions import create_session
from app.audit.tables import AuditEvent
from tests.security.routes import ENDPOINTS, Endpoint
from tests.security.world import ROLES, Actor, World

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Rule:
    """Who gets through; everyone else is refused (and, if logged in, the refusal is audited)."""

    name: str
    allows: Callable[[Actor], bool]


PUBLIC = Rule("public", lambda a: True)
LOGIN = Rule("any logged-in user", lambda a: a.user_id is not None)
CITIZENS = Rule("logged-in citizens (officers file only through proxy consent)",
                lambda a: a.user_id is not None and not a.is_officer)
OFFICERS = Rule("any officer", lambda a: a.is_officer)
NOBODY = Rule("the object's owner (or its department) only: nobody here", lambda a: False)


def officers_with(*roles: str) -> Rule:
    return Rule(f"officers with {' or '.join(roles)}", lambda a: bool(a.officer_roles & set(roles)))


CATALOG_ADMIN = officers_with("catalog_admin")
SUPERVISOR = officers_with("supervisor")
COMPLAINT_HANDLERS = officers_with("approver", "supervisor")  # complaints.HANDLER_ROLES, ratings.ANSWERING_ROLES

# Keyed by "METHOD path" as the route table spells it. "owner" routes (NOBODY) are filled with another citizen's,
# another enterprise's or another department's object, so nobody in the matrix may reach them.
POLICY: dict[str, Rule] = {
    "GET /": PUBLIC,
    "GET /healthz": PUBLIC,
    "GET /static/{file_path:path}": PUBLIC,
    "HEAD /static/{file_path:path}": PUBLIC,
    "GET /services": PUBLIC,
    "GET /services/{code:str}": PUBLIC,
    "GET /services/{code:str}/print": PUBLIC,
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "POST /logout": PUBLIC,
    "POST /elderly-mode": PUBLIC,  # a display preference kept in a cookie, for anyone
    "GET /register": PUBLIC,
    "POST /register": PUBLIC,
    "GET /track": PUBLIC,
    "POST /track": PUBLIC,
    "GET /bundles": PUBLIC,
    "GET /bundles/{code:str}": PUBLIC,
    "GET /verify": PUBLIC,
    "POST /verify": PUBLIC,
    "GET /verify/{cert_no:str}": PUBLIC,  # public by design: the holder's name masked
    "POST /verify/{cert_no:str}": PUBLIC,
    "GET /stats": PUBLIC,
    "GET /stats/charts/months.svg": PUBLIC,
    # Anyone logged in, about themselves.
    "GET /me": LOGIN,
    "GET /me/todos": LOGIN,
    "GET /me/cases": LOGIN,
    "GET /me/materials": LOGIN,
    "GET /me/access-log": LOGIN,
    "GET /me/export": LOGIN,
    "GET /me/certificates": LOGIN,
    "GET /me/complaints": LOGIN,
    "GET /activate": LOGIN,
    "POST /activate": LOGIN,
    "GET /enterprise/activate": LOGIN,
    "POST /enterprise/activate": LOGIN,
    "GET /complaints/new": LOGIN,
    "POST /services/{code:str}/apply/check/{key:str}": LOGIN,
    "POST /complaints/new": CITIZENS,
    "GET /services/{code:str}/apply": CITIZENS,
    "POST /services/{code:str}/apply": CITIZENS,
    "POST /services/{code:str}/apply/autosave": CITIZENS,
    "POST /bundles/{code:str}": CITIZENS,
    # Someone else's objects.
    "GET /me/children/{child_id:int}": NOBODY,
    "GET /enterprise/{uscc:str}": NOBODY,
    "GET /enterprise/{uscc:str}/members": NOBODY,
    "POST /enterprise/{uscc:str}/members": NOBODY,
    "POST /enterprise/{uscc:str}/members/{member_id:int}/revoke": NOBODY,
    "GET /me/materials/{material_id:int}/file": NOBODY,
    "POST /me/materials/{material_id:int}/delete": NOBODY,
    "POST /me/access-log/{access_id:int}/dispute": NOBODY,
    "GET /cases/{case_no:str}": NOBODY,
    "POST /cases/{case_no:str}/withdraw": NOBODY,
    "POST /cases/{case_no:str}/resubmit": NOBODY,
    "GET /cases/{case_no:str}/materials/{material_id:int}": NOBODY,
    "GET /cases/{case_no:str}/rating": NOBODY,
    "POST /cases/{case_no:str}/rating": NOBODY,
    "POST /cases/{case_no:str}/rating/accept": NOBODY,
    "POST /cases/{case_no:str}/rating/appeal": NOBODY,
    "GET /complaints/{complaint_no:str}": NOBODY,
    "POST /complaints/{complaint_no:str}/close": NOBODY,
    "GET /bundle-cases/{bundle_no:str}": NOBODY,
    "GET /certificates/{name:str}": NOBODY,
    # The officers' side.
    "GET /office": OFFICERS,
    "GET /office/queue/{key:str}": officers_with("clerk"),  # the front desk's queue
    "GET /office/cases/{case_no:str}": NOBODY,
    "POST /office/cases/{case_no:str}/act": NOBODY,
    "GET /office/cases/{case_no:str}/materials/{material_id:int}": NOBODY,
    "GET /office/certificates/{cert_no:str}": NOBODY,
    "POST /office/certificates/{cert_no:str}/revoke": NOBODY,
    "GET /office/complaints": COMPLAINT_HANDLERS,
    "GET /office/complaints/{complaint_no:str}": NOBODY,
    "POST /office/complaints/{complaint_no:str}/reply": NOBODY,
    "GET /office/rectifications": COMPLAINT_HANDLERS,
    "GET /office/rectifications/{task_id:int}": NOBODY,
    "POST /office/rectifications/{task_id:int}/answer": NOBODY,
    "GET /office/proxy": officers_with("proxy_agent"),
    "POST /office/proxy/code": officers_with("proxy_agent"),
    "POST /office/proxy/confirm": officers_with("proxy_agent"),
    "POST /office/proxy/form": officers_with("proxy_agent"),
    "GET /office/catalog": CATALOG_ADMIN,
    "GET /office/catalog/{code:str}": CATALOG_ADMIN,
    "POST /office/catalog/{code:str}": CATALOG_ADMIN,
    "GET /office/catalog/{code:str}/versions": CATALOG_ADMIN,
    "GET /office/catalog/synonyms": CATALOG_ADMIN,
    "POST /office/catalog/synonyms": CATALOG_ADMIN,
    "POST /office/catalog/synonyms/{synonym_id:int}/delete": CATALOG_ADMIN,
    "GET /office/catalog/bundles": CATALOG_ADMIN,
    "GET /office/catalog/bundles/new": CATALOG_ADMIN,
    "POST /office/catalog/bundles/new": CATALOG_ADMIN,
    "GET /office/catalog/bundles/{code:str}": CATALOG_ADMIN,
    "POST /office/catalog/bundles/{code:str}": CATALOG_ADMIN,
    "GET /office/calendar": CATALOG_ADMIN,
    "POST /office/calendar": CATALOG_ADMIN,
    "POST /office/calendar/{day:str}/delete": CATALOG_ADMIN,
    # The city's supervisors see every department.
    "GET /supervision": SUPERVISOR,
    "GET /supervision/departments/{department_id:int}": SUPERVISOR,
    "GET /supervision/departments/{department_id:int}/cases.csv": SUPERVISOR,
    "GET /supervision/export.csv": SUPERVISOR,
    "GET /supervision/charts/months.svg": SUPERVISOR,
    "GET /supervision/charts/on-time.svg": SUPERVISOR,
    "GET /supervision/charts/satisfaction.svg": SUPERVISOR,
    "GET /supervision/complaints": SUPERVISOR,
    "GET /supervision/complaints/{complaint_no:str}": SUPERVISOR,
    "POST /supervision/complaints/{complaint_no:str}/assign": SUPERVISOR,
    "POST /supervision/complaints/{complaint_no:str}/rule": SUPERVISOR,
    "GET /supervision/disputes": SUPERVISOR,
    "POST /supervision/disputes/{dispute_id:int}/answer": SUPERVISOR,
    "GET /supervision/appeals": SUPERVISOR,
    "POST /supervision/appeals/{task_id:int}/rule": SUPERVISOR,
}


def rule_for(endpoint: Endpoint) -> Rule:
    rule = POLICY.get(str(endpoint))
    assert rule is not None, f"{endpoint} has no authorization policy: add it to POLICY in {__file__}"
    return rule


def test_every_route_has_a_policy_and_every_policy_a_route() -> None:
    routes = {str(e) for e in ENDPOINTS}
    assert sorted(routes - POLICY.keys()) == [], "routes without a decision"
    assert sorted(POLICY.keys() - routes) == [], "policies for routes that no longer exist"


async def request(client: Any, world: World, endpoint: Endpoint, actor: Actor) -> Any:
    url = world.url(endpoint.path)
    client.cookies.clear()
    for name, value in world.cookies(actor).items():
        client.cookies.set(name, value)
    if endpoint.unsafe:
        return await client.request(endpoint.method, url, data={"_csrf_token": world.csrf}, follow_redirects=False)
    return await client.request(endpoint.method, url, follow_redirects=False)


class AuditTail:
    """The audit rows written since the last look (one query per look: the matrix makes a thousand requests)."""

    def __init__(self) -> None:
        self.last = 0

    async def new_rows(self) -> list[dict[str, Any]]:
        rows = await AuditEvent.select().where(AuditEvent.id > self.last).order_by(AuditEvent.id)
        if rows:
            self.last = rows[-1]["id"]
        return rows


def refused(response: Any, actor: Actor) -> bool:
    if actor.user_id is None:
        return response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    return response.status_code in (403, 404)


# What a shared cache may keep: static files and the public charts for anyone, the public figures for visitors.
SHARED_FOR_ALL = ("/static/", "/stats/charts/")
SHARED_FOR_VISITORS = ("/stats",)


def header_problems(endpoint: Endpoint, actor: Actor, response: Any) -> list[str]:
    """The security headers every response carries, whatever page type, status or user."""
    headers = response.headers
    problems = [f"{name}: {headers.get(name)!r}" for name, wanted in (
        ("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"), ("referrer-policy", "same-origin"),
    ) if headers.get(name) != wanted]
    csp = headers.get("content-security-policy", "")
    if not all(d in csp for d in ("default-src 'self'", "script-src 'self';", "frame-ancestors 'none'",
                                  "object-src 'none'")) or "unsafe" in csp:
        problems.append(f"content-security-policy: {csp!r}")
    cache = headers.get("cache-control", "")
    shared = endpoint.path.startswith(SHARED_FOR_ALL) or (actor.user_id is None and endpoint.path in
                                                          SHARED_FOR_VISITORS)
    if "public" in cache and not shared:
        problems.append(f"cache-control: {cache!r}")
    if actor.user_id is not None and not shared and "no-store" not in cache and "private" not in cache:
        problems.append(f"cache-control for a logged-in user: {cache!r}")  # personal pages: never a shared cache
    if headers.get("content-type", "").startswith("text/html") and "charset=utf-8" not in headers["content-type"]:
        problems.append(f"content-type: {headers['content-type']!r}")
    return problems


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_route_lets_through_only_whom_its_policy_names(module_client, world: World, endpoint: Endpoint) -> None:
    rule = rule_for(endpoint)
    problems = []
    tail = AuditTail()
    await tail.new_rows()
    for role in ROLES:
        actor = world.actors[role]
        response = await request(module_client, world, endpoint, actor)
        rows = await tail.new_rows()
        if endpoint.path == "/logout" and actor.user_id:  # it ended the session it was sent with: a new one
            actor.session = await create_session(actor.user_id, "127.0.0.1", "matrix")
        denied = [r for r in rows if r["outcome"] == "denied" and r["actor_id"] == actor.user_id]
        changed = [r["action"] for r in rows if r["outcome"] == "ok" and r["action"] not in READS]
        where = f"{role}: {response.status_code} {response.headers.get('location', '')}"
        assert response.status_code < 500, f"{where}\n{response.text[:2000]}"
        problems += [f"{where}: {p}" for p in header_problems(endpoint, actor, response)]
        if rule.allows(actor):
            if refused(response, actor) or denied:
                problems.append(f"{where} refused, but {rule.name} may ({[r['action'] for r in denied]})")
        elif not refused(response, actor):
            problems.append(f"{where} let through; only {rule.name} may")
        else:
            if actor.user_id is not None and not denied:
                problems.append(f"{where} refused without an audit row")
            if changed:
                problems.append(f"{where} refused, yet it changed something: {changed}")
    assert problems == [], "\n".join(problems)


# Audited reads: a refused request must not leave one of these either, but they change nothing.
READS = frozenset({"certificate.download", "export.personal", "supervision.export"})


# Objects named in the query string rather than the path: filing for an enterprise one is not a member of, a
# complaint about another's case. Officers are kept off these pages by the routes' own policy above.
QUERY_PROBES = (
    ("GET", "/services/440400-SC-001/apply?as={uscc}"),
    ("POST", "/services/440400-SC-001/apply?as={uscc}"),
    ("POST", "/services/440400-SC-001/apply/autosave?as={uscc}"),
    ("GET", "/complaints/new?case={case_no}"),
)


@pytest.mark.parametrize(("method", "path"), QUERY_PROBES, ids=" ".join)
async def test_objects_named_in_the_query_string_are_refused_and_audited(module_client, world: World, method: str,
                                                                         path: str) -> None:
    problems = []
    tail = AuditTail()
    await tail.new_rows()
    for role in ROLES:
        actor = world.actors[role]
        if actor.is_officer or actor.user_id is None:
            continue
        response = await request(module_client, world, Endpoint(method, path), actor)
        denied = len([r for r in await tail.new_rows() if r["outcome"] == "denied" and r["actor_id"] == actor.user_id])
        if response.status_code not in (403, 404) or not denied:
            problems.append(f"{role}: {response.status_code}, {denied} audit rows")
    assert problems == [], "\n".join(problems)
