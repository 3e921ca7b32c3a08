"""The case state machine. Each transition is one function: one transaction holding the state change, its
step row, its audit row and its notification. A refused action (wrong state, wrong officer) changes nothing
and is audited on its own.

    draft → submitted → accepted → under_review → approved | denied
              │  ↑          (受理)      (审查)          (决定)
              │  resubmitted ← correction_requested (一次性告知; the clock stops)
              └→ rejected (不予受理)
    withdrawn: by the applicant at any point before a decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.accounts.sessions import CurrentUser
from app.audit.services import record, record_alone
from app.db import read_one, utcnow, write_tx
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.filings.tables import Case, CaseStep, ProxyConsent
from app.i18n import N_, _
from app.lifelong.tables import EnterpriseMember
from app.notify.services import notify
from app.registry.tables import Person
from app.workdays.calendar import WorkCalendar, load_calendar, local_today

STATES = {
    "draft": N_("Draft"),
    "submitted": N_("Awaiting acceptance"),
    "correction_requested": N_("Correction requested"),
    "resubmitted": N_("Corrected, awaiting acceptance"),
    "accepted": N_("Accepted, under review"),
    "under_review": N_("Reviewed, awaiting decision"),
    "approved": N_("Approved"),
    "denied": N_("Denied"),
    "rejected": N_("Not accepted"),
    "withdrawn": N_("Application withdrawn"),
    "waiting": N_("Waiting for an earlier item of the bundle"),
    "cancelled": N_("Stopped with its bundle"),
}
OPEN_STATES = ("submitted", "correction_requested", "resubmitted", "accepted", "under_review")
# The same as SQL literals: a query written with `state IN (OPEN_STATES_SQL)` can use the partial indexes on open
# cases, which bound parameters cannot.
OPEN_STATES_SQL = ", ".join(f"'{s}'" for s in OPEN_STATES)
FINAL_STATES = ("approved", "denied", "rejected", "withdrawn", "cancelled")
AGENT_FILING_SCOPES = ("all", "filing")


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str
    role: str  # "applicant", or the officer role that takes it
    opinion_required: bool = False


TRANSITIONS = {t.action: t for t in (
    Transition("submit", N_("Application submitted"), ("draft", "waiting"), "submitted", "applicant"),
    Transition("accept", N_("Accepted (受理)"), ("submitted", "resubmitted"), "accepted", "clerk"),
    Transition("request_correction", N_("Correction requested, all at once (一次性告知)"),
               ("submitted", "resubmitted"), "correction_requested", "clerk", opinion_required=True),
    Transition("reject", N_("Not accepted (不予受理)"), ("submitted", "resubmitted"), "rejected", "clerk",
               opinion_required=True),
    Transition("resubmit", N_("Corrected and resubmitted"), ("correction_requested",), "resubmitted", "applicant"),
    Transition("review", N_("Reviewed (审查)"), ("accepted",), "under_review", "reviewer", opinion_required=True),
    Transition("approve", N_("Decided: approved (决定)"), ("under_review",), "approved", "approver",
               opinion_required=True),
    Transition("deny", N_("Decided: denied (决定)"), ("under_review",), "denied", "approver",
               opinion_required=True),
    Transition("withdraw", N_("Withdrawn by the applicant"), OPEN_STATES, "withdrawn", "applicant"),
    # A bundle's member stops when one it waits for (or, by the bundle's rule, any other) is refused.
    Transition("cancel", N_("Stopped with its bundle"), ("waiting", *OPEN_STATES), "cancelled", "applicant"),
)}


@dataclass(frozen=True)
class ClockView:
    """What the applicant and the officer see of the deadline."""

    limit: int
    used: int
    left: int
    due_on: date | None
    paused: bool
    finished: bool

    @property
    def overdue(self) -> bool:
        return not self.finished and self.left < 0


def days_used(case: dict[str, Any], cal: WorkCalendar, today: date) -> int:
    """Working days the case has run: from submission to today (or the pause, or the decision)."""
    start = case["clock_started_on"]
    if start is None:
        return 0
    if case["days_used"] is not None:
        return int(case["days_used"])
    end = case["paused_since"] or today
    return max(cal.working_days_between(start, end) - case["paused_days"], 0)


def clock_view(case: dict[str, Any], cal: WorkCalendar, today: date) -> ClockView:
    used = days_used(case, cal, today)
    return ClockView(limit=case["limit_days"], used=used, left=case["limit_days"] - used, due_on=case["due_on"],
                     paused=case["paused_since"] is not None, finished=case["state"] in FINAL_STATES)


def state_label(state: str) -> str:
    return _(STATES.get(state, state))


def step_label(action: str) -> str:
    return _(TRANSITIONS[action].label) if action in TRANSITIONS else action


# --- who may act ---------------------------------------------------------------------------------------------

async def may_act_for_holder(user: CurrentUser, case: dict[str, Any]) -> bool:
    """The filer (a proxy agent too), the holder in person, or an enterprise's legal representative or agent."""
    if case["applicant"] == user.id:
        return True
    if user.is_officer:
        return False
    if case["holder_person"] is not None:
        return user.person_id == case["holder_person"]
    if case["holder_entity"] is not None:
        member = await EnterpriseMember.select(EnterpriseMember.role, EnterpriseMember.scope,
                                               EnterpriseMember.expires_on).where(
            EnterpriseMember.entity == case["holder_entity"], EnterpriseMember.user == user.id,
            EnterpriseMember.revoked_at.is_null()).first()
        if member is None or (member["expires_on"] is not None and member["expires_on"] < local_today()):
            return False
        return member["role"] == "legal_rep" or member["scope"] in (*AGENT_FILING_SCOPES, "view")
    return False


def officer_may(user: CurrentUser, case: dict[str, Any], role: str) -> bool:
    """A front-desk clerk of the case's hall, or a reviewer/approver of the item's department."""
    if not user.is_officer or role not in user.roles:
        return False
    department = case["hall"] if role == "clerk" else case["department"]
    return user.department_id == department


async def _refuse(case: dict[str, Any], action: str, user: CurrentUser, ip: str, outcome: str, reason: str) -> None:
    await record_alone(f"case.{action}", outcome=outcome, actor_id=user.id, subject_type="case",
                       subject_key=case["case_no"], ip=ip, state=case["state"], reason=reason)


async def load_case(case_no: str) -> dict[str, Any]:
    case = await read_one("SELECT * FROM filing_case WHERE case_no = {}", case_no[:20])
    if case is None or case["state"] == "draft":
        raise NotFound()
    return case


# --- the one transition engine ---------------------------------------------------------------------------------

async def _transition(case: dict[str, Any], action: str, user: CurrentUser, *, ip: str, opinion: str = "",
                      version: int | None = None, changes: dict[Any, Any] | None = None,
                      today: date | None = None) -> dict[str, Any]:
    """Move the case along one transition; raise Forbidden/Conflict (audited) when it may not."""
    t = TRANSITIONS[action]
    allowed = await may_act_for_holder(user, case) if t.role == "applicant" else officer_may(user, case, t.role)
    if not allowed:
        await _refuse(case, action, user, ip, "denied", f"not the {t.role} of this case")
        raise Forbidden()
    if case["state"] not in t.sources:
        await _refuse(case, action, user, ip, "conflict", "wrong state")
        raise Conflict(_("This case is now “%(state)s”; the action is no longer possible.",
                         state=state_label(case["state"])))
    if version is not None and version != case["version"]:
        await _refuse(case, action, user, ip, "conflict", "stale version")
        raise Conflict(_("Someone else has just handled this case. Please look at its new state."))
    opinion = opinion.strip()
    if t.opinion_required and not opinion:
        raise DomainError(_("Please write your opinion."), "opinion")
    if len(opinion) > 2000:
        raise DomainError(_("The opinion can be at most 2000 characters."), "opinion")

    cal = await load_calendar()
    today = today or local_today()
    now = utcnow()
    updates: dict[Any, Any] = dict(changes or {})
    clock = dict(case)
    if action == "submit":
        updates.update({Case.clock_started_on: today, Case.submitted_at: now,
                        Case.due_on: cal.add_working_days(today, case["limit_days"])})
        clock["clock_started_on"] = today
    elif action == "request_correction":
        updates[Case.paused_since] = today
    elif action == "resubmit":
        paused = case["paused_days"] + cal.working_days_between(case["paused_since"], today)
        updates.update({Case.paused_since: None, Case.paused_days: paused,
                        Case.due_on: cal.add_working_days(case["clock_started_on"], case["limit_days"] + paused)})
        clock.update(paused_since=None, paused_days=paused)
    used = days_used(clock, cal, today)
    if t.target in FINAL_STATES:
        updates.update({Case.decided_on: today, Case.days_used: used})

    async with write_tx():
        changed = await Case.update({**updates, Case.state: t.target, Case.version: case["version"] + 1,
                                     Case.updated_at: now}).where(
            Case.id == case["id"], Case.state == case["state"], Case.version == case["version"]
        ).returning(Case.id)
        if changed:
            await CaseStep.raw(
                'INSERT INTO case_step ("case", action, from_state, to_state, actor, department, opinion, days_used, '
                "created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})", case["id"], action, case["state"],
                t.target, user.id, user.department_id if user.is_officer else None, opinion, used, now)
            if action == "submit" and case["proxy_consent"]:
                await ProxyConsent.update({ProxyConsent.used_at: now}).where(
                    ProxyConsent.id == case["proxy_consent"])
            await record(f"case.{action}", actor_id=user.id, subject_type="case", subject_key=case["case_no"], ip=ip,
                         from_state=case["state"], to_state=t.target)
            if t.target == "approved" and case["bundle_case"] is not None:
                from app.bundles.services import register_on_approval  # bundles build on filings

                case = await register_on_approval(case, today)  # a new enterprise or child holds it from now
            if t.target == "approved":  # the certificate commits with the approval
                from app.certificates.services import issue_for_case

                await issue_for_case(case, user, today)
            await _announce(case, t, opinion)
            await _supervise(case, t.target, {c._meta.name: v for c, v in updates.items()}, used, user, today)
            if case["bundle_case"] is not None:
                from app.bundles.services import after_member_transition

                await after_member_transition(case, t.target, today)
    if not changed:
        # Another officer (or a double click) changed the case between our read and our write.
        await _refuse(case, action, user, ip, "conflict", "changed concurrently")
        raise Conflict(_("Someone else has just handled this case. Please look at its new state."))
    return {**case, "state": t.target, "version": case["version"] + 1}


async def _supervise(case: dict[str, Any], target: str, changed: dict[str, Any], used: int, user: CurrentUser,
                     today: date) -> None:
    """The supervision roll-ups and the case's deadline card follow every transition, in its transaction."""
    from app.supervision import cards, rollup  # supervision builds on filings

    await rollup.on_case_transition(case, target, today, used)
    await cards.on_case_transition({**case, **changed, "state": target}, target,
                                   user.id if user.is_officer else None, today)


async def _announce(case: dict[str, Any], t: Transition, opinion: str) -> None:
    """The holder (and the filer, if someone else) hear of every state change, in-site and by SMS."""
    title = _("Case %(case_no)s: %(state)s", case_no=case["case_no"], state=state_label(t.target))
    body = opinion if t.role != "applicant" else ""
    link = f"/cases/{case['case_no']}"
    recipients = {case["applicant"]}
    mobile = ""
    if case["holder_person"] is not None:
        rows = await Person.raw("SELECT p.mobile, u.id AS user_id FROM person p "
                                "LEFT JOIN app_user u ON u.person = p.id WHERE p.id = {}", case["holder_person"])
        recipients.update(r["user_id"] for r in rows if r["user_id"] is not None)
        mobile = rows[0]["mobile"] if rows else ""
    for user_id in sorted(recipients):
        await notify(user_id, title, body, link)
    if mobile:
        await notify(None, title, body, sms_to=mobile)


# --- the transitions ---------------------------------------------------------------------------------------------

async def submit_case(case: dict[str, Any], user: CurrentUser, *, ip: str) -> dict[str, Any]:
    return await _transition(case, "submit", user, ip=ip)


async def accept_case(case: dict[str, Any], user: CurrentUser, *, ip: str, opinion: str = "",
                      version: int | None = None) -> dict[str, Any]:
    return await _transition(case, "accept", user, ip=ip, opinion=opinion, version=version)


async def request_correction(case: dict[str, Any], user: CurrentUser, *, ip: str, materials: list[str],
                             fields: list[str], note: str, version: int | None = None) -> dict[str, Any]:
    """一次性告知: everything missing, at once; the applicant answers just that."""
    if not materials and not fields and not note.strip():
        raise DomainError(_("Name the missing materials or fields, or write what must be corrected."), "opinion")
    correction = {"materials": materials, "fields": fields, "note": note.strip()}
    return await _transition(case, "request_correction", user, ip=ip, opinion=note or _("See the list."),
                             version=version, changes={Case.correction: correction})


async def reject_case(case: dict[str, Any], user: CurrentUser, *, ip: str, reason: str,
                      version: int | None = None) -> dict[str, Any]:
    return await _transition(case, "reject", user, ip=ip, opinion=reason, version=version)


async def resubmit_case(case: dict[str, Any], user: CurrentUser, *, ip: str,
                        form_data: dict[str, str] | None = None) -> dict[str, Any]:
    changes = {Case.correction: {}}
    if form_data is not None:
        changes[Case.form_data] = form_data
    return await _transition(case, "resubmit", user, ip=ip, changes=changes)


async def review_case(case: dict[str, Any], user: CurrentUser, *, ip: str, opinion: str,
                      version: int | None = None) -> dict[str, Any]:
    return await _transition(case, "review", user, ip=ip, opinion=opinion, version=version)


async def approve_case(case: dict[str, Any], user: CurrentUser, *, ip: str, opinion: str,
                       version: int | None = None) -> dict[str, Any]:
    return await _transition(case, "approve", user, ip=ip, opinion=opinion, version=version)


async def deny_case(case: dict[str, Any], user: CurrentUser, *, ip: str, opinion: str,
                    version: int | None = None) -> dict[str, Any]:
    return await _transition(case, "deny", user, ip=ip, opinion=opinion, version=version)


async def cancel_case(case: dict[str, Any], user: CurrentUser, *, opinion: str) -> dict[str, Any] | None:
    """A bundle's member stops because another was refused (by the bundle's rule); None if it has already ended."""
    fresh = await Case.select().where(Case.id == case["id"]).first()
    if fresh["state"] not in TRANSITIONS["cancel"].sources:
        return None
    return await _transition(fresh, "cancel", user, ip="", opinion=opinion)


async def withdraw_case(case: dict[str, Any], user: CurrentUser, *, ip: str, reason: str = "") -> dict[str, Any]:
    return await _transition(case, "withdraw", user, ip=ip, opinion=reason)


OFFICER_ACTIONS = {"accept", "request_correction", "reject", "review", "approve", "deny"}


def actions_for_officer(user: CurrentUser, case: dict[str, Any]) -> list[str]:
    return [a for a in ("accept", "request_correction", "reject", "review", "approve", "deny")
            if case["state"] in TRANSITIONS[a].sources and officer_may(user, case, TRANSITIONS[a].role)]
