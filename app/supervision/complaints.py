"""Complaints and suggestions (投诉 / 建议): a citizen files one, about a case or not; the department's approvers or
supervisors reply; the citizen closes it satisfied or reopens it, and a reopened one reaches the city's supervisors,
who can also route one filed without a department. Each change is one transaction with its step, audit row and
notifications; a refused action changes nothing and is audited on its own."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
from piccolo.query import OrderByRaw

from app.accounts.sessions import CurrentUser
from app.accounts.tables import OfficerRole
from app.audit.services import record, record_alone
from app.db import utcnow, write_tx
from app.errors import Conflict, DomainError, FieldErrors, Forbidden, NotFound, required_text
from app.filings import workflow
from app.i18n import N_, _, ngettext
from app.notify.services import notify
from app.registry.tables import Department
from app.supervision.tables import Complaint, ComplaintStep
from app.workdays.calendar import WorkCalendar, load_calendar, local_today

KINDS = {"complaint": N_("Complaint"), "suggestion": N_("Suggestion")}
STATES = {
    "unassigned": N_("Awaiting a department"),
    "submitted": N_("Awaiting the department's reply"),
    "replied": N_("Replied"),
    "reopened": N_("Reopened: not satisfied"),
    "closed": N_("Closed"),
}
STEP_LABELS = {
    "filed": N_("Filed"),
    "assigned": N_("Sent to a department by the supervisors"),
    "replied": N_("The department replied"),
    "reopened": N_("Not satisfied: reopened and sent to the supervisors"),
    "closed": N_("Closed: satisfied"),
    "ruled": N_("Closed with the supervisors' final opinion"),
}
# The department must answer these; the supervisors must first route an unassigned one.
AWAITING_REPLY = ("submitted", "reopened")
OPEN_STATES = ("unassigned", *AWAITING_REPLY)
HANDLER_ROLES = ("approver", "supervisor")
ANSWER_DAYS = 10
SUBJECT_MAX = 60
BODY_MAX = 2000
REPLY_MAX = 2000
REASON_MAX = 500
PAGE_SIZE = 50
NUMBER_ATTEMPTS = 10  # concurrent filers of one day on PostgreSQL: each round, one of them wins


@dataclass(frozen=True)
class Deadline:
    """The working days left to answer (negative once overdue)."""

    due_on: date
    left: int

    @property
    def label(self) -> str:
        if self.left < 0:
            return ngettext("Overdue by %(num)d working day", "Overdue by %(num)d working days", -self.left)
        if self.left == 0:
            return _("Due today")
        return ngettext("%(num)d working day left", "%(num)d working days left", self.left)


def deadline(row: dict[str, Any], cal: WorkCalendar, today: date) -> Deadline | None:
    """The answering clock of an open complaint; none once it is replied or closed."""
    due = row["due_on"]
    if row["state"] not in OPEN_STATES or due is None:
        return None
    return Deadline(due, cal.working_days_left(due, today))


def state_label(state: str) -> str:
    return _(STATES.get(state, state))


def kind_label(kind: str) -> str:
    return _(KINDS.get(kind, kind))


# --- who hears of it --------------------------------------------------------------------------------------------

async def _officers(*where: Any) -> list[int]:
    rows = await OfficerRole.select(OfficerRole.user).where(*where)
    return sorted({r["user"] for r in rows})


async def handlers_of(department_id: int) -> list[int]:
    """The department's officers who answer complaints (approvers and supervisors)."""
    return await _officers(OfficerRole.user.department == department_id, OfficerRole.role.is_in(list(HANDLER_ROLES)))


async def supervisors() -> list[int]:
    """The city's supervisors (电子监察): they see every department's complaints."""
    return await _officers(OfficerRole.role == "supervisor")


async def _tell(user_ids: list[int], title: str, body: str, link: str) -> None:
    for user_id in user_ids:
        await notify(user_id, title, body, link)


# --- refusals -----------------------------------------------------------------------------------------------------

async def _refused(user: CurrentUser, key: str, ip: str, reason: str, action: str = "access.denied",
                   outcome: str = "denied") -> None:
    await record_alone(action, outcome=outcome, actor_id=user.id, subject_type="complaint", subject_key=key[:20],
                       ip=ip, reason=reason)


async def _wrong_state(user: CurrentUser, complaint: dict[str, Any], action: str, ip: str) -> Conflict:
    await _refused(user, complaint["complaint_no"], ip, f"state {complaint['state']}", f"complaint.{action}",
                   "conflict")
    return Conflict(_("This complaint is now “%(state)s”; the action is no longer possible.",
                      state=state_label(complaint["state"])))


# --- filing ---------------------------------------------------------------------------------------------------------

async def departments() -> list[dict[str, Any]]:
    """The departments a citizen can address, in the hall's order."""
    return await Department.select(Department.id, Department.name).order_by(Department.sort_order).order_by(
        Department.code)


async def case_to_complain_about(user: CurrentUser, case_no: str, *, ip: str) -> dict[str, Any]:
    """A case the user may act for, with its department's name; any other is NotFound, audited."""
    case = await workflow.load_case(case_no)
    if user.is_officer or not await workflow.may_act_for_holder(user, case):
        await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type="case",
                           subject_key=case_no[:20], ip=ip, reason="complaint about a case not the user's")
        raise NotFound()
    department = await Department.select(Department.name).where(Department.id == case["department"]).first()
    return {**case, "department_name": department["name"]}


def parse_department(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 10 else None


async def _check(kind: str, subject: str, body: str, department_id: int | None, department_text: str) -> None:
    errors = FieldErrors()
    if kind not in KINDS:
        errors.add("kind", _("Please choose complaint or suggestion."))
    if not subject:
        errors.add("subject", _("Please give a short subject."))
    elif len(subject) > SUBJECT_MAX:
        errors.add("subject", _("Please keep it within %(n)d characters.", n=SUBJECT_MAX))
    if not body:
        errors.add("body", _("Please say what happened or what you suggest."))
    elif len(body) > BODY_MAX:
        errors.add("body", _("Please keep it within %(n)d characters.", n=BODY_MAX))
    if department_text and (department_id is None
                            or not await Department.exists().where(Department.id == department_id)):
        errors.add("department", _("Please choose a department from the list."))
    errors.raise_if_any()


async def _next_number(today: date) -> str:
    """TS + the day + that day's serial; concurrent filers may pick the same one, and the unique index decides."""
    prefix = f"TS{today:%Y%m%d}-"
    taken = await Complaint.count().where(Complaint.complaint_no.like(f"{prefix}%"))
    return f"{prefix}{taken + 1:04d}"


async def file_complaint(user: CurrentUser, *, kind: str, subject: str, body: str, case_no: str = "",
                         department: str = "", ip: str) -> str:
    """File a complaint or suggestion; returns its number. About a case, it goes to the case's department;
    otherwise to the department chosen, or (none chosen) to the supervisors to route."""
    if user.is_officer:
        await _refused(user, "", ip, "officer filing a complaint")
        raise Forbidden()
    case = await case_to_complain_about(user, case_no, ip=ip) if case_no else None
    subject, body = subject.strip(), body.strip()
    department_id = case["department"] if case else parse_department(department)
    await _check(kind, subject, body, department_id, "" if case else department)
    cal = await load_calendar()
    today = local_today()
    attempt = 1
    while True:
        try:
            return await _insert(user, kind, subject, body, case, department_id, today,
                                 cal.add_working_days(today, ANSWER_DAYS), ip)
        except (sqlite3.IntegrityError, asyncpg.UniqueViolationError) as exc:
            if "complaint_no" not in str(exc) or attempt == NUMBER_ATTEMPTS:
                raise
            attempt += 1


async def _insert(user: CurrentUser, kind: str, subject: str, body: str, case: dict[str, Any] | None,
                  department_id: int | None, today: date, due_on: date, ip: str) -> str:
    now = utcnow()
    async with write_tx():
        number = await _next_number(today)
        rows = await Complaint.insert(Complaint(
            complaint_no=number, kind=kind, filer=user.id, case=case["id"] if case else None,
            department=department_id, subject=subject, body=body,
            state="submitted" if department_id else "unassigned", due_on=due_on, created_at=now, updated_at=now,
        )).returning(Complaint.id)
        await ComplaintStep.insert(ComplaintStep(complaint=rows[0]["id"], action="filed", actor=user.id, text="",
                                                 created_at=now))
        await record("complaint.file", actor_id=user.id, subject_type="complaint", subject_key=number, ip=ip,
                     kind=kind, case=case["case_no"] if case else "", department=department_id)
        title = _("New %(kind)s %(no)s: %(subject)s", kind=kind_label(kind), no=number, subject=subject)
        if department_id:
            await _tell(await handlers_of(department_id), title, body[:200], f"/office/complaints/{number}")
        else:
            await _tell(await supervisors(), title, _("Filed without a department: please route it."),
                        f"/supervision/complaints/{number}")
    return number


# --- reading ----------------------------------------------------------------------------------------------------

_COLUMNS = (Complaint.id, Complaint.complaint_no, Complaint.kind, Complaint.filer, Complaint.department,
            Complaint.subject, Complaint.body, Complaint.state, Complaint.due_on, Complaint.satisfied,
            Complaint.created_at, Complaint.updated_at, Complaint.closed_at)


def _select() -> Any:
    return Complaint.select(*_COLUMNS, Complaint.case.case_no.as_alias("case_no"),
                            Complaint.department.name.as_alias("department_name"),
                            Complaint.filer.display_name.as_alias("filer_name"))


async def load(complaint_no: str) -> dict[str, Any] | None:
    return await _select().where(Complaint.complaint_no == complaint_no[:20]).first()


async def own_complaint(user: CurrentUser, complaint_no: str, *, ip: str) -> dict[str, Any]:
    """The filer's own complaint; anyone else's is NotFound, audited."""
    row = await load(complaint_no)
    if row is None or row["filer"] != user.id:
        await _refused(user, complaint_no, ip, "not the filer")
        raise NotFound()
    return row


async def department_complaint(user: CurrentUser, complaint_no: str, *, ip: str) -> dict[str, Any]:
    """A complaint addressed to the officer's department; another department's is NotFound, audited."""
    row = await load(complaint_no)
    if row is None or row["department"] is None or row["department"] != user.department_id:
        await _refused(user, complaint_no, ip, "other department")
        raise NotFound()
    return row


async def any_complaint(complaint_no: str) -> dict[str, Any]:
    """For the city's supervisors, who see them all."""
    row = await load(complaint_no)
    if row is None:
        raise NotFound()
    return row


async def _with_clocks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cal, today = await load_calendar(), local_today()
    return [{**r, "deadline": deadline(r, cal, today), "state_label": state_label(r["state"]),
             "kind_label": kind_label(r["kind"])} for r in rows]


async def detail(row: dict[str, Any]) -> dict[str, Any]:
    """The complaint with its clock and its timeline, oldest step first."""
    steps = await ComplaintStep.select(
        ComplaintStep.action, ComplaintStep.text, ComplaintStep.created_at, ComplaintStep.actor,
        ComplaintStep.actor.display_name.as_alias("actor_name"),
        ComplaintStep.department.name.as_alias("department_name"),
    ).where(ComplaintStep.complaint == row["id"]).order_by(ComplaintStep.id)
    return {**(await _with_clocks([row]))[0],
            "steps": [{**s, "label": _(STEP_LABELS.get(s["action"], s["action"]))} for s in steps]}


async def of_filer(user: CurrentUser) -> list[dict[str, Any]]:
    """The user's complaints and suggestions, newest first."""
    return await _with_clocks(await _select().where(Complaint.filer == user.id).order_by(
        Complaint.id, ascending=False))


@dataclass(frozen=True)
class DepartmentQueue:
    waiting: list[dict[str, Any]]  # to answer, the nearest deadline first
    answered: list[dict[str, Any]]  # replied or closed, the latest first


async def department_queue(user: CurrentUser) -> DepartmentQueue:
    """The department's complaints: those waiting for its reply first, then the latest answered ones."""
    mine = Complaint.department == user.department_id
    waiting = await _select().where(mine, Complaint.state.is_in(list(AWAITING_REPLY))).order_by(
        Complaint.due_on).order_by(Complaint.id)
    answered = await _select().where(mine, Complaint.state.not_in(list(AWAITING_REPLY))).order_by(
        Complaint.updated_at, ascending=False).limit(PAGE_SIZE)
    return DepartmentQueue(waiting=await _with_clocks(waiting), answered=await _with_clocks(answered))


async def waiting_count(department_id: int | None) -> int:
    return await Complaint.count().where(Complaint.department == department_id,
                                         Complaint.state.is_in(list(AWAITING_REPLY)))


# Waiting for someone (a department or the supervisors) before replied and closed ones.
_WAITING_FIRST = OrderByRaw(
    f'CASE WHEN "complaint"."state" IN ({", ".join(repr(state) for state in OPEN_STATES)}) THEN 0 ELSE 1 END')


async def overview(state: str, department_id: int | None, page: int) -> tuple[list[dict[str, Any]], int]:
    """Every complaint of the city for the supervisors, the open ones first by deadline; and the total."""
    where = []
    if state in STATES:
        where.append(Complaint.state == state)
    if department_id is not None:
        where.append(Complaint.department == department_id)
    total = await Complaint.count().where(*where)
    rows = await _select().where(*where).order_by(_WAITING_FIRST).order_by(Complaint.due_on).order_by(
        Complaint.id, ascending=False).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)
    return await _with_clocks(rows), total


# --- changes ------------------------------------------------------------------------------------------------------

async def _move(complaint: dict[str, Any], source: tuple[str, ...], target: str, changes: dict[Any, Any],
                step: str, user: CurrentUser, text: str, ip: str) -> bool:
    """Inside the caller's transaction: the conditional state change and its step and audit row.

    False when someone else moved the complaint between our read and our write."""
    now = utcnow()
    changed = await Complaint.update({**changes, Complaint.state: target, Complaint.updated_at: now}).where(
        Complaint.id == complaint["id"], Complaint.state.is_in(list(source))).returning(Complaint.id)
    if not changed:
        return False
    await ComplaintStep.insert(ComplaintStep(complaint=complaint["id"], action=step, actor=user.id,
                                             department=user.department_id if user.is_officer else None,
                                             text=text, created_at=now))
    await record(f"complaint.{step}", actor_id=user.id, subject_type="complaint",
                 subject_key=complaint["complaint_no"], ip=ip, from_state=complaint["state"], to_state=target)
    return True



async def reply(user: CurrentUser, complaint: dict[str, Any], answer: str, *, ip: str) -> None:
    """The department answers a complaint waiting for it (submitted, or reopened by the citizen)."""
    if complaint["state"] not in AWAITING_REPLY:
        raise await _wrong_state(user, complaint, "replied", ip)
    answer = required_text(answer, "answer", REPLY_MAX, _("Please write the reply."))
    no = complaint["complaint_no"]
    async with write_tx():
        moved = await _move(complaint, AWAITING_REPLY, "replied", {}, "replied", user, answer, ip)
        if moved:
            await notify(complaint["filer"], _("%(kind)s %(no)s has been replied to",
                                               kind=kind_label(complaint["kind"]), no=no),
                         answer[:200], f"/complaints/{no}")
    if not moved:
        raise await _wrong_state(user, {**complaint, **(await load(no) or {})}, "replied", ip)


async def close_by_filer(user: CurrentUser, complaint: dict[str, Any], *, satisfied: bool, reason: str,
                         ip: str) -> None:
    """After a reply the citizen closes it satisfied, or says why not: it reopens, with a new answering clock,
    and goes to the city's supervisors."""
    step = "closed" if satisfied else "reopened"
    if complaint["state"] != "replied":
        raise await _wrong_state(user, complaint, step, ip)
    no, kind = complaint["complaint_no"], kind_label(complaint["kind"])
    if satisfied:
        reason = reason.strip()[:REASON_MAX]
        changes: dict[Any, Any] = {Complaint.satisfied: True, Complaint.closed_at: utcnow()}
    else:
        reason = required_text(reason, "reason", REASON_MAX, _("Please say why you are not satisfied."))
        cal = await load_calendar()
        changes = {Complaint.satisfied: False,
                   Complaint.due_on: cal.add_working_days(local_today(), ANSWER_DAYS)}
    async with write_tx():
        moved = await _move(complaint, ("replied",), "closed" if satisfied else "reopened", changes, step, user,
                            reason, ip)
        if moved and satisfied:
            await _tell(await handlers_of(complaint["department"]),
                        _("%(kind)s %(no)s: the citizen is satisfied", kind=kind, no=no), reason,
                        f"/office/complaints/{no}")
        elif moved:
            title = _("%(kind)s %(no)s: the citizen is not satisfied", kind=kind, no=no)
            await _tell(await handlers_of(complaint["department"]), title, reason, f"/office/complaints/{no}")
            await _tell(await supervisors(), title, reason, f"/supervision/complaints/{no}")
    if not moved:
        raise await _wrong_state(user, {**complaint, **(await load(no) or {})}, step, ip)


async def assign(user: CurrentUser, complaint: dict[str, Any], department: str, *, ip: str) -> None:
    """A supervisor routes a complaint filed without a department; its answering clock starts again."""
    if complaint["state"] != "unassigned":
        raise await _wrong_state(user, complaint, "assigned", ip)
    department_id = parse_department(department)
    name = await Department.select(Department.name).where(Department.id == department_id).first() \
        if department_id else None
    if name is None:
        raise DomainError(_("Please choose a department from the list."), "department")
    cal = await load_calendar()
    no = complaint["complaint_no"]
    async with write_tx():
        moved = await _move(complaint, ("unassigned",), "submitted",
                            {Complaint.department: department_id,
                             Complaint.due_on: cal.add_working_days(local_today(), ANSWER_DAYS)},
                            "assigned", user, name["name"], ip)
        if moved:
            await _tell(await handlers_of(department_id),
                        _("New %(kind)s %(no)s: %(subject)s", kind=kind_label(complaint["kind"]), no=no,
                          subject=complaint["subject"]),
                        complaint["body"][:200], f"/office/complaints/{no}")
    if not moved:
        raise await _wrong_state(user, {**complaint, **(await load(no) or {})}, "assigned", ip)


async def rule(user: CurrentUser, complaint: dict[str, Any], opinion: str, *, ip: str) -> None:
    """A supervisor closes a reopened complaint with the final opinion; citizen and department are told."""
    if complaint["state"] != "reopened":
        raise await _wrong_state(user, complaint, "ruled", ip)
    opinion = required_text(opinion, "opinion", REPLY_MAX, _("Please write the final opinion."))
    no, kind = complaint["complaint_no"], kind_label(complaint["kind"])
    async with write_tx():
        moved = await _move(complaint, ("reopened",), "closed", {Complaint.closed_at: utcnow()}, "ruled", user,
                            opinion, ip)
        if moved:
            title = _("%(kind)s %(no)s is closed with the supervisors' final opinion", kind=kind, no=no)
            await notify(complaint["filer"], title, opinion[:200], f"/complaints/{no}")
            await _tell(await handlers_of(complaint["department"]), title, opinion[:200],
                        f"/office/complaints/{no}")
    if not moved:
        raise await _wrong_state(user, {**complaint, **(await load(no) or {})}, "ruled", ip)
