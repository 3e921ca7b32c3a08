"""What the enterprise page lists besides its licences and members: its cases and one-form bundles, this year's
annual report (企业年报), its open to-dos, its materials library and who looked at its data. The child's page uses
the same holder lists (cases, certificates, to-dos) for the child.

Each list is one query on an indexed holder column, newest first and LIMITed; the access log adds one query for
the officers' and departments' names. The callers have already checked who may see the holder's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.accounts.tables import User
from app.audit.tables import DataAccess
from app.bundles.tables import BundleCase
from app.cache import TTLCache
from app.catalog.tables import ServiceItem
from app.certificates import services as certificates
from app.certificates.tables import Certificate
from app.filings import workflow
from app.filings.tables import Case, Material
from app.lifelong.services import Membership, members_of
from app.lifelong.tables import Todo
from app.registry.tables import Department
from app.workdays.calendar import local_midnight

LIST_LIMIT = 20
MATERIALS_LIMIT = 50
# The annual report is due from 1 January to 30 June for the year before (《企业信息公示暂行条例》第八条).
ANNUAL_REPORT_DUE = (6, 30)
# How the catalogue names the item: 年报, or in full 企业年度报告公示.
ANNUAL_REPORT_NAMES = ("年报", "年度报告")
ITEM_TTL = 300.0

_annual_item = TTLCache(ITEM_TTL)


# --- lists for a holder (an enterprise or a child) -------------------------------------------------------------

def _holder(column: Any, person_id: int | None, entity_id: int | None) -> Any:
    """`column` is the table's holder_person or holder_entity pair, chosen by which id is given."""
    return column[0] == person_id if person_id is not None else column[1] == entity_id


async def cases_of_holder(*, person_id: int | None = None, entity_id: int | None = None, today: date,
                          limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The holder's newest cases (drafts left out), each with its state and working-day clock."""
    rows = await Case.select(
        Case.case_no, Case.state, Case.applicant, Case.submitted_at, Case.due_on, Case.limit_days,
        Case.clock_started_on, Case.paused_since, Case.paused_days, Case.days_used,
        Case.item.name.as_alias("item_name"), Case.department.short_name.as_alias("department_name"),
    ).where(_holder((Case.holder_person, Case.holder_entity), person_id, entity_id), Case.state != "draft").order_by(
        Case.id, ascending=False).limit(limit)
    cal = await workflow.load_calendar()
    return [{**r, "entity_name": None, "clock": workflow.clock_view(r, cal, today)} for r in rows]


async def open_todos(*, person_id: int | None = None, entity_id: int | None = None,
                     limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The holder's to-dos not yet done, the soonest due first (those without a date last)."""
    rows = await Todo.select(Todo.kind, Todo.title, Todo.body, Todo.link, Todo.due_on, Todo.created_at).where(
        _holder((Todo.holder_person, Todo.holder_entity), person_id, entity_id), Todo.done_at.is_null()).order_by(
        Todo.id, ascending=False).limit(limit)
    return sorted(rows, key=lambda r: (r["due_on"] is None, r["due_on"] or date.max))


async def certificates_of_person(person_id: int, today: date, limit: int = MATERIALS_LIMIT) -> list[dict[str, Any]]:
    """A person's electronic certificates, newest first, with their status (the child's page)."""
    rows = await Certificate.select(
        *certificates.WALLET_COLUMNS, Certificate.case.applicant.as_alias("applicant"),
    ).where(Certificate.holder_person == person_id).order_by(Certificate.id, ascending=False).limit(limit)
    return [{**row, "status": certificates.status(row, today)} for row in rows]


# --- the enterprise's own lists ----------------------------------------------------------------------------------

async def bundle_cases_of(entity_id: int, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The enterprise's one-form bundle filings (开办企业 and the like), newest first."""
    return await BundleCase.select(BundleCase.bundle_no, BundleCase.state, BundleCase.applicant, BundleCase.created_at,
                                   BundleCase.bundle.name.as_alias("bundle_name")).where(
        BundleCase.holder_entity == entity_id).order_by(BundleCase.id, ascending=False).limit(limit)


async def materials_of(entity_id: int, today: date, limit: int = MATERIALS_LIMIT) -> list[dict[str, Any]]:
    """The enterprise's materials library (deleted ones left out): type, file, validity."""
    rows = await Material.select(
        Material.id, Material.filename, Material.content_type, Material.size, Material.valid_until,
        Material.created_at, Material.material_type.name.as_alias("type_name"),
    ).where(Material.holder_entity == entity_id, Material.deleted_at.is_null()).order_by(
        Material.id, ascending=False).limit(limit)
    return [{**r, "expired": r["valid_until"] is not None and r["valid_until"] < today} for r in rows]


async def access_log_of(entity_id: int, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The newest officer views of the enterprise's data: when, who, which department, which case, what, why."""
    rows = await DataAccess.select(
        DataAccess.id, DataAccess.created_at, DataAccess.officer_id, DataAccess.department_id, DataAccess.case_no,
        DataAccess.what, DataAccess.reason,
    ).where(DataAccess.holder_entity == entity_id).order_by(DataAccess.created_at, ascending=False).limit(limit)
    if not rows:
        return rows
    officers = {r["id"]: r["display_name"] for r in await User.select(User.id, User.display_name).where(
        User.id.is_in(list({r["officer_id"] for r in rows})))}
    department_ids = list({r["department_id"] for r in rows if r["department_id"] is not None})
    departments = {r["id"]: r["name"] for r in await Department.select(Department.id, Department.name).where(
        Department.id.is_in(department_ids))} if department_ids else {}
    return [{**r, "officer_name": officers.get(r["officer_id"], ""),
             "department_name": departments.get(r["department_id"], "")} for r in rows]


# --- the annual report -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnnualReport:
    """This year's annual report: `state` is filed | in_progress | due | overdue | not_filed (the catalogue has
    no annual report item, so only the deadline is known) | not_owed (established this year: nothing to report)."""

    state: str
    due_on: date
    item_code: str | None = None
    case_no: str | None = None
    filed_on: date | None = None


async def annual_report_item() -> dict[str, Any] | None:
    """The published enterprise item whose name says annual report, if the catalogue has one (kept a while)."""
    async def load() -> dict[str, Any] | None:
        named = ServiceItem.name.like(f"%{ANNUAL_REPORT_NAMES[0]}%")
        for name in ANNUAL_REPORT_NAMES[1:]:
            named = named | ServiceItem.name.like(f"%{name}%")
        return await ServiceItem.select(ServiceItem.id, ServiceItem.code, ServiceItem.name).where(
            named, ServiceItem.audience_enterprise.eq(True), ServiceItem.status == "published",
        ).order_by(ServiceItem.id).first()

    return await _annual_item.get(None, load)


def annual_report_state(case: dict[str, Any] | None, today: date) -> str:
    """filed (approved this year), in_progress (filed, not yet decided), else due until 30 June, then overdue."""
    if case is not None and case["state"] == "approved":
        return "filed"
    if case is not None and case["state"] not in workflow.FINAL_STATES:
        return "in_progress"
    return "due" if today <= date(today.year, *ANNUAL_REPORT_DUE) else "overdue"


async def annual_report(entity_id: int, today: date, established_on: date | None = None) -> AnnualReport:
    due_on = date(today.year, *ANNUAL_REPORT_DUE)
    if established_on is not None and established_on.year >= today.year:
        return AnnualReport(state="not_owed", due_on=due_on)  # as the reminder rule: registered before this year
    item = await annual_report_item()
    if item is None:
        return AnnualReport(state="not_filed", due_on=due_on)
    year_start = local_midnight(date(today.year, 1, 1))
    case = await Case.select(Case.case_no, Case.state, Case.decided_on, Case.submitted_at).where(
        Case.holder_entity == entity_id, Case.item == item["id"], Case.state != "draft",
        Case.submitted_at >= year_start,
    ).order_by(Case.id, ascending=False).first()
    state = annual_report_state(case, today)
    return AnnualReport(state=state, due_on=due_on, item_code=item["code"],
                        case_no=case["case_no"] if case and state in ("filed", "in_progress") else None,
                        filed_on=case["decided_on"] if case and state == "filed" else None)


# --- the whole page ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnterprisePage:
    """Everything /enterprise/{uscc} shows; `may_file` is false for an agent authorised to view only."""

    members: list[dict[str, Any]]
    scope: str
    may_file: bool
    certificates: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    bundle_cases: list[dict[str, Any]]
    annual_report: AnnualReport
    todos: list[dict[str, Any]]
    materials: list[dict[str, Any]]
    access_log: list[dict[str, Any]]


async def enterprise_page(member: Membership, today: date) -> EnterprisePage:
    """The page for a member already admitted by `services.membership`."""
    entity_id = member.entity.id
    members = await members_of(entity_id)
    scope = "all" if member.role == "legal_rep" else next(
        (m["scope"] for m in members if m["id"] == member.member_id), "view")
    return EnterprisePage(
        members=members,
        scope=scope,
        may_file=member.role == "legal_rep" or scope in workflow.AGENT_FILING_SCOPES,
        certificates=await certificates.of_entity(entity_id),
        cases=await cases_of_holder(entity_id=entity_id, today=today),
        bundle_cases=await bundle_cases_of(entity_id),
        annual_report=await annual_report(entity_id, today, member.entity.established_on),
        todos=await open_todos(entity_id=entity_id),
        materials=await materials_of(entity_id, today),
        access_log=await access_log_of(entity_id),
    )
