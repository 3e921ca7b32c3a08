"""Ratings (好差评) and their rectification: the applicant rates a finished case once; a bad rating opens a task the
department answers within 15 working days; the citizen accepts the answer or appeals, and a supervisor rules.

    open → answered → accepted                    (the citizen accepts)
             └→ appealed → closed                 (a supervisor upholds the answer)
                   └→ open (round + 1)            (a supervisor sends it back to the department)

Each change is one transaction with its step, its audit row, its notifications and its roll-up counts; a refused
one changes nothing and is audited on its own."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from piccolo.query import OrderByRaw

from app.accounts.sessions import CurrentUser
from app.accounts.tables import OfficerRole
from app.audit.services import record, record_alone
from app.db import utcnow, write_tx
from app.errors import Conflict, FieldErrors, Forbidden, NotFound, required_text
from app.filings import workflow
from app.filings.tables import Case
from app.i18n import N_, _
from app.notify.services import notify
from app.supervision import rollup
from app.supervision.tables import Rating, Rectification, RectificationStep
from app.workdays.calendar import WorkCalendar, load_calendar, local_today

LEVELS = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Basically satisfied"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}
# Tags are stored by code; praise fits the satisfied levels, criticism the unsatisfied ones, and 基本满意 (3)
# takes either, since "basically satisfied" often comes with something to improve.
GOOD_TAGS = {
    "efficient": N_("Efficient handling"),
    "courteous": N_("Courteous service"),
    "few_materials": N_("Few materials"),
    "one_visit": N_("Done in one go"),
}
BAD_TAGS = {
    "slow": N_("Slow handling"),
    "discourteous": N_("Discourteous service"),
    "many_visits": N_("Had to come several times"),
    "many_materials": N_("Too many materials"),
    "hard_system": N_("The system is hard to use"),
}
TAGS = {**GOOD_TAGS, **BAD_TAGS}
COMMENT_MAX = 500
TEXT_MAX = 2000
RECTIFICATION_DAYS = 15  # working days the department has to answer a bad rating, each round
ANSWERING_ROLES = ("approver", "supervisor")
PAGE_SIZE = 50

RECTIFICATION_STATES = {
    "open": N_("Awaiting the department's answer"),
    "answered": N_("Answered, awaiting the citizen"),
    "appealed": N_("Appealed, awaiting a supervisor"),
    "accepted": N_("Accepted by the citizen"),
    "closed": N_("Closed by a supervisor's ruling"),
}
STEPS = {
    "opened": N_("Bad rating: rectification opened"),
    "answered": N_("The department answered"),
    "accepted": N_("The citizen accepted the answer"),
    "appealed": N_("The citizen appealed"),
    "upheld": N_("Ruling: the answer stands"),
    "returned": N_("Ruling: sent back to the department"),
}
RULINGS = ("uphold", "return")


def level_label(level: int) -> str:
    return _(LEVELS.get(level, str(level)))


def tag_label(code: str) -> str:
    return _(TAGS[code]) if code in TAGS else code


def rectification_state_label(state: str) -> str:
    return _(RECTIFICATION_STATES.get(state, state))


def tags_for(level: int) -> dict[str, str]:
    """The tags a level may carry."""
    good = GOOD_TAGS if level >= rollup.SATISFIED_LEVEL else {}
    bad = BAD_TAGS if level <= rollup.SATISFIED_LEVEL else {}
    return {**good, **bad}


@dataclass(frozen=True)
class RatingForm:
    level: int
    tags: list[str]
    comment: str


def parse_rating(level_text: str, tags: list[str], comment: str) -> RatingForm:
    """The rating form's rules, all problems at once: a level 1–5, tags fitting the level, a comment (≤ 500
    characters) that is required when dissatisfied."""
    errors = FieldErrors()
    level = int(level_text) if level_text.isdigit() and int(level_text) in LEVELS else 0
    if not level:
        errors.add("level", _("Please choose how satisfied you are."))
    unknown = [t for t in tags if t not in TAGS]
    if unknown:
        errors.add("tags", _("Please choose tags from the list."))
    elif level and any(t not in tags_for(level) for t in tags):
        errors.add("tags", _("These tags do not fit the level you chose: praise goes with satisfied, criticism "
                             "with dissatisfied."))
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        errors.add("comment", _("The comment can be at most %(n)d characters.", n=COMMENT_MAX))
    elif level and level < rollup.SATISFIED_LEVEL and not comment:
        errors.add("comment", _("Please tell us what went wrong, so that the department can put it right."))
    errors.raise_if_any()
    return RatingForm(level, list(dict.fromkeys(tags)), comment)



async def _refuse(action: str, user: CurrentUser, ip: str, outcome: str, reason: str, *, subject_type: str,
                  subject_key: str, **detail: Any) -> None:
    await record_alone(action, outcome=outcome, actor_id=user.id, subject_type=subject_type, subject_key=subject_key,
                       ip=ip, reason=reason, **detail)


# --- the citizen's side ------------------------------------------------------------------------------------------

async def rater_case(user: CurrentUser, case_no: str, *, ip: str) -> dict[str, Any]:
    """The case, if the user may rate it: whoever may act for its holder, never an officer (a proxy agent filed
    it for a resident, who rates it). Anyone else gets the same 404 as for a case that does not exist."""
    case = await workflow.load_case(case_no)
    if user.is_officer or not await workflow.may_act_for_holder(user, case):
        await _refuse("access.denied", user, ip, "denied", "not the applicant", subject_type="case",
                      subject_key=case_no[:20])
        raise NotFound()
    return case


async def rate_case(case: dict[str, Any], user: CurrentUser, level: str, tags: list[str], comment: str, *,
                    ip: str) -> int:
    """Store the rating (returning its id), once per case and only after a decision; a bad one opens its
    rectification task in the same transaction and tells the department."""
    if case["state"] not in rollup.DECIDED_STATES:
        await _refuse("rating.create", user, ip, "conflict", "not finished", subject_type="case",
                      subject_key=case["case_no"], state=case["state"])
        raise Conflict(_("This case has not ended yet (“%(state)s”). You can rate it once it is decided.",
                         state=workflow.state_label(case["state"])))
    if await Rating.exists().where(Rating.case == case["id"]):
        await _refuse_second(case, user, ip)
    form = parse_rating(level, tags, comment)
    today, now = local_today(), utcnow()
    async with write_tx():
        rows = await Rating.insert(Rating(
            case=case["id"], department=case["department"], item=case["item"], rater=user.id, level=form.level,
            tags=form.tags, comment=form.comment, created_at=now,
        )).on_conflict(action="DO NOTHING").returning(Rating.id)
        if rows:
            bad = form.level < rollup.SATISFIED_LEVEL
            await record("rating.create", actor_id=user.id, subject_type="case", subject_key=case["case_no"],
                         ip=ip, level=form.level, tags=form.tags)
            await rollup.bump(case["department"], case["item"], today, ratings=1, satisfied=int(not bad),
                              bad_ratings=int(bad))
            if bad:
                await _open_rectification(case, rows[0]["id"], user, form.comment, today, ip)
    if not rows:  # a second click a moment ago
        await _refuse_second(case, user, ip)
    return int(rows[0]["id"])


async def _refuse_second(case: dict[str, Any], user: CurrentUser, ip: str) -> NoReturn:
    await _refuse("rating.create", user, ip, "conflict", "already rated", subject_type="case",
                  subject_key=case["case_no"])
    raise Conflict(_("This case has already been rated; a case is rated once."))


async def _open_rectification(case: dict[str, Any], rating_id: int, user: CurrentUser, comment: str, today: date,
                              ip: str) -> None:
    cal = await load_calendar()
    now = utcnow()
    rows = await Rectification.insert(Rectification(
        rating=rating_id, case=case["id"], department=case["department"], state="open", round=1,
        due_on=cal.add_working_days(today, RECTIFICATION_DAYS), created_at=now, updated_at=now,
    )).returning(Rectification.id)
    task_id = rows[0]["id"]
    await RectificationStep.insert(RectificationStep(rectification=task_id, action="opened", actor=user.id,
                                                     text=comment, created_at=now))
    await record("rectification.open", actor_id=user.id, subject_type="rectification", subject_key=str(task_id),
                 ip=ip, case_no=case["case_no"])
    await rollup.bump(case["department"], case["item"], today, rectifications=1)
    await _tell_department(case["department"], task_id,
                           _("Bad rating of case %(case_no)s: please answer within %(n)d working days",
                             case_no=case["case_no"], n=RECTIFICATION_DAYS), comment)


async def _tell_department(department: int, task_id: int, title: str, body: str) -> None:
    """The department's approvers and supervisors answer rectifications: each gets the in-site message."""
    users = await OfficerRole.select(OfficerRole.user).where(
        OfficerRole.role.is_in(list(ANSWERING_ROLES)), OfficerRole.user.department == department,
        OfficerRole.user.is_active.eq(True)).output(as_list=True)
    for user_id in sorted(set(users)):
        await notify(user_id, title, body, f"/office/rectifications/{task_id}")


async def rating_of(case_id: int) -> dict[str, Any] | None:
    """A case's rating with its rectification task and the task's steps, or None."""
    rating = await Rating.select().where(Rating.case == case_id).first()
    if rating is None:
        return None
    task = await Rectification.select().where(Rectification.rating == rating["id"]).first()
    return {**rating, "tags": _tags(rating["tags"]), "task": await _with_steps(task) if task else None}


async def _with_steps(task: dict[str, Any]) -> dict[str, Any]:
    steps = await RectificationStep.select(
        RectificationStep.action, RectificationStep.text, RectificationStep.created_at,
        RectificationStep.actor.display_name.as_alias("actor_name"),
        RectificationStep.department.name.as_alias("department_name"),
    ).where(RectificationStep.rectification == task["id"]).order_by(RectificationStep.id)
    return {**task, "steps": steps}


async def for_case_page(case: dict[str, Any]) -> dict[str, Any]:
    """What the applicant's case page shows: whether the case may be rated, and the rating given, in words."""
    rateable = case["state"] in rollup.DECIDED_STATES
    given = await rating_of(case["id"]) if rateable else None
    if given is not None:
        given["level_label"] = level_label(given["level"])
        given["satisfied"] = given["level"] >= rollup.SATISFIED_LEVEL
        given["tag_labels"] = [tag_label(t) for t in given["tags"]]
        given["task_state"] = rectification_state_label(given["task"]["state"]) if given["task"] else ""
    return {"rateable": rateable, "given": given}


async def rating_page(case: dict[str, Any]) -> dict[str, Any]:
    """What the rating page shows: the case in short, whether it may be rated, the rating and its task."""
    return {"case": await case_summary(case["id"]), "rateable": case["state"] in rollup.DECIDED_STATES,
            "rating": await rating_of(case["id"])}


async def case_summary(case_id: int) -> dict[str, Any]:
    row = await Case.select(
        Case.id, Case.case_no, Case.state, Case.decided_on, Case.days_used, Case.limit_days,
        Case.item.name.as_alias("item_name"), Case.department.name.as_alias("department_name"),
        Case.holder_person.name.as_alias("person_name"), Case.holder_entity.name.as_alias("entity_name"),
    ).where(Case.id == case_id).first()
    if row is None:
        raise NotFound()
    return row


async def _citizen_task(case: dict[str, Any]) -> dict[str, Any]:
    task = await Rectification.select().where(Rectification.case == case["id"]).first()
    if task is None:
        raise NotFound()
    return task


async def accept_answer(case: dict[str, Any], user: CurrentUser, *, ip: str) -> None:
    """The citizen is content with the department's answer: the task is done."""
    task = await _citizen_task(case)
    await _move(task, "accepted", "answered", user, ip, text="", actor_department=None,
                changes={Rectification.closed_at: utcnow()}, rectified=True)


async def appeal_answer(case: dict[str, Any], user: CurrentUser, reason: str, *, ip: str) -> None:
    """The citizen is not content: a supervisor looks at the answer."""
    task = await _citizen_task(case)
    if task["state"] == "answered":
        reason = required_text(reason, "reason", TEXT_MAX, _("Please say why the answer does not settle it."))
    await _move(task, "appealed", "answered", user, ip, text=reason, actor_department=None)


async def _move(task: dict[str, Any], action: str, source: str, user: CurrentUser, ip: str, *, text: str,
                actor_department: int | None, changes: dict[Any, Any] | None = None, rectified: bool = False,
                target: str | None = None) -> None:
    """One step of a task from `source`: the state change, its step, its audit row, its announcement and, when it
    ends the task, the roll-up, in one transaction; a wrong state or a concurrent change is refused and audited."""
    target = target or action
    if task["state"] != source:
        await _refuse(f"rectification.{action}", user, ip, "conflict", "wrong state", subject_type="rectification",
                      subject_key=str(task["id"]), state=task["state"])
        raise Conflict(_("This rectification is now “%(state)s”; the action is no longer possible.",
                         state=rectification_state_label(task["state"])))
    now = utcnow()
    async with write_tx():
        changed = await Rectification.update({**(changes or {}), Rectification.state: target,
                                              Rectification.updated_at: now}).where(
            Rectification.id == task["id"], Rectification.state == source).returning(Rectification.id)
        if changed:
            await RectificationStep.insert(RectificationStep(rectification=task["id"], action=action, actor=user.id,
                                                             department=actor_department, text=text,
                                                             created_at=now))
            await record(f"rectification.{action}", actor_id=user.id, subject_type="rectification",
                         subject_key=str(task["id"]), ip=ip, from_state=source, to_state=target)
            rating = await Rating.select(Rating.item, Rating.rater, Rating.case.case_no.as_alias("case_no")).where(
                Rating.id == task["rating"]).first()
            if rectified:
                await rollup.bump(task["department"], rating["item"], local_today(), rectified=1)
            await _announce(task, action, rating, text)
    if not changed:
        await _refuse(f"rectification.{action}", user, ip, "conflict", "changed concurrently",
                      subject_type="rectification", subject_key=str(task["id"]))
        raise Conflict(_("Someone else has just handled this rectification. Please look at its new state."))


async def _announce(task: dict[str, Any], action: str, rating: dict[str, Any], text: str) -> None:
    """Who hears of a step: the rater of an answer or a ruling that closes; the department of a return."""
    case_no = rating["case_no"]
    if action in ("answered", "upheld"):
        title = (_("The department answered your rating of case %(case_no)s", case_no=case_no) if action == "answered"
                 else _("A supervisor ruled on your appeal about case %(case_no)s", case_no=case_no))
        await notify(rating["rater"], title, text, f"/cases/{case_no}/rating")
    elif action == "returned":
        await _tell_department(task["department"], task["id"],
                               _("Rectification of case %(case_no)s sent back: please answer again within %(n)d "
                                 "working days", case_no=case_no, n=RECTIFICATION_DAYS), text)


# --- the department's side ---------------------------------------------------------------------------------------

def may_answer(user: CurrentUser, task: dict[str, Any]) -> bool:
    return (user.is_officer and user.department_id == task["department"]
            and bool(user.roles.intersection(ANSWERING_ROLES)))


async def department_task(user: CurrentUser, task_id: int, *, ip: str) -> dict[str, Any]:
    """A task of the officer's own department; another department's officer is refused (403) and audited."""
    task = await Rectification.select().where(Rectification.id == task_id).first()
    if task is None:
        raise NotFound()
    if not may_answer(user, task):
        await _refuse("access.denied", user, ip, "denied", "other department", subject_type="rectification",
                      subject_key=str(task_id))
        raise Forbidden()
    return task


async def answer_task(task: dict[str, Any], user: CurrentUser, answer: str, *, ip: str) -> None:
    """The department's answer to the bad rating: what was put right and how."""
    if task["state"] == "open":
        answer = required_text(answer, "answer", TEXT_MAX, _("Please write the department's answer."))
    await _move(task, "answered", "open", user, ip, text=answer, actor_department=user.department_id,
                changes={Rectification.answer: answer, Rectification.answered_by: user.id,
                         Rectification.answered_at: utcnow()})


@dataclass(frozen=True)
class TaskClock:
    """A task's working days: left until its due date, or past it."""

    left: int
    overdue: int


def task_clock(task: dict[str, Any], cal: WorkCalendar, today: date) -> TaskClock:
    left = cal.working_days_left(task["due_on"], today)
    return TaskClock(left=max(left, 0), overdue=max(-left, 0))


def _task_columns() -> tuple[Any, ...]:
    return (
        Rectification.id, Rectification.state, Rectification.round, Rectification.due_on, Rectification.answer,
        Rectification.answered_at, Rectification.created_at, Rectification.updated_at, Rectification.case,
        Rectification.rating, Rectification.department,
        Rectification.case.case_no.as_alias("case_no"), Rectification.case.item.name.as_alias("item_name"),
        Rectification.department.name.as_alias("department_name"),
        Rectification.rating.level.as_alias("level"), Rectification.rating.tags.as_alias("tags"),
        Rectification.rating.comment.as_alias("comment"),
    )


async def department_tasks(user: CurrentUser, page: int = 1) -> list[dict[str, Any]]:
    """The department's tasks: those waiting for its answer first, by due date; then the rest, newest first."""
    rows = await Rectification.select(*_task_columns()).where(
        Rectification.department == user.department_id,
    ).order_by(OrderByRaw("CASE WHEN rectification.state = 'open' THEN 0 ELSE 1 END")).order_by(
        OrderByRaw("CASE WHEN rectification.state = 'open' THEN rectification.due_on END")).order_by(
        Rectification.updated_at, ascending=False).order_by(Rectification.id).limit(PAGE_SIZE).offset(
        (max(page, 1) - 1) * PAGE_SIZE)
    return await _with_clocks(rows)


async def _with_clocks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cal = await load_calendar()
    today = local_today()
    return [{**r, "tags": _tags(r["tags"]), "clock": task_clock(r, cal, today)} for r in rows]


def _tags(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


async def task_detail(task: dict[str, Any]) -> dict[str, Any]:
    """The task page: the task with its steps and clock, the rating, the case in short."""
    rating = await Rating.select().where(Rating.id == task["rating"]).first()
    cal = await load_calendar()
    return {"task": {**await _with_steps(task), "clock": task_clock(task, cal, local_today())},
            "rating": {**rating, "tags": _tags(rating["tags"])}, "case": await case_summary(task["case"])}


# --- the supervisor's side ---------------------------------------------------------------------------------------

async def appealed_tasks(page: int = 1) -> list[dict[str, Any]]:
    """Every appealed task in the city, the longest waiting first, with its steps."""
    rows = await Rectification.select(*_task_columns()).where(Rectification.state == "appealed").order_by(
        Rectification.updated_at).order_by(Rectification.id).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)
    return [await _with_steps(r) for r in await _with_clocks(rows)]


async def appealed_task(task_id: int) -> dict[str, Any]:
    task = await Rectification.select().where(Rectification.id == task_id).first()
    if task is None:
        raise NotFound()
    return task


async def rule_on_appeal(task: dict[str, Any], user: CurrentUser, ruling: str, opinion: str, *, ip: str) -> None:
    """A supervisor's ruling: the answer stands (the task closes), or the department answers again with a new
    15-working-day clock."""
    if task["state"] == "appealed":
        errors = FieldErrors()
        if ruling not in RULINGS:
            errors.add("ruling", _("Please choose a ruling."))
        errors.check(required_text, opinion, "opinion", TEXT_MAX, _("Please write your opinion."))
        errors.raise_if_any()
        opinion = opinion.strip()
    if ruling == "return":
        cal = await load_calendar()
        await _move(task, "returned", "appealed", user, ip, text=opinion, actor_department=user.department_id,
                    target="open", changes={
                        Rectification.round: task["round"] + 1, Rectification.answer: "",
                        Rectification.answered_by: None, Rectification.answered_at: None,
                        Rectification.due_on: cal.add_working_days(local_today(), RECTIFICATION_DAYS)})
    else:
        await _move(task, "upheld", "appealed", user, ip, text=opinion, actor_department=user.department_id,
                    target="closed", changes={Rectification.closed_at: utcnow()}, rectified=True)
