"""Complaints and suggestions over HTTP: filing about a case or not, the department's reply, the citizen's verdict,
the supervisors' routing and final opinion, and every refusal with its audit row."""

from __future__ import annotations

import asyncio
import re

import pytest

from app.accounts.sessions import current_user_by_id
from app.audit.tables import AuditEvent
from app.notify.tables import Notification
from app.supervision import complaints
from app.supervision.tables import Complaint, ComplaintStep
from app.workdays.calendar import load_calendar, local_today
from tests import factories
from tests.filing_fixture import hall
from tests.integration.filings.test_filing import filed_case

pytestmark = pytest.mark.anyio


async def file(client, data: dict[str, str]):
    return await factories.post(client, "/complaints/new", {"kind": "complaint", **data})


async def number_of(response) -> str:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/complaints/(TS\d{8}-\d{4})\?filed=1", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


async def complaint(no: str) -> Complaint:
    return await Complaint.objects().where(Complaint.complaint_no == no).first()


async def steps(no: str) -> list[tuple[str, str]]:
    rows = await ComplaintStep.select(ComplaintStep.action, ComplaintStep.text).where(
        ComplaintStep.complaint.complaint_no == no).order_by(ComplaintStep.id)
    return [(r["action"], r["text"]) for r in rows]


async def notified(user_id: int, words: str) -> bool:
    titles = await Notification.select(Notification.title).where(Notification.user == user_id).output(as_list=True)
    return any(words in t for t in titles)


async def denied(actor_id: int, subject_type: str, key: str) -> int:
    return await AuditEvent.count().where(AuditEvent.action == "access.denied", AuditEvent.outcome == "denied",
                                          AuditEvent.actor_id == actor_id, AuditEvent.subject_type == subject_type,
                                          AuditEvent.subject_key == key)


async def test_a_complaint_about_a_case_is_replied_to_and_closed_satisfied(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    page = await client.get(f"/cases/{case.case_no}")
    assert f'href="/complaints/new?case={case.case_no}"' in page.text and "投诉或建议" in page.text
    form = await client.get(f"/complaints/new?case={case.case_no}")
    assert h.police.name in form.text and f'name="case" value="{case.case_no}"' in form.text
    assert 'name="department"' not in form.text  # the case decides the department

    refused = await file(client, {"case": case.case_no, "subject": "", "body": "等" * 2001})
    assert refused.status_code == 422
    assert "请填写简短的标题" in refused.text and "请控制在2000个字以内" in refused.text and "等" * 2001 in refused.text
    assert await Complaint.count() == 0

    no = await number_of(await file(client, {"case": case.case_no, "subject": "窗口人员态度差",
                                             "body": "办理时工作人员不耐烦，没有一次性说明要求。"}))
    assert no == f"TS{local_today():%Y%m%d}-0001"
    row = await complaint(no)
    cal = await load_calendar()
    assert (row.department, row.case, row.state, row.kind) == (h.police.id, case.id, "submitted", "complaint")
    assert row.due_on == cal.add_working_days(local_today(), 10)
    assert await steps(no) == [("filed", "")]
    assert await AuditEvent.exists().where(AuditEvent.action == "complaint.file", AuditEvent.subject_key == no)
    assert await notified(h.approver.id, no) and not await notified(h.reviewer.id, no)

    shown = await client.get(f"/complaints/{no}?filed=1")
    assert "窗口人员态度差" in shown.text and "待部门答复" in shown.text and "剩余 10 个工作日" in shown.text
    assert f"请记下编号 {no}" in shown.text and h.police.name in shown.text
    mine = await client.get("/me/complaints")
    assert f'href="/complaints/{no}"' in mine.text and "窗口人员态度差" in mine.text

    await factories.login(client, h.approver.mobile)
    queue = await client.get("/office/complaints")
    assert f'href="/office/complaints/{no}"' in queue.text
    assert 'href="/office/complaints" class="queue-tab is-current"' in queue.text
    detail = await client.get(f"/office/complaints/{no}")
    assert "办理时工作人员不耐烦" in detail.text and "陈**" in detail.text and "陈小明" not in detail.text
    empty = await factories.post(client, f"/office/complaints/{no}/reply", {"answer": " "})
    assert empty.status_code == 422 and "请填写答复内容" in empty.text
    replied = await factories.post(client, f"/office/complaints/{no}/reply",
                                   {"answer": "已对相关人员进行批评教育，并改进一次性告知清单。"})
    assert replied.status_code == 303 and (await complaint(no)).state == "replied"
    assert await notified(h.citizen.id, f"{no} 已答复")
    again = await factories.post(client, f"/office/complaints/{no}/reply", {"answer": "再答复一次"})
    assert again.status_code == 409 and "已答复" in again.text
    assert await AuditEvent.exists().where(AuditEvent.action == "complaint.replied",
                                           AuditEvent.outcome == "conflict", AuditEvent.subject_key == no)

    await factories.login(client, h.citizen.mobile)
    shown = await client.get(f"/complaints/{no}")
    assert "已对相关人员进行批评教育" in shown.text and "您对答复满意吗" in shown.text
    closed = await factories.post(client, f"/complaints/{no}/close", {"verdict": "satisfied", "reason": "谢谢"})
    assert closed.status_code == 303
    row = await complaint(no)
    assert (row.state, row.satisfied) == ("closed", True) and row.closed_at is not None
    assert [a for a, _t in await steps(no)] == ["filed", "replied", "closed"]
    shown = await client.get(f"/complaints/{no}")
    assert "已办结：满意" in shown.text and "您对答复满意吗" not in shown.text
    assert await notified(h.approver.id, "群众表示满意")
    late = await factories.post(client, f"/complaints/{no}/close", {"verdict": "unsatisfied", "reason": "改主意"})
    assert late.status_code == 409 and (await complaint(no)).state == "closed"


async def test_a_citizen_not_satisfied_reopens_it_and_the_supervisors_close_it(client) -> None:
    h = await hall()
    supervisor = await factories.officer(h.hall, "supervisor")
    await factories.login(client, h.citizen.mobile)
    form = await client.get("/complaints/new")
    assert f'<option value="{h.police.id}">{h.police.name}</option>' in form.text
    no = await number_of(await file(client, {"kind": "suggestion", "department": str(h.police.id),
                                             "subject": "建议延长周末办理时间", "body": "周六上午也能办理户籍业务。"}))
    assert (await complaint(no)).state == "submitted"

    await factories.login(client, h.approver.mobile)
    assert (await factories.post(client, f"/office/complaints/{no}/reply",
                                 {"answer": "感谢建议，目前人手不足。"})).status_code == 303

    await factories.login(client, h.citizen.mobile)
    no_reason = await factories.post(client, f"/complaints/{no}/close", {"verdict": "unsatisfied", "reason": ""})
    assert no_reason.status_code == 422 and "请说明不满意的原因" in no_reason.text
    assert (await complaint(no)).state == "replied"
    reopened = await factories.post(client, f"/complaints/{no}/close",
                                    {"verdict": "unsatisfied", "reason": "答复没有说明何时改进。"})
    assert reopened.status_code == 303
    row = await complaint(no)
    assert (row.state, row.satisfied) == ("reopened", False)
    assert await notified(supervisor.id, "群众表示不满意") and await notified(h.approver.id, "群众表示不满意")

    await factories.login(client, h.approver.mobile)
    assert f'href="/office/complaints/{no}"' in (await client.get("/office/complaints")).text

    await factories.login(client, supervisor.mobile)
    listed = await client.get("/supervision/complaints?state=reopened")
    assert f'href="/supervision/complaints/{no}"' in listed.text and "建议延长周末办理时间" in listed.text
    other = await client.get("/supervision/complaints?state=closed")
    assert no not in other.text
    by_department = await client.get(f"/supervision/complaints?department={h.police.id}")
    assert no in by_department.text
    detail = await client.get(f"/supervision/complaints/{no}")
    assert "答复没有说明何时改进" in detail.text and 'action="/supervision/complaints/' in detail.text
    empty = await factories.post(client, f"/supervision/complaints/{no}/rule", {"opinion": ""})
    assert empty.status_code == 422 and "请填写最终意见" in empty.text
    ruled = await factories.post(client, f"/supervision/complaints/{no}/rule",
                                 {"opinion": "已督促公安局于下月起试行周六上午办理。"})
    assert ruled.status_code == 303
    row = await complaint(no)
    assert row.state == "closed" and row.closed_at is not None and row.satisfied is False
    assert [a for a, _t in await steps(no)] == ["filed", "replied", "reopened", "ruled"]
    assert await notified(h.citizen.id, "最终意见")
    assert await AuditEvent.exists().where(AuditEvent.action == "complaint.ruled", AuditEvent.actor_id == supervisor.id)

    await factories.login(client, h.citizen.mobile)
    shown = await client.get(f"/complaints/{no}")
    assert "已督促公安局于下月起试行周六上午办理" in shown.text and "监察部门出具最终意见，已办结" in shown.text


async def test_a_complaint_filed_without_a_department_is_routed_by_the_supervisors(client) -> None:
    h = await hall()
    supervisor = await factories.officer(h.hall, "supervisor")
    await factories.login(client, h.citizen.mobile)
    typed = {"subject": "不知道找谁", "body": "办事指南写得不清楚。"}
    bad = await file(client, {**typed, "department": "999999"})
    assert bad.status_code == 422 and "请从列表中选择部门" in bad.text and "办事指南写得不清楚。" in bad.text
    no = await number_of(await file(client, {**typed, "department": ""}))
    row = await complaint(no)
    assert (row.state, row.department) == ("unassigned", None)
    assert await notified(supervisor.id, no) and not await notified(h.approver.id, no)
    assert "待监察部门指派" in (await client.get(f"/complaints/{no}")).text

    await factories.login(client, supervisor.mobile)
    assert "待指派" in (await client.get("/supervision/complaints?state=unassigned")).text
    missing = await factories.post(client, f"/supervision/complaints/{no}/assign", {"department": ""})
    assert missing.status_code == 422 and "请从列表中选择部门" in missing.text
    assigned = await factories.post(client, f"/supervision/complaints/{no}/assign", {"department": str(h.police.id)})
    assert assigned.status_code == 303
    row = await complaint(no)
    assert (row.state, row.department) == ("submitted", h.police.id)
    assert await steps(no) == [("filed", ""), ("assigned", h.police.name)]
    assert await notified(h.approver.id, no)
    twice = await factories.post(client, f"/supervision/complaints/{no}/assign", {"department": str(h.hall.id)})
    assert twice.status_code == 409 and (await complaint(no)).department == h.police.id

    await factories.login(client, h.approver.mobile)
    assert f'href="/office/complaints/{no}"' in (await client.get("/office/complaints")).text


async def test_others_are_refused_and_audited(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    no = await number_of(await file(client, {"case": case.case_no, "subject": "等待太久", "body": "超过承诺时限。"}))

    stranger, _ = await factories.citizen(name="王五")
    await factories.login(client, stranger.mobile)
    assert (await client.get(f"/complaints/{no}")).status_code == 404
    assert (await factories.post(client, f"/complaints/{no}/close", {"verdict": "satisfied"})).status_code == 404
    assert await denied(stranger.id, "complaint", no) == 2
    assert (await client.get(f"/complaints/new?case={case.case_no}")).status_code == 404
    refused = await file(client, {"case": case.case_no, "subject": "冒名", "body": "冒名投诉"})
    assert refused.status_code == 404 and await Complaint.count() == 1
    assert await denied(stranger.id, "case", case.case_no) == 2
    assert no not in (await client.get("/me/complaints")).text

    await factories.login(client, h.other_reviewer.mobile)  # the market bureau's approver
    assert no not in (await client.get("/office/complaints")).text
    assert (await client.get(f"/office/complaints/{no}")).status_code == 404
    reply = await factories.post(client, f"/office/complaints/{no}/reply", {"answer": "不是我们的"})
    assert reply.status_code == 404 and (await complaint(no)).state == "submitted"
    assert await denied(h.other_reviewer.id, "complaint", no) == 2

    for officer in (h.reviewer, h.clerk):  # neither approver nor supervisor
        await factories.login(client, officer.mobile)
        assert (await client.get("/office/complaints")).status_code == 403
        assert (await factories.post(client, f"/office/complaints/{no}/reply", {"answer": "试试"})).status_code == 403
        assert await AuditEvent.count().where(AuditEvent.action == "access.denied",
                                              AuditEvent.actor_id == officer.id) == 2
    for user in (h.approver, h.citizen):
        await factories.login(client, user.mobile)
        assert (await client.get("/supervision/complaints")).status_code == 403
        assert (await factories.post(client, f"/supervision/complaints/{no}/assign",
                                     {"department": str(h.hall.id)})).status_code == 403
    assert await AuditEvent.count().where(AuditEvent.action == "access.denied",
                                          AuditEvent.subject_key.like("/supervision/complaints%")) == 4
    assert (await complaint(no)).state == "submitted"


async def test_numbers_count_per_day_and_stay_unique_when_filed_at_once(db) -> None:
    h = await hall()
    user = await current_user_by_id(h.citizen.id)

    async def one(i: int) -> str:
        return await complaints.file_complaint(user, kind="suggestion", subject=f"建议{i}", body="内容",
                                               department=str(h.police.id), ip="127.0.0.1")

    numbers = await asyncio.gather(*(one(i) for i in range(5)))
    day = f"TS{local_today():%Y%m%d}-"
    assert sorted(numbers) == [f"{day}{n:04d}" for n in range(1, 6)]
    assert await Complaint.count() == 5
