"""The demo city's everyday activity, for supervision: neighbours' cases over the last year through the real
workflow (most decided in time, some late, some running out of time today), rated, complained about and
questioned through the real services, so the supervisor's cards, rates and charts come from real clocks and the
public statistics from real cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app.accounts.sessions import current_user_by_id
from app.accounts.tables import User
from app.audit.tables import DataAccess
from app.db import utcnow
from app.demo import FAMILY, NAMED_OFFICERS, DemoFiling, _approve, _officer_of, file_demo_case, move_back
from app.filings.tables import Case
from app.lifelong.records import raise_dispute
from app.registry.tables import Person
from app.supervision import complaints, ratings
from app.supervision.cards import refresh_cards
from app.supervision.rollup import rebuild
from app.workdays.calendar import load_calendar, local_today

NEIGHBOURS = 8
PLANS = (
    ("440400-GJJ-004", 3, {"transfer_from": "广州市", "employer_name": "珠海格力电器股份有限公司"}),
    ("440400-JTJ-001", 5, {"license_class": "A2", "employer_name": "珠海市港运物流有限公司"}),
    ("440400-RSJ-004", 3, {"unemployed_since": "2026-08-31"}),
    ("440000-WJJ-001", 5, {"employer_name": "珠海市人民医院", "practice_category": "临床",
                           "practice_scope": "内科专业"}),
)
DECIDED = 18  # cases 0..17 decided over the last year; every sixth of them late
RED, YELLOW, FRESH = 2, 2, 2  # then cases now overdue, with one working day left, and just reviewed
# The neighbours rate most decided cases (level by case number); two are bad ratings.
LEVELS = (5, 5, 4, 5, 3, 5, 4, 2, 5, 4, 5, 1, 5, 4)
GOOD_TAGS = ["efficient", "few_materials"]


async def _neighbours(password_hash: str) -> list[int]:
    """Accounts for a few adults of the registry (activated, mobiles 1370000000N)."""
    people = await Person.raw(
        "SELECT p.id, p.name FROM person p LEFT JOIN app_user u ON u.person = p.id WHERE u.id IS NULL "
        "AND p.birth_date BETWEEN {} AND {} ORDER BY p.id LIMIT {}", date(1970, 1, 1), date(1998, 12, 31), NEIGHBOURS)
    now = utcnow()
    ids = []
    for n, p in enumerate(people, start=1):
        user = User(mobile=f"1370000{n:04d}", password_hash=password_hash, display_name=p["name"], kind="citizen",
                    person=p["id"], created_at=now - timedelta(days=420), activated_at=now - timedelta(days=419))
        await user.save()
        ids.append(user.id)
    return ids


def _calendar_days_back(cal: object, working_days: int, today: date) -> int:
    start = today
    while cal.working_days_between(start, today) < working_days:  # type: ignore[attr-defined]
        start -= timedelta(days=1)
    return (today - start).days


async def seed_activity(password_hash: str) -> str:
    """Neighbours' cases: decided over the last year, and open ones whose clocks give real yellow and red cards."""
    users = await _neighbours(password_hash)
    cal = await load_calendar()
    today = local_today()
    total = DECIDED + RED + YELLOW + FRESH
    for k in range(total):
        code, limit, form = PLANS[k % len(PLANS)]
        case = await file_demo_case(DemoFiling("", code, {}, form), users[k % len(users)], "", {})
        if k < DECIDED:
            took = limit + 3 if k % 6 == 5 else 2
            await _approve(case, days_ago=12 + k * 19, took=took, render=False)
        elif k < DECIDED + RED:
            case = await _approve(case, steps=1, render=False)
            await move_back(case["id"], _calendar_days_back(cal, limit + 2, today))
        elif k < DECIDED + RED + YELLOW:
            case = await _approve(case, steps=1, render=False)
            await move_back(case["id"], _calendar_days_back(cal, limit - 1, today))
        else:
            case = await _approve(case, steps=2, render=False)
            await move_back(case["id"], _calendar_days_back(cal, 1, today))
    cards = await refresh_cards(today)
    evaluations = await _evaluations(users)
    await rebuild()
    return f", {total} neighbours' cases ({cards} deadline cards){evaluations}"


async def _approver(department_id: int) -> Any:
    return await current_user_by_id(await _officer_of(department_id, "approver"))


async def _evaluations(neighbours: list[int]) -> str:
    """Ratings of the neighbours' decided cases (one bad rating answered and accepted, one waiting for its
    department); 陈志明's bad rating of his licence renewal, answered and waiting for him to accept or appeal;
    a complaint about an overdue case, a suggestion 黄丽华 made and the hall answered; her question about an
    officer's look at her data, waiting in the supervisors' queue."""
    decided = await Case.select(Case.id, Case.case_no, Case.applicant, Case.department).where(
        Case.applicant.is_in(neighbours), Case.state == "approved").order_by(Case.id)
    rated = 0
    for case_row, level in zip(decided, LEVELS, strict=False):
        user = await current_user_by_id(case_row["applicant"])
        case = await Case.select().where(Case.id == case_row["id"]).first()
        comment = "" if level >= 3 else "审核时间比承诺的长，中间也没有人告知进度。"
        await ratings.rate_case(case, user, str(level), [] if level < 5 else GOOD_TAGS, comment, ip="")
        rated += 1
        if level == 2:  # answered by the department and accepted by the neighbour
            task = await ratings.Rectification.select().where(ratings.Rectification.case == case["id"]).first()
            await ratings.answer_task(task, await _approver(case["department"]),
                                      "已核实：该件在审查环节等待外部核验超时。现已建立超时提醒，并电话向申请人致歉。",
                                      ip="")
            await ratings.accept_answer(case, user, ip="")

    father = await User.select(User.id).where(User.mobile == FAMILY[0].mobile).first()
    mother = await User.select(User.id).where(User.mobile == FAMILY[1].mobile).first()
    renewal = await Case.select().where(Case.applicant == father["id"], Case.item.code == "440400-GA-002").first()
    citizen = await current_user_by_id(father["id"])
    await ratings.rate_case(renewal, citizen, "2", ["hard_system"], "上传照片时反复提示格式错误，换了三次手机才成功。",
                            ip="")
    task = await ratings.Rectification.select().where(ratings.Rectification.case == renewal["id"]).first()
    await ratings.answer_task(task, await _approver(renewal["department"]),
                              "感谢反馈。照片上传已支持手机拍照的HEIC转换，并放宽了尺寸限制；如仍有问题请致电12345。",
                              ip="")

    overdue = await Case.select(Case.case_no, Case.applicant).where(
        Case.applicant.is_in(neighbours), Case.state == "accepted").order_by(Case.due_on).first()
    await complaints.file_complaint(await current_user_by_id(overdue["applicant"]), kind="complaint",
                                    subject="办件超过承诺时限仍未办结",
                                    body="已超过承诺办结时间，电话咨询也没有明确答复。",
                                    case_no=overdue["case_no"], ip="")
    hall_supervisor = await current_user_by_id((await User.select(User.id).where(
        User.mobile == next(m for m, o in NAMED_OFFICERS.items() if "supervisor" in o[1])).first())["id"])
    her = await current_user_by_id(mother["id"])
    number = await complaints.file_complaint(her, kind="suggestion", subject="建议增加周六上午的预约时段",
                                             body="上班族工作日很难请假，希望政务服务中心周六上午也能开放预约。",
                                             department=str(hall_supervisor.department_id), ip="")
    await complaints.reply(hall_supervisor, await complaints.load(number),
                           "感谢建议。自下月起，市民中心每周六上午9:00–12:00开放不动产、社保、公积金三类预约窗口。",
                           ip="")
    look = await DataAccess.select(DataAccess.id).where(DataAccess.holder_person == her.person_id).order_by(
        DataAccess.id, ascending=False).first()
    if look is not None:
        await raise_dispute(her, look["id"], "这次查看我没有办理对应的业务，想了解查看的原因。", ip="")
    return f", {rated + 1} ratings, 2 complaints and suggestions"
