"""Ratings over HTTP: rating a finished case once, a bad rating's rectification answered by the department, the
citizen's acceptance or appeal, the supervisor's ruling, the refusals (audited), the to-do and bundles."""

from __future__ import annotations

import re

import pytest

from app.accounts.sessions import current_user_by_id as as_current
from app.audit.tables import AuditEvent
from app.filings import workflow
from app.filings.tables import Case
from app.jobs import run_all
from app.lifelong.tables import Todo
from app.notify.tables import Notification
from app.registry.tables import Department
from app.supervision import rollup
from app.supervision.tables import CaseRollup, Rating, Rectification, RectificationStep
from app.workdays.calendar import load_calendar, local_today
from tests import factories
from tests.bundle_fixture import SIDE_ITEM, bundle_hall
from tests.filing_fixture import ITEM, hall
from tests.integration.bundles.test_bundles import children, decide, file_bundle
from tests.integration.filings.test_filing import filed_case

pytestmark = pytest.mark.anyio


async def decided_case(client, h, final: str = "approve") -> Case:
    """A case filed over HTTP by the citizen (who stays logged in) and decided by the department's officers."""
    case = await filed_case(client, h)
    row = await workflow.load_case(case.case_no)
    for officer, action in ((h.clerk, workflow.accept_case), (h.reviewer, workflow.review_case),
                            (h.approver, workflow.deny_case if final == "deny" else workflow.approve_case)):
        kwargs = {} if action is workflow.accept_case else {"opinion": "同意"}
        row = await action(row, await as_current(officer.id), ip="", **kwargs)
    await case.refresh()
    return case


async def rate(client, case_no: str, level: int | str, tags: tuple[str, ...] = (), comment: str = ""):
    return await factories.post(client, f"/cases/{case_no}/rating",
                                {"level": str(level), "tags": list(tags), "comment": comment})


async def counts(department: int) -> dict[str, int]:
    rows = await CaseRollup.select().where(CaseRollup.department == department)
    return {c: sum(r[c] for r in rows) for c in ("ratings", "satisfied", "bad_ratings", "rectifications",
                                                  "rectified")}


async def audited(action: str, outcome: str = "ok") -> list[dict]:
    return await AuditEvent.select().where(AuditEvent.action == action, AuditEvent.outcome == outcome)


async def bad_rating(client, h) -> tuple[Case, dict]:
    case = await decided_case(client, h)
    response = await rate(client, case.case_no, 2, ("slow", "many_visits"), "跑了三趟才办完，窗口说法不一。")
    assert response.status_code == 303, response.text
    return case, await Rectification.select().where(Rectification.case == case.id).first()


async def answer(client, task_id: int, text: str):
    return await factories.post(client, f"/office/rectifications/{task_id}/answer", {"answer": text})


async def test_a_good_rating_is_stored_and_shown(client) -> None:
    h = await hall()
    case = await decided_case(client, h)
    page = await client.get(f"/cases/{case.case_no}")
    assert "评价本次服务" in page.text and f'href="/cases/{case.case_no}/rating"' in page.text
    form = await client.get(f"/cases/{case.case_no}/rating")
    assert form.status_code == 200 and "非常满意" in form.text and "系统不好用" in form.text

    response = await rate(client, case.case_no, 5, ("efficient", "one_visit"), "当天就办好了")
    assert response.status_code == 303 and response.headers["location"].startswith(f"/cases/{case.case_no}/rating")
    rating = await Rating.select().where(Rating.case == case.id).first()
    assert (rating["level"], rating["department"], rating["rater"]) == (5, h.police.id, h.citizen.id)
    assert await Rectification.count() == 0
    assert await counts(h.police.id) == {"ratings": 1, "satisfied": 1, "bad_ratings": 0, "rectifications": 0,
                                         "rectified": 0}
    assert [r["subject_key"] for r in await audited("rating.create")] == [case.case_no]

    shown = await client.get(f"/cases/{case.case_no}/rating")
    assert "非常满意" in shown.text and "办事效率高" in shown.text and "一次办成" in shown.text
    assert "当天就办好了" in shown.text and 'name="level"' not in shown.text  # no second form
    page = await client.get(f"/cases/{case.case_no}")
    assert "您的评价：" in page.text and "非常满意" in page.text and "评价本次服务" not in page.text


async def test_a_bad_rating_opens_a_task_due_in_15_working_days_and_tells_the_department(client) -> None:
    h = await hall()
    case, task = await bad_rating(client, h)
    cal = await load_calendar()
    assert task["state"] == "open" and task["round"] == 1 and task["department"] == h.police.id
    assert task["due_on"] == cal.add_working_days(local_today(), 15)
    steps = await RectificationStep.select(RectificationStep.action, RectificationStep.text).where(
        RectificationStep.rectification == task["id"])
    assert steps == [{"action": "opened", "text": "跑了三趟才办完，窗口说法不一。"}]
    assert await counts(h.police.id) == {"ratings": 1, "satisfied": 0, "bad_ratings": 1, "rectifications": 1,
                                         "rectified": 0}
    told = await Notification.select(Notification.user, Notification.link).where(
        Notification.link == f"/office/rectifications/{task['id']}")
    assert [n["user"] for n in told] == [h.approver.id]  # the approver, not the reviewer or another department
    page = await client.get(f"/cases/{case.case_no}/rating")
    assert "待部门整改答复" in page.text and "不满意" in page.text and "办事效率低" in page.text


async def test_the_department_answers_and_the_citizen_accepts(client) -> None:
    h = await hall()
    case, task = await bad_rating(client, h)

    await factories.login(client, h.approver.mobile)
    queue = await client.get("/office/rectifications")
    assert case.case_no in queue.text and "剩余 15 个工作日" in queue.text
    detail = await client.get(f"/office/rectifications/{task['id']}")
    assert "跑了三趟才办完" in detail.text and "户口迁移" in detail.text and 'name="answer"' in detail.text
    empty = await answer(client, task["id"], "  ")
    assert empty.status_code == 422 and "请填写部门答复" in empty.text
    too_long = await answer(client, task["id"], "查" * 2001)
    assert too_long.status_code == 422 and "最多2000个字" in too_long.text and "查" * 2001 in too_long.text
    assert (await answer(client, task["id"], "已核实，统一了窗口口径并培训。")).status_code == 303
    task = await Rectification.select().where(Rectification.id == task["id"]).first()
    assert task["state"] == "answered" and task["answered_by"] == h.approver.id
    assert await Notification.count().where(Notification.user == h.citizen.id,
                                            Notification.link == f"/cases/{case.case_no}/rating") == 1
    again = await answer(client, task["id"], "再答一次")
    assert again.status_code == 409 and "已答复，待群众确认" in again.text
    assert len(await audited("rectification.answered", "conflict")) == 1

    await factories.login(client, h.citizen.mobile)
    page = await client.get(f"/cases/{case.case_no}/rating")
    assert "已核实，统一了窗口口径并培训。" in page.text and "认可答复" in page.text
    assert (await factories.post(client, f"/cases/{case.case_no}/rating/accept")).status_code == 303
    task = await Rectification.select().where(Rectification.id == task["id"]).first()
    assert task["state"] == "accepted" and task["closed_at"] is not None
    expected = {"ratings": 1, "satisfied": 0, "bad_ratings": 1, "rectifications": 1, "rectified": 1}
    assert await counts(h.police.id) == expected
    await rollup.rebuild()  # the counts kept on the way are the counts the data gives
    assert await counts(h.police.id) == expected
    assert "群众已认可" in (await client.get(f"/cases/{case.case_no}/rating")).text
    refused = await factories.post(client, f"/cases/{case.case_no}/rating/accept")
    assert refused.status_code == 409 and "群众已认可" in refused.text
    assert len(await audited("rectification.accepted", "conflict")) == 1


async def test_another_department_or_a_reviewer_is_refused_and_audited(client) -> None:
    h = await hall()
    case, task = await bad_rating(client, h)
    await factories.login(client, h.other_reviewer.mobile)  # an approver of the market department
    assert case.case_no not in (await client.get("/office/rectifications")).text
    assert (await client.get(f"/office/rectifications/{task['id']}")).status_code == 403
    assert (await answer(client, task["id"], "不是我们部门的")).status_code == 403
    denied = await AuditEvent.select().where(AuditEvent.action == "access.denied",
                                             AuditEvent.subject_type == "rectification")
    assert [(d["actor_id"], d["subject_key"]) for d in denied] == [(h.other_reviewer.id, str(task["id"]))] * 2

    await factories.login(client, h.reviewer.mobile)  # the right department, without the role
    assert (await client.get(f"/office/rectifications/{task['id']}")).status_code == 403
    assert any(d["actor_id"] == h.reviewer.id for d in await audited("access.denied", "denied"))
    task = await Rectification.select().where(Rectification.id == task["id"]).first()
    assert task["state"] == "open" and task["answer"] == ""


async def test_appeal_sent_back_answered_again_and_accepted(client) -> None:
    h = await hall()
    case, task = await bad_rating(client, h)
    supervisor = await factories.officer(h.hall, "supervisor")
    await factories.login(client, h.approver.mobile)
    await answer(client, task["id"], "已提醒窗口人员。")

    await factories.login(client, h.citizen.mobile)
    empty = await factories.post(client, f"/cases/{case.case_no}/rating/appeal", {"reason": ""})
    assert empty.status_code == 422 and "请说明答复为何没有解决问题" in empty.text
    appeal = await factories.post(client, f"/cases/{case.case_no}/rating/appeal", {"reason": "只是提醒，没有整改。"})
    assert appeal.status_code == 303
    assert (await Rectification.select().where(Rectification.id == task["id"]).first())["state"] == "appealed"

    await factories.login(client, supervisor.mobile)
    queue = await client.get("/supervision/appeals")
    assert queue.status_code == 200 and case.case_no in queue.text and "只是提醒，没有整改。" in queue.text
    assert "已提醒窗口人员。" in queue.text
    no_ruling = await factories.post(client, f"/supervision/appeals/{task['id']}/rule", {"opinion": "请重新整改"})
    assert no_ruling.status_code == 422 and "请选择裁定结果" in no_ruling.text and "请重新整改" in no_ruling.text
    sent_back = await factories.post(client, f"/supervision/appeals/{task['id']}/rule",
                                     {"ruling": "return", "opinion": "请拿出具体整改措施。"})
    assert sent_back.status_code == 303
    task = await Rectification.select().where(Rectification.id == task["id"]).first()
    cal = await load_calendar()
    assert (task["state"], task["round"], task["answer"]) == ("open", 2, "")
    assert task["due_on"] == cal.add_working_days(local_today(), 15)
    assert await Notification.count().where(Notification.user == h.approver.id,
                                            Notification.link == f"/office/rectifications/{task['id']}") == 2
    assert case.case_no not in (await client.get("/supervision/appeals")).text

    await factories.login(client, h.approver.mobile)
    detail = await client.get(f"/office/rectifications/{task['id']}")
    assert "第2轮" in detail.text and "请拿出具体整改措施。" in detail.text
    assert (await answer(client, task["id"], "已修订办事指南并统一口径。")).status_code == 303
    await factories.login(client, h.citizen.mobile)
    assert (await factories.post(client, f"/cases/{case.case_no}/rating/accept")).status_code == 303

    steps = await RectificationStep.select(RectificationStep.action).where(
        RectificationStep.rectification == task["id"]).order_by(RectificationStep.id).output(as_list=True)
    assert steps == ["opened", "answered", "appealed", "returned", "answered", "accepted"]
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.subject_type == "rectification",
                                                               AuditEvent.outcome == "ok").output(as_list=True)
    assert sorted(actions) == sorted(["rectification.open", "rectification.answered", "rectification.appealed",
                                      "rectification.returned", "rectification.answered",
                                      "rectification.accepted"])
    assert (await counts(h.police.id))["rectified"] == 1


async def test_a_supervisor_upholds_the_answer(client) -> None:
    h = await hall()
    case, task = await bad_rating(client, h)
    supervisor = await factories.officer(h.hall, "supervisor")
    await factories.login(client, h.approver.mobile)
    await answer(client, task["id"], "已按规定办理，材料要求依据法规。")
    await factories.login(client, h.citizen.mobile)
    await factories.post(client, f"/cases/{case.case_no}/rating/appeal", {"reason": "材料太多了"})
    await factories.login(client, h.approver.mobile)  # an approver is not a supervisor
    assert (await client.get("/supervision/appeals")).status_code == 403

    await factories.login(client, supervisor.mobile)
    upheld = await factories.post(client, f"/supervision/appeals/{task['id']}/rule",
                                  {"ruling": "uphold", "opinion": "材料要求有法规依据，答复成立。"})
    assert upheld.status_code == 303
    task = await Rectification.select().where(Rectification.id == task["id"]).first()
    assert task["state"] == "closed" and task["closed_at"] is not None
    assert (await counts(h.police.id))["rectified"] == 1
    assert await Notification.count().where(Notification.user == h.citizen.id,
                                            Notification.link == f"/cases/{case.case_no}/rating") == 2
    await factories.login(client, h.citizen.mobile)
    page = await client.get(f"/cases/{case.case_no}/rating")
    assert "已按监督裁定结案" in page.text and "材料要求有法规依据，答复成立。" in page.text


async def test_a_second_rating_is_refused_and_audited(client) -> None:
    h = await hall()
    case = await decided_case(client, h)
    assert (await rate(client, case.case_no, 4)).status_code == 303
    second = await rate(client, case.case_no, 1, ("slow",), "改主意了")
    assert second.status_code == 409 and "只能评价一次" in second.text
    assert await Rating.count() == 1 and await Rectification.count() == 0
    assert [r["subject_key"] for r in await audited("rating.create", "conflict")] == [case.case_no]


async def test_an_unfinished_case_cannot_be_rated(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    page = await client.get(f"/cases/{case.case_no}/rating")
    assert page.status_code == 200 and "办结后即可评价" in page.text and 'name="level"' not in page.text
    assert "评价本次服务" not in (await client.get(f"/cases/{case.case_no}")).text
    refused = await rate(client, case.case_no, 5)
    assert refused.status_code == 409 and "尚未办结" in refused.text
    assert await Rating.count() == 0
    assert [r["subject_key"] for r in await audited("rating.create", "conflict")] == [case.case_no]


async def test_a_stranger_or_an_officer_cannot_rate(client) -> None:
    h = await hall()
    case = await decided_case(client, h)
    stranger, _person = await factories.citizen(name="王五")
    await factories.login(client, stranger.mobile)
    assert (await client.get(f"/cases/{case.case_no}/rating")).status_code == 404
    assert (await rate(client, case.case_no, 1, (), "捣乱")).status_code == 404
    await factories.login(client, h.approver.mobile)
    assert (await rate(client, case.case_no, 5)).status_code == 404
    assert await Rating.count() == 0
    denied = await AuditEvent.select().where(AuditEvent.action == "access.denied", AuditEvent.subject_type == "case")
    assert [(d["actor_id"], d["subject_key"]) for d in denied] == [
        (stranger.id, case.case_no), (stranger.id, case.case_no), (h.approver.id, case.case_no)]


async def test_the_rating_todo_opens_the_rating_page_and_is_done_once_rated(client) -> None:
    h = await hall()
    case = await decided_case(client, h)
    today = local_today()
    await run_all(today)
    todo = await Todo.select().where(Todo.kind == "rating").first()
    assert todo["link"] == f"/cases/{case.case_no}/rating" and todo["done_at"] is None
    assert f'href="/cases/{case.case_no}/rating"' in (await client.get("/me")).text

    await rate(client, case.case_no, 3, ("courteous", "hard_system"))
    await run_all(today)
    todo = await Todo.select().where(Todo.id == todo["id"]).first()
    assert todo["done_at"] is not None
    assert await Todo.count().where(Todo.kind == "rating") == 1  # not written again


async def test_form_errors_keep_the_input(client) -> None:
    h = await hall()
    case = await decided_case(client, h, final="deny")
    refused = await rate(client, case.case_no, 1, ("efficient", "slow"), "")
    assert refused.status_code == 422
    assert "所选标签与评价等级不符" in refused.text and "请写明哪里不满意" in refused.text
    assert re.search(r'value="1" checked', refused.text)
    assert re.search(r'value="efficient" checked', refused.text) and re.search(r'value="slow" checked', refused.text)
    long = await rate(client, case.case_no, 4, (), "好" * 501)
    assert long.status_code == 422 and "最多500个字" in long.text and "好" * 501 in long.text
    unknown = await rate(client, case.case_no, 9, ("fast",))
    assert unknown.status_code == 422 and "请选择满意程度" in unknown.text and "请从列表中选择标签" in unknown.text
    assert await Rating.count() == 0


async def test_each_member_of_a_bundle_is_rated_for_its_own_department(client) -> None:
    b = await bundle_hall()
    key, _response = await file_bundle(client, b)
    kids = await children(key)
    await decide(client, b, kids[SIDE_ITEM]["case_no"], "hrss")
    await factories.login(client, b.h.citizen.mobile)
    parent = (await client.get(f"/cases/{kids[SIDE_ITEM]['case_no']}")).text
    bundle_no = re.search(r'href="/bundle-cases/([^"]+)"', parent).group(1)
    board = await client.get(f"/bundle-cases/{bundle_no}")
    assert f'href="/cases/{kids[SIDE_ITEM]["case_no"]}/rating"' in board.text
    assert f'href="/cases/{kids[ITEM]["case_no"]}/rating"' not in board.text  # still running

    assert (await rate(client, kids[SIDE_ITEM]["case_no"], 5)).status_code == 303
    await decide(client, b, kids[ITEM]["case_no"], "police", final="deny")
    await factories.login(client, b.h.citizen.mobile)
    board = await client.get(f"/bundle-cases/{bundle_no}")
    assert f'href="/cases/{kids[ITEM]["case_no"]}/rating"' in board.text
    assert (await rate(client, kids[ITEM]["case_no"], 2, ("slow",), "被驳回却没说清原因")).status_code == 303
    hrss = await Department.objects().where(Department.code == "ZH-HRSS").first()
    ratings = await Rating.select(Rating.department, Rating.level).order_by(Rating.id)
    assert ratings == [{"department": hrss.id, "level": 5}, {"department": b.h.police.id, "level": 2}]
    task = await Rectification.select().first()
    assert task["department"] == b.h.police.id and await Rectification.count() == 1


async def test_an_overdue_task_shows_its_working_days_past_due(client) -> None:
    h = await hall()
    _case, task = await bad_rating(client, h)
    cal = await load_calendar()
    past = cal.add_working_days(local_today(), -3)
    await Rectification.update({Rectification.due_on: past}).where(Rectification.id == task["id"])
    await factories.login(client, h.approver.mobile)
    queue = await client.get("/office/rectifications")
    overdue = cal.working_days_between(past, local_today())
    assert overdue >= 2 and f"已超期 {overdue} 个工作日" in queue.text
