"""Reminder rules: the to-dos a page shows before its holder asks (a certificate or the ID card to renew, a child
to enrol in primary school, the enterprise annual report, a correction to answer, a decided case to rate).

Each rule is one query for its *live* subjects: those that call for a to-do today, each with its `Todo.dedupe`
key made in SQL. The job `lifelong.reminders` writes a to-do for every live subject that has none yet (the unique
key is the anti-join, a bounded batch at a time, inserted `ON CONFLICT DO NOTHING`, so each to-do is written once
however many workers run the job), and marks done every open to-do whose key is no longer live: its case has been
filed, or its subject has gone away. Rules look at pages that exist (activated citizens, enterprise pages,
issued certificates, live cases), so the job's cost follows the pages, not the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.catalog.tables import ServiceItem
from app.db import executemany, utcnow, write_tx
from app.filings.workflow import OPEN_STATES
from app.i18n import _, fmt_date
from app.lifelong.enterprise import ANNUAL_REPORT_DUE, annual_report_item
from app.lifelong.tables import Todo
from app.workdays.calendar import as_date, local_midnight

HORIZON = timedelta(days=90)  # a certificate or ID card is due for renewal this long before (and after) it expires
RATING_DAYS = 30
SCHOOL_AGE = 6
SCHOOL_YEAR_START = (9, 1)  # a child who is 6 by 31 August starts primary school on 1 September
ENROLMENT_DUE = (5, 31)  # the district registers new pupils online in May (the item's guide)
SCHOOL_ITEM = "440402-JYJ-001"  # 小学一年级新生入学报名
ID_CARD_TYPE = "ID_CARD_CERT"
# Of the items issuing a certificate type, the one whose name says renewal (延续, 换领, 补发换发, 年审, 签注) is the
# renewal; otherwise the item that issues it in the first place.
RENEWAL_WORDS = ("延续", "换", "年审", "签注")
FILED_STATES = (*OPEN_STATES, "approved")  # a filing that settles a to-do: under way or approved
BATCH = 1000


@dataclass(frozen=True)
class Wording:
    title: str
    body: str
    link: str
    due_on: date | None


@dataclass(frozen=True)
class Rule:
    """`sql` selects the live subjects: `dedupe`, `holder_person`, `holder_entity` and what `word` needs.
    `creates` is false outside the season in which the rule asks for something."""

    kind: str
    sql: str
    args: tuple[Any, ...]
    word: Callable[[dict[str, Any]], Wording]
    creates: bool = True


@dataclass(frozen=True)
class Context:
    today: date
    now: datetime
    issuers: dict[int, list[dict[str, Any]]]  # certificate type id → the published items issuing it
    type_ids: dict[str, int]  # certificate type code → id, for the types some item issues
    school_item: dict[str, Any] | None
    annual_item: dict[str, Any] | None

    def renewal_code(self, type_id: int, for_entity: bool) -> str | None:
        items = [i for i in self.issuers.get(type_id, [])
                 if (i["audience_enterprise"] if for_entity else i["audience_person"])]
        items.sort(key=lambda i: (not any(w in i["name"] for w in RENEWAL_WORDS), i["code"]))
        return items[0]["code"] if items else None


def _in(values: tuple[Any, ...]) -> str:
    return "(" + ", ".join("{}" for _v in values) + ")"


def _key(*columns: str) -> str:
    """The dedupe key in SQL: a prefix given as the first argument, then the columns joined by ':'."""
    return "CAST({} AS VARCHAR) || " + " || ':' || ".join(f"CAST({c} AS VARCHAR)" for c in columns)



# --- the rules ---------------------------------------------------------------------------------------------------

def certificate_rule(ctx: Context) -> Rule:
    """An issued certificate expiring within 90 days (or expired less than 90 days ago) → renew it; done when the
    holder files for that certificate type after it was issued, or it is revoked."""

    def word(row: dict[str, Any]) -> Wording:
        valid_until = as_date(row["valid_until"])
        entity = row["holder_entity"] is not None
        code = ctx.renewal_code(row["certificate_type"], entity)
        link = (f"/services/{code}/apply" + (f"?as={row['uscc']}" if entity else "")) if code else "/me/certificates"
        body = (_("Certificate %(no)s expired on %(date)s. Apply to renew it.", no=row["cert_no"],
                  date=fmt_date(valid_until)) if valid_until < ctx.today else
                _("Certificate %(no)s is valid until %(date)s. Apply to renew it in time: the form comes filled in.",
                  no=row["cert_no"], date=fmt_date(valid_until)))
        return Wording(_("Renew your %(name)s", name=row["type_name"]), body, link, valid_until)

    sql = (
        f"SELECT {_key('c.id')} AS dedupe, c.holder_person, c.holder_entity, c.cert_no, "  # noqa: S608 - values bound
        "c.valid_until, c.certificate_type, t.name AS type_name, e.uscc FROM certificate c "
        "JOIN certificate_type t ON t.id = c.certificate_type LEFT JOIN legal_entity e ON e.id = c.holder_entity "
        "WHERE c.state = 'issued' AND c.valid_until >= {} AND c.valid_until <= {} AND NOT EXISTS ("
        " SELECT 1 FROM filing_case k JOIN service_item i ON i.id = k.item"
        " WHERE i.certificate_type = c.certificate_type"
        " AND (k.holder_person = c.holder_person OR k.holder_entity = c.holder_entity)"
        f" AND k.submitted_at >= c.created_at AND k.state IN {_in(FILED_STATES)})"
    )
    return Rule("certificate_expiring", sql, ("renew:", ctx.today - HORIZON, ctx.today + HORIZON, *FILED_STATES),
                word)


def id_card_rule(ctx: Context) -> Rule | None:
    """The resident ID card expiring within 90 days → 换领; done when the holder files an ID card item (since the
    renewal window opened) or the registry holds a new expiry date."""
    type_id = ctx.type_ids.get(ID_CARD_TYPE)
    code = ctx.renewal_code(type_id, False) if type_id else None
    if type_id is None or code is None:
        return None
    items = tuple(i["id"] for i in ctx.issuers[type_id])

    def word(row: dict[str, Any]) -> Wording:
        valid_until = as_date(row["valid_until"])
        body = (_("Your resident ID card expired on %(date)s. Apply for a new one.", date=fmt_date(valid_until))
                if valid_until < ctx.today else
                _("Your resident ID card is valid until %(date)s. You can apply for a new one from three months "
                  "before then.", date=fmt_date(valid_until)))
        return Wording(_("Renew your resident ID card"), body, f"/services/{code}/apply", valid_until)

    sql = (
        f"SELECT {_key('p.id', 'p.id_card_valid_until')} AS dedupe, p.id AS holder_person, "  # noqa: S608 - values bound
        "NULL AS holder_entity, p.id_card_valid_until AS valid_until FROM person p "
        "WHERE p.id IN (SELECT u.person FROM app_user u WHERE u.person IS NOT NULL) "
        "AND p.id_card_valid_until >= {} AND p.id_card_valid_until <= {} AND NOT EXISTS ("
        f" SELECT 1 FROM filing_case k WHERE k.holder_person = p.id AND k.item IN {_in(items)}"
        f" AND k.submitted_at >= {{}} AND k.state IN {_in(FILED_STATES)})"
    )
    # The window for this expiry opened at most 2 × HORIZON ago: a filing since then is the renewal.
    return Rule("id_card_expiring", sql, ("idcard:", ctx.today - HORIZON, ctx.today + HORIZON, *items,
                                          local_midnight(ctx.today - 2 * HORIZON), *FILED_STATES), word)


def school_year(today: date) -> int:
    """The year of the next primary-school intake: this year's until it starts on 1 September, then next year's."""
    return today.year if (today.month, today.day) < SCHOOL_YEAR_START else today.year + 1


def school_rule(ctx: Context) -> Rule | None:
    """A child who will be 6 by 31 August of the next intake → enrolment, on each guardian's page, from the
    September before; done when a guardian files the enrolment, or the school year has begun."""
    if ctx.school_item is None:
        return None
    year = school_year(ctx.today)
    first_born = date(year - SCHOOL_AGE - 1, *SCHOOL_YEAR_START)
    last_born = date(year - SCHOOL_AGE, *SCHOOL_YEAR_START) - timedelta(days=1)
    code = ctx.school_item["code"]

    def word(row: dict[str, Any]) -> Wording:
        return Wording(
            _("Enrol %(name)s in primary school", name=row["child_name"]),
            _("%(name)s will be 6 by 31 August %(year)s and starts primary school that September. Registration "
              "is online, usually in May.", name=row["child_name"], year=year),
            f"/services/{code}/apply", date(year, *ENROLMENT_DUE))

    sql = (
        f"SELECT {_key('g.guardian', 'g.child')} AS dedupe, g.guardian AS holder_person, "  # noqa: S608 - values bound
        "NULL AS holder_entity, ch.name AS child_name FROM guardian_link g JOIN person ch ON ch.id = g.child "
        "WHERE g.guardian IN (SELECT u.person FROM app_user u WHERE u.person IS NOT NULL) "
        "AND ch.birth_date >= {} AND ch.birth_date <= {} AND NOT EXISTS ("
        " SELECT 1 FROM guardian_link g2 JOIN filing_case k ON k.holder_person = g2.guardian"
        " WHERE g2.child = g.child AND +k.item = {} AND k.submitted_at >= {}"
        f" AND k.state IN {_in(FILED_STATES)})"
    )
    # `+k.item`: a guardian's cases are found through the holder's index, not among every enrolment ever filed.
    season = local_midnight(date(year - 1, *SCHOOL_YEAR_START))
    return Rule("school_enrolment", sql, (f"school:{year}:", first_born, last_born, ctx.school_item["id"], season,
                                          *FILED_STATES), word)


def annual_report_rule(ctx: Context) -> Rule | None:
    """An enterprise page (registered before this year) with no annual report filed this year → the report, asked
    for from 1 January to 30 June; done when it is filed, or the year is over."""
    if ctx.annual_item is None:
        return None
    year = ctx.today.year
    due_on = date(year, *ANNUAL_REPORT_DUE)
    code = ctx.annual_item["code"]

    def word(row: dict[str, Any]) -> Wording:
        return Wording(
            _("File the %(year)s annual report of %(name)s", year=year - 1, name=row["name"]),
            _("Every enterprise reports on the year before between 1 January and 30 June; one that does not is "
              "listed for irregular operation."),
            f"/services/{code}/apply?as={row['uscc']}", due_on)

    sql = (
        f"SELECT {_key('e.id')} AS dedupe, NULL AS holder_person, e.id AS holder_entity, e.name, e.uscc "  # noqa: S608 - values bound
        "FROM legal_entity e WHERE e.id IN (SELECT m.entity FROM enterprise_member m WHERE m.role = 'legal_rep' "
        "AND m.revoked_at IS NULL) AND e.established_on < {} AND NOT EXISTS ("
        " SELECT 1 FROM filing_case k WHERE k.holder_entity = e.id AND k.item = {} AND k.submitted_at >= {}"
        f" AND k.state IN {_in(FILED_STATES)})"
    )
    jan1 = date(year, 1, 1)
    return Rule("annual_report", sql, (f"annual:{year}:", jan1, ctx.annual_item["id"], local_midnight(jan1),
                                       *FILED_STATES), word, creates=ctx.today <= due_on)


def correction_rule(ctx: Context) -> Rule:
    """A case waiting for the applicant's correction → answer it; done when it is resubmitted (or withdrawn)."""

    def word(row: dict[str, Any]) -> Wording:
        return Wording(
            _("Answer the correction for %(item)s", item=row["item_name"]),
            _("The front desk listed everything case %(no)s still needs, all at once. Its clock stops until you "
              "resubmit.", no=row["case_no"]),
            f"/cases/{row['case_no']}#correction", None)

    sql = (
        f"SELECT {_key('c.id', 'c.version')} AS dedupe, c.holder_person, c.holder_entity, c.case_no, "  # noqa: S608 - values bound
        "i.name AS item_name FROM filing_case c JOIN service_item i ON i.id = c.item "
        "WHERE c.state = 'correction_requested'"
    )
    return Rule("correction", sql, ("correction:",), word)


def rating_rule(ctx: Context) -> Rule:
    """A case decided (approved, denied, not accepted) in the last 30 days → rate the service; done when it is rated
    or the 30 days have passed.

    The decisions are found through the audit log's time index (each decision writes its audit row in the
    decision's transaction): `filing_case` has no index on the decision date, and reading millions of decided
    cases every hour is what this avoids. lower() keeps the planner off the action's index, which would read every
    decision ever made."""
    since = ctx.today - timedelta(days=RATING_DAYS)

    def word(row: dict[str, Any]) -> Wording:
        decided_on = as_date(row["decided_on"])
        return Wording(
            _("Rate the service: %(item)s", item=row["item_name"]),
            _("Case %(no)s was decided on %(date)s. Tell the hall how it went; you can rate it for 30 days.",
              no=row["case_no"], date=fmt_date(decided_on)),
            f"/cases/{row['case_no']}/rating", decided_on + timedelta(days=RATING_DAYS))

    sql = (
        f"SELECT {_key('c.id')} AS dedupe, c.holder_person, c.holder_entity, c.case_no, c.decided_on, "  # noqa: S608 - values bound
        "i.name AS item_name FROM audit_event a JOIN filing_case c ON c.case_no = a.subject_key "
        "JOIN service_item i ON i.id = c.item WHERE a.created_at >= {} AND a.outcome = 'ok' "
        "AND lower(a.action) IN ('case.approve', 'case.deny', 'case.reject') AND c.decided_on >= {} "
        'AND NOT EXISTS (SELECT 1 FROM rating r WHERE r."case" = c.id)'
    )
    return Rule("rating", sql, ("rate:", local_midnight(since - timedelta(days=1)), since), word)


RULES = (certificate_rule, id_card_rule, school_rule, annual_report_rule, correction_rule, rating_rule)


# --- the job -----------------------------------------------------------------------------------------------------

async def _context(today: date) -> Context:
    rows = await ServiceItem.select(
        ServiceItem.id, ServiceItem.code, ServiceItem.name, ServiceItem.certificate_type,
        ServiceItem.certificate_type.code.as_alias("type_code"), ServiceItem.audience_person,
        ServiceItem.audience_enterprise,
    ).where(ServiceItem.status == "published", ServiceItem.certificate_type.is_not_null())
    issuers: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        issuers.setdefault(row["certificate_type"], []).append(row)
    school = await ServiceItem.select(ServiceItem.id, ServiceItem.code).where(
        ServiceItem.code == SCHOOL_ITEM, ServiceItem.status == "published").first()
    return Context(today=today, now=utcnow(), issuers=issuers,
                   type_ids={r["type_code"]: r["certificate_type"] for r in rows}, school_item=school,
                   annual_item=await annual_report_item())


async def _create(rule: Rule, now: datetime) -> int:
    """Write a to-do for each live subject without one, a batch at a time: each batch's to-dos leave the next
    batch's query, so the loop ends when a batch comes back short."""
    created = 0
    while True:
        rows = await Todo.raw(
            "SELECT * FROM (" + rule.sql + ") live WHERE NOT EXISTS ("  # noqa: S608 - our own SQL, values bound
            "SELECT 1 FROM todo t WHERE t.dedupe = live.dedupe) LIMIT {}", *rule.args, BATCH)
        todos = []
        for row in rows:
            w = rule.word(row)
            todos.append((row["holder_person"], row["holder_entity"], rule.kind, row["dedupe"], w.title[:120],
                          w.body, w.link[:200], w.due_on, now))
        if todos:
            async with write_tx(bulk=True):
                await executemany(
                    "INSERT INTO todo (holder_person, holder_entity, kind, dedupe, title, body, link, due_on, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe) DO NOTHING", todos)
        created += len(todos)
        if len(rows) < BATCH:
            return created


async def _finish(rule: Rule, now: datetime) -> int:
    """Mark done the rule's open to-dos whose subject is no longer live."""
    async with write_tx(bulk=True):
        done = await Todo.raw(
            "UPDATE todo SET done_at = {} WHERE kind = {} AND done_at IS NULL "  # noqa: S608 - our own SQL
            "AND dedupe NOT IN (SELECT live.dedupe FROM (" + rule.sql + ") live) RETURNING id",
            now, rule.kind, *rule.args)
    return len(done)


async def run_reminders(today: date) -> int:
    """The job: every rule writes its new to-dos and closes its settled ones. Returns how many changed."""
    ctx = await _context(today)
    changed = 0
    for make in RULES:
        rule = make(ctx)
        if rule is None:
            continue
        if rule.creates:
            changed += await _create(rule, ctx.now)
        changed += await _finish(rule, ctx.now)
    return changed
