"""The supervisors' queue of access-log disputes over HTTP: what a supervisor sees, the answer the citizen reads
on their access log, and the refusals."""

from __future__ import annotations

import pytest

from app.audit.tables import AuditEvent, DataAccess
from app.lifelong.tables import AccessDispute
from app.notify.tables import Notification
from tests import factories
from tests.filing_fixture import hall
from tests.integration.filings.test_filing import filed_case

pytestmark = pytest.mark.anyio


async def disputed_access(client, h) -> tuple[DataAccess, AccessDispute]:
    """The clerk opens the citizen's case; the citizen questions that look."""
    case = await filed_case(client, h)
    await factories.login(client, h.clerk.mobile)
    assert (await client.get(f"/office/cases/{case.case_no}")).status_code == 200
    access = await DataAccess.objects().where(DataAccess.holder_person == h.person.id).first()
    await factories.login(client, h.citizen.mobile)
    raised = await factories.post(client, f"/me/access-log/{access.id}/dispute", {"reason": "我没有去过这个窗口。"})
    assert raised.status_code == 303
    return access, await AccessDispute.objects().where(AccessDispute.access == access.id).first()


async def test_a_supervisor_answers_and_the_citizen_reads_the_answer(client) -> None:
    h = await hall()
    supervisor = await factories.officer(h.hall, "supervisor")
    access, dispute = await disputed_access(client, h)

    await factories.login(client, supervisor.mobile)
    page = await client.get("/supervision/disputes")
    assert page.status_code == 200 and "1 条异议待答复" in page.text
    for shown in (h.clerk.display_name, h.hall.name, access.case_no, access.what, access.reason,
                  "我没有去过这个窗口。", "陈**", f'action="/supervision/disputes/{dispute.id}/answer"'):
        assert shown in page.text, shown
    assert h.person.name not in page.text  # the citizen by masked name only

    url = f"/supervision/disputes/{dispute.id}/answer"
    refused = await factories.post(client, url, {"finding": "", "answer": "  "})
    assert refused.status_code == 422
    assert "请认定该次查询是否合理" in refused.text and "请向群众说明认定理由" in refused.text
    kept = await factories.post(client, url, {"finding": "maybe", "answer": "已核实。"})
    assert kept.status_code == 422 and "已核实。" in kept.text
    assert (await AccessDispute.objects().where(AccessDispute.id == dispute.id).first()).state == "open"

    answered = await factories.post(client, url, {"finding": "unjustified",
                                                  "answer": "该工作人员查询时未在办理您的业务，已责令整改。"})
    assert answered.status_code == 303
    row = await AccessDispute.objects().where(AccessDispute.id == dispute.id).first()
    assert (row.state, row.answered_by) == ("answered", supervisor.id) and row.answered_at is not None
    assert row.answer == "认定：不合理\n该工作人员查询时未在办理您的业务，已责令整改。"
    assert await AuditEvent.exists().where(AuditEvent.action == "access.dispute.answer", AuditEvent.outcome == "ok",
                                           AuditEvent.actor_id == supervisor.id,
                                           AuditEvent.subject_key == str(dispute.id))
    note = await Notification.objects().where(Notification.user == h.citizen.id,
                                              Notification.link.like("/me/access-log%")).first()
    assert note.link == f"/me/access-log?page=1#access-{access.id}" and note.body == "不合理"
    page = await client.get("/supervision/disputes")
    assert "暂无待答复的异议" in page.text and "最近答复" in page.text and "已责令整改" in page.text

    again = await factories.post(client, url, {"finding": "justified", "answer": "改判"})
    assert again.status_code == 409 and "该异议已答复" in again.text
    assert await AuditEvent.exists().where(AuditEvent.action == "access.dispute.answer",
                                           AuditEvent.outcome == "conflict")
    assert "改判" not in (await AccessDispute.objects().where(AccessDispute.id == dispute.id).first()).answer

    await factories.login(client, h.citizen.mobile)
    log = await client.get("/me/access-log")
    assert "认定：不合理" in log.text and "已责令整改" in log.text and "已答复" in log.text


async def test_only_supervisors_see_and_answer_disputes(client) -> None:
    h = await hall()
    _access, dispute = await disputed_access(client, h)
    url = f"/supervision/disputes/{dispute.id}/answer"
    for user in (h.citizen, h.clerk, h.approver):
        await factories.login(client, user.mobile)
        page = await client.get("/supervision/disputes")
        assert page.status_code == 403 and "我没有去过这个窗口" not in page.text
        answer = await factories.post(client, url, {"finding": "justified", "answer": "合理"})
        assert answer.status_code == 403
        assert await AuditEvent.count().where(AuditEvent.action == "access.denied", AuditEvent.actor_id == user.id,
                                              AuditEvent.subject_key.like("/supervision/disputes%")) == 2
    row = await AccessDispute.objects().where(AccessDispute.id == dispute.id).first()
    assert (row.state, row.answer, row.answered_by) == ("open", "", None)
