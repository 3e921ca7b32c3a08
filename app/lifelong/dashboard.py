"""The personal page at a glance (/me) and the holder's to-dos (/me/todos): what to do and by when, cases under way,
newest certificates and messages, the timeline since birth, and services suggested for the holder's profile.

The dashboard is six small queries (run at once on PostgreSQL), each on an indexed holder column and LIMITed (the
person and their children, enterprises, to-dos, cases, certificates, messages); the calendar and the suggested items
come from per-worker copies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.accounts.sessions import CurrentUser
from app.cache import TTLCache
from app.catalog.tables import ServiceItem
from app.certificates.services import status as certificate_status
from app.db import read_small, read_small_all
from app.filings import workflow
from app.i18n import N_, _
from app.lifelong.services import ADULT_AGE, age_on
from app.workdays.calendar import local_date

TODOS_SHOWN = 6
TODOS_LIMIT = 200  # /me/todos: the newest this many
UNDER_WAY_LIMIT = 10
TIMELINE_LIMIT = 50
CERTIFICATES_SHOWN = 3
MESSAGES_SHOWN = 5
ITEM_TTL = 300.0

# The workflow's steps (submit, accept, review, decide) and how many a state has behind it.
PROGRESS_STEPS = 4
STEPS_DONE = {"submitted": 1, "correction_requested": 1, "resubmitted": 1, "accepted": 2, "under_review": 3}

# Services suggested for the holder's profile: catalogue items by code, each with why it is suggested.
CHILD_SUGGESTIONS = (  # (from age, to age, items, why) for a child of that age
    (0, 0, ("440402-GA-001", "440402-YBJ-001"), N_("%(name)s is a newborn")),
    (0, 5, ("440402-WJJ-001",), N_("%(name)s is under 6")),
    (5, 6, ("440402-JYJ-001", "440403-WJJ-001"), N_("%(name)s reaches primary-school age")),
    (11, 12, ("440404-JYJ-001",), N_("%(name)s moves up to middle school")),
    (15, 16, ("440402-GA-002",), N_("%(name)s needs a resident ID card at 16")),
)
AGE_SUGGESTIONS = (  # (from age, items, why) for the holder
    (60, ("440400-RSJ-005", "440402005-ZSJ-001"), N_("At %(age)s: retirement and pension")),
    (80, ("440402001-ZSJ-001",), N_("At %(age)s: the allowance for residents over 80")),
)
ENTERPRISE_SUGGESTIONS = ("440400-SCJG-004", "440402-SW-001")  # every enterprise: the annual report, invoices
INDUSTRY_SUGGESTIONS = {
    "餐饮业": ("440402-SCJG-003",),  # 食品经营许可
    "批发和零售业": ("440402-SCJG-003",),
    "住宿业": ("440402-WJJ-002",),  # 卫生许可（公共场所）
    "居民服务业": ("440402-WJJ-002",),
    "交通运输业": ("440400-JTJ-002",),  # 道路运输经营许可
    "建筑业": ("440400-ZSJ-003",),  # 建筑工程施工许可
    "软件和信息技术服务业": ("440404-SW-001",),  # 增值税一般纳税人登记
    "科技推广和应用服务业": ("440404-SW-001",),
}
SUGGESTIONS_SHOWN = 6

_items = TTLCache(ITEM_TTL)


@dataclass(slots=True)  # not frozen: fifty are made per page, and a frozen one sets each field the slow way
class Event:
    """One line of the timeline."""

    day: date
    kind: str  # born | child | enterprise | filed | decided | certificate
    title: str
    link: str = ""
    state: str = ""
    new_year: bool = False  # the first (newest) line of its year: the timeline heads it with the year


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    reason: str


@dataclass(frozen=True)
class Dashboard:
    person: dict[str, Any]
    age: int
    children: list[dict[str, Any]]
    enterprises: list[dict[str, Any]]
    todos: list[dict[str, Any]]
    todos_more: bool
    under_way: list[dict[str, Any]]
    certificates: list[dict[str, Any]]
    timeline: list[Event]
    timeline_more: bool
    suggestions: list[Suggestion]
    notifications: list[dict[str, Any]]
    steps: int = PROGRESS_STEPS


def soonest_first(todos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open to-dos by due date (those without one last), then the newest."""
    return sorted(sorted(todos, key=lambda t: t["id"], reverse=True),
                  key=lambda t: (t["due_on"] is None, t["due_on"] or date.max))


# The dashboard's queries, written out: Piccolo's query builder costs as much as the database on a page this
# busy. Each reads through an index on its holder column and is LIMITed; they run at once.
ACTING_FOR = ('SELECT m.entity FROM enterprise_member m WHERE m."user" = {} AND m.revoked_at IS NULL '
              "AND (m.expires_on IS NULL OR m.expires_on >= {})")
FAMILY_SQL = (
    "SELECT 'self' AS relation, p.id, p.name, p.sex, p.birth_date, p.id_number, p.ssc_number, "
    "p.household_address FROM person p WHERE p.id = {} UNION ALL "
    "SELECT g.relation, p.id, p.name, p.sex, p.birth_date, '', '', '' FROM guardian_link g "
    "JOIN person p ON p.id = g.child WHERE g.guardian = {}"
)
ENTERPRISES_SQL = (
    "SELECT m.role, e.id, e.uscc, e.name, e.industry, e.established_on FROM enterprise_member m "
    'JOIN legal_entity e ON e.id = m.entity WHERE m."user" = {} AND m.revoked_at IS NULL '
    "AND (m.expires_on IS NULL OR m.expires_on >= {}) ORDER BY m.id"
)
TODOS_SQL = (
    "SELECT t.id, t.kind, t.title, t.body, t.link, t.due_on, t.created_at, t.done_at, e.name AS entity_name "  # noqa: S608 - values bound
    "FROM todo t LEFT JOIN legal_entity e ON e.id = t.holder_entity "
    f"WHERE (t.holder_person = {{}} OR t.holder_entity IN ({ACTING_FOR})) "
)
_NO_DATE, _NO_INT = "CAST(NULL AS DATE)", "CAST(NULL AS INTEGER)"  # typed, for PostgreSQL's UNION
# The newest cases a holder's page lists: those filed by the user and those on the person's page, each the newest
# first straight from its covering index (filing_case_applicant_page, filing_case_holder_page), merged.
_NEWEST = ("SELECT id, case_no, state, submitted_at, decided_on, item FROM filing_case WHERE {column} = {{}} "  # noqa: S608 - own names
           f"AND state <> 'draft' ORDER BY id DESC LIMIT {TIMELINE_LIMIT}")
# Those under way (through the partial indexes on open cases) with their clocks, and the newest for the timeline
# (what it words, the clock columns left empty); both as /me/cases lists them: on the person's page, or filed by
# the user (for an enterprise too).
CASES_SQL = (
    "SELECT * FROM (SELECT 1 AS under_way, c.id, c.case_no, c.state, c.submitted_at, c.decided_on, c.due_on, "  # noqa: S608 - values bound
    "c.limit_days, c.clock_started_on, c.paused_since, c.paused_days, c.days_used, i.code AS item_code, "
    "i.name AS item_name, e.name AS entity_name FROM filing_case c JOIN service_item i ON i.id = c.item "
    "LEFT JOIN legal_entity e ON e.id = c.holder_entity WHERE (c.applicant = {} OR c.holder_person = {}) "
    f"AND c.state IN ({workflow.OPEN_STATES_SQL}) ORDER BY c.id DESC LIMIT {UNDER_WAY_LIMIT}) w UNION ALL "
    f"SELECT * FROM (SELECT 0, c.id, c.case_no, c.state, c.submitted_at, c.decided_on, {_NO_DATE}, {_NO_INT}, "
    f"{_NO_DATE}, {_NO_DATE}, {_NO_INT}, {_NO_INT}, i.code, i.name, CAST(NULL AS VARCHAR) FROM "
    f"(SELECT a.* FROM ({_NEWEST.format(column='applicant')}) a UNION "
    f"SELECT h.* FROM ({_NEWEST.format(column='holder_person')}) h ORDER BY id DESC LIMIT {TIMELINE_LIMIT}) c "
    "JOIN service_item i ON i.id = c.item ORDER BY c.id DESC) r"
)
CERTIFICATES_SQL = (
    "SELECT c.cert_no, c.issued_on, c.valid_until, c.state, c.holder_entity, t.name AS type_name, "  # noqa: S608 - values bound
    "e.name AS entity_name FROM certificate c JOIN certificate_type t ON t.id = c.certificate_type "
    "LEFT JOIN legal_entity e ON e.id = c.holder_entity "
    f"WHERE c.holder_person = {{}} OR c.holder_entity IN ({ACTING_FOR}) ORDER BY c.id DESC LIMIT {TIMELINE_LIMIT}"
)
NOTIFICATIONS_SQL = ('SELECT id, title, body, link, created_at, read_at FROM notification WHERE "user" = {} '  # noqa: S608 - values bound
                     f"ORDER BY created_at DESC LIMIT {MESSAGES_SHOWN}")


async def notifications_of(user: CurrentUser) -> list[dict[str, Any]]:
    return await read_small(NOTIFICATIONS_SQL, user.id)


async def todos_of(user: CurrentUser, today: date, *, open_only: bool, limit: int) -> list[dict[str, Any]]:
    """The newest to-dos of the person and of the enterprises they act for; `overdue` marks open ones past
    their date."""
    sql = TODOS_SQL + ("AND t.done_at IS NULL " if open_only else "") + "ORDER BY t.id DESC LIMIT {}"
    rows = await read_small(sql, user.person_id, user.id, today, limit)
    for r in rows:
        r["overdue"] = r["done_at"] is None and r["due_on"] is not None and r["due_on"] < today
    return rows


async def todo_page(user: CurrentUser, today: date) -> dict[str, list[dict[str, Any]]]:
    """/me/todos: the open to-dos soonest due first, then the done ones, newest done first."""
    if user.person_id is None:
        return {"open": [], "done": []}
    rows = await todos_of(user, today, open_only=False, limit=TODOS_LIMIT)
    done = [r for r in rows if r["done_at"] is not None]
    done.sort(key=lambda r: r["done_at"], reverse=True)
    return {"open": soonest_first([r for r in rows if r["done_at"] is None]), "done": done}


async def _suggested_items() -> dict[str, str]:
    """Code → name of the published items the suggestion rules name."""
    codes = {c for rule in CHILD_SUGGESTIONS for c in rule[2]} | {c for rule in AGE_SUGGESTIONS for c in rule[1]}
    codes |= set(ENTERPRISE_SUGGESTIONS) | {c for items in INDUSTRY_SUGGESTIONS.values() for c in items}

    async def load() -> dict[str, str]:
        rows = await ServiceItem.select(ServiceItem.code, ServiceItem.name).where(
            ServiceItem.code.is_in(sorted(codes)), ServiceItem.status == "published")
        return {r["code"]: r["name"] for r in rows}

    return await _items.get(None, load)


async def suggestions_for(age: int, children: list[dict[str, Any]], enterprises: list[dict[str, Any]],
                          already: set[str], today: date) -> list[Suggestion]:
    """The rule tables applied to the holder's age, children's ages and enterprises' industries; items the holder
    has recent cases of are left out."""
    wanted: list[tuple[str, str]] = []
    for child in children:
        child_age = age_on(child["birth_date"], today)
        for low, high, codes, why in CHILD_SUGGESTIONS:
            if low <= child_age <= high:
                wanted += [(code, _(why, name=child["name"])) for code in codes]
    for low, codes, why in AGE_SUGGESTIONS:
        if age >= low:
            wanted += [(code, _(why, age=age)) for code in codes]
    for e in enterprises:
        for code in (*ENTERPRISE_SUGGESTIONS, *INDUSTRY_SUGGESTIONS.get(e["industry"], ())):
            wanted.append((code, _("For %(name)s", name=e["name"])))
    names = await _suggested_items() if wanted else {}
    out: dict[str, Suggestion] = {}
    for code, reason in wanted:
        if code in names and code not in already and code not in out:
            out[code] = Suggestion(code=code, name=names[code], reason=reason)
    return list(out.values())[:SUGGESTIONS_SHOWN]


TIMELINE_ORDER = {"born": 0, "child": 0, "enterprise": 0, "filed": 1, "certificate": 2, "decided": 3}


def timeline_of(person: dict[str, Any], children: list[dict[str, Any]], enterprises: list[dict[str, Any]],
                cases: list[dict[str, Any]], certificates: list[dict[str, Any]],
                limit: int) -> tuple[list[Event], bool]:
    """Life events and records since birth, newest first: the first `limit`, and whether there are more. Only those
    shown are worded (a busy page has a hundred and more candidates for fifty lines)."""
    # (day, kind, message, the name it words in, link, state)
    found: list[tuple[date, str, str, str, str, str]] = [
        (person["birth_date"], "born", N_("You were born"), "", "", "")]
    found += [(c["birth_date"], "child", N_("%(name)s was born"), c["name"], f"/me/children/{c['id']}", "")
              for c in children]
    found += [(e["established_on"], "enterprise", N_("%(name)s was established"), e["name"],
               f"/enterprise/{e['uscc']}", "") for e in enterprises]
    for c in cases:
        link = f"/cases/{c['case_no']}"
        if c["submitted_at"] is not None:
            found.append((local_date(c["submitted_at"]), "filed", N_("Filed: %(name)s"), c["item_name"], link, ""))
        if c["decided_on"] is not None and c["state"] in workflow.FINAL_STATES:
            found.append((c["decided_on"], "decided", N_("%(name)s: %(state)s"), c["item_name"], link, c["state"]))
    found += [(c["issued_on"], "certificate", N_("Certificate issued: %(name)s"), c["type_name"], "/me/certificates",
               "") for c in certificates]
    found.sort(key=lambda e: (e[0], TIMELINE_ORDER[e[1]]), reverse=True)
    texts: dict[str, str] = {}  # each message translated once a page
    events: list[Event] = []
    year = 0
    for day, kind, message, name, link, state in found[:limit]:
        text = texts.get(message) or texts.setdefault(message, _(message))
        title = text % ({"name": name, "state": workflow.state_label(state)} if state else {"name": name})
        events.append(Event(day, kind, title, link, state, new_year=day.year != year))
        year = day.year
    return events, len(found) > limit


async def dashboard(user: CurrentUser, today: date) -> Dashboard:
    """Everything /me shows for an activated citizen (`user.person_id` is set)."""
    family, enterprises, todos, cases, certificates, notifications, cal = await read_small_all(
        read_small(FAMILY_SQL, user.person_id, user.person_id),
        read_small(ENTERPRISES_SQL, user.id, today),
        todos_of(user, today, open_only=True, limit=TODOS_LIMIT),
        read_small(CASES_SQL, user.id, user.person_id, user.id, user.person_id),
        read_small(CERTIFICATES_SQL, user.person_id, user.id, today),
        notifications_of(user),
        workflow.load_calendar(),
    )
    person = next(r for r in family if r["relation"] == "self")
    children = sorted((r for r in family if r["relation"] != "self" and age_on(r["birth_date"], today) < ADULT_AGE),
                      key=lambda r: r["birth_date"])
    under_way = [c for c in cases if c["under_way"]]
    for c in under_way:
        c["clock"] = workflow.clock_view(c, cal, today)
        c["steps_done"] = STEPS_DONE.get(c["state"], 0)
    recent = [c for c in cases if not c["under_way"]]
    for c in certificates:
        c["status"] = certificate_status(c, today)
    todos = soonest_first(todos)
    timeline, timeline_more = timeline_of(person, children, enterprises, recent, certificates, TIMELINE_LIMIT)
    age = age_on(person["birth_date"], today)
    return Dashboard(
        person=person, age=age, children=children, enterprises=enterprises,
        todos=todos[:TODOS_SHOWN], todos_more=len(todos) > TODOS_SHOWN, under_way=under_way,
        certificates=certificates[:CERTIFICATES_SHOWN], timeline=timeline,
        timeline_more=timeline_more or len(recent) == TIMELINE_LIMIT,
        suggestions=await suggestions_for(age, children, enterprises, {c["item_code"] for c in recent}, today),
        notifications=notifications,
    )
