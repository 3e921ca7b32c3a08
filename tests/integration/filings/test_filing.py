"""Filing end to end over HTTP: apply, materials, correction, acceptance, review, decision, tracking."""

from __future__ import annotations

import asyncio
import re

import pytest

from app.accounts.sessions import current_user_by_id as as_current
from app.audit.tables import AuditEvent, DataAccess
from app.errors import Conflict
from app.filestore import get_store
from app.filings import services, workflow
from app.filings.tables import Case, CaseMaterial, CaseStep, Material
from app.notify.tables import Notification, OutboxMessage
from app.registry.validators import mask_id_number
from app.workdays.calendar import load_calendar
from tests import factories
from tests.filing_fixture import ITEM, VALID_FORM, apply_form, both_files, hall, png_bytes, submit

pytestmark = pytest.mark.anyio


async def officer_act(client, case_no: str, action: str, opinion: str = "同意", **extra):
    page = await client.get(f"/office/cases/{case_no}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    return await factories.post(client, f"/office/cases/{case_no}/act",
                                {"action": action, "opinion": opinion, "version": version, **extra})


def form_of(h) -> dict[str, str]:
    return {**VALID_FORM, "id_number": h.person.id_number}


async def filed_case(client, h) -> Case:
    await factories.login(client, h.citizen.mobile)
    key = await apply_form(client)
    response = await submit(client, key, files=both_files(), form=form_of(h))
    assert response.status_code == 303, response.text
    return await Case.objects().where(Case.idempotency_key == key).first()


async def test_apply_page_is_prefilled_from_the_registry(client) -> None:
    h = await hall()
    await factories.login(client, h.citizen.mobile)
    page = await client.get(f"/services/{ITEM}/apply")
    assert page.status_code == 200
    assert f'value="{h.person.name}"' in page.text
    assert f'type="hidden" name="id_number" value="{h.person.id_number}"' in page.text
    assert f'<p class="prefilled-value" id="f-id_number">{mask_id_number(h.person.id_number)}</p>' in page.text
    assert "已从基础库自动填写" in page.text


async def test_missing_material_is_listed_and_nothing_typed_is_lost(client) -> None:
    h = await hall()
    await factories.login(client, h.citizen.mobile)
    key = await apply_form(client)
    response = await submit(client, key, form={**VALID_FORM, "mobile": "12345"},
                            files={"file_id_card": ("id.png", png_bytes(), "image/png")})
    assert response.status_code == 422
    assert "缺少以下材料" in response.text and "住房或亲属关系证明" in response.text
    assert "手机号码为11位" in response.text or "11" in response.text
    assert 'value="珠海市香洲区凤凰北路18号"' in response.text
    case = await Case.objects().where(Case.idempotency_key == key).first()
    assert case.state == "draft"  # the draft keeps what was typed and the accepted upload
    assert await CaseMaterial.count().where(CaseMaterial.case == case.id) == 1
    resumed = await client.get(f"/services/{ITEM}/apply")
    assert key in resumed.text and "已上传" in resumed.text


async def test_the_whole_path_with_a_correction_round(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    assert case.state == "submitted" and len(case.query_code) == 6
    cal = await load_calendar()
    assert case.due_on == cal.add_working_days(case.clock_started_on, 5)
    page = await client.get(f"/cases/{case.case_no}")
    assert "待受理" in page.text and case.query_code in page.text

    await factories.login(client, h.clerk.mobile)
    queue = await client.get("/office/queue/accept")
    assert case.case_no in queue.text
    response = await officer_act(client, case.case_no, "request_correction", "身份证照片模糊，请重新上传。",
                                 materials="id_card")
    assert response.status_code == 303
    await case.refresh()
    assert case.state == "correction_requested" and case.paused_since is not None

    await factories.login(client, h.citizen.mobile)
    page = await client.get(f"/cases/{case.case_no}")
    assert "身份证照片模糊" in page.text and "计时暂停" in page.text
    response = await client.post(f"/cases/{case.case_no}/resubmit",
                                 data={"_csrf_token": client.cookies.get("yw_csrf")},
                                 files={"file_id_card": ("new.png", png_bytes("blue"), "image/png")},
                                 follow_redirects=False)
    assert response.status_code == 303, response.text
    await case.refresh()
    assert case.state == "resubmitted" and case.paused_since is None

    await factories.login(client, h.clerk.mobile)
    assert (await officer_act(client, case.case_no, "accept", "材料齐全，予以受理。")).status_code == 303
    await factories.login(client, h.reviewer.mobile)
    assert case.case_no in (await client.get("/office/queue/review")).text
    assert (await officer_act(client, case.case_no, "review", "符合迁入条件，拟同意。")).status_code == 303
    await factories.login(client, h.approver.mobile)
    assert (await officer_act(client, case.case_no, "approve", "准予迁入。")).status_code == 303

    await case.refresh()
    assert case.state == "approved" and case.decided_on is not None and case.days_used is not None
    steps = await CaseStep.select(CaseStep.action).where(CaseStep.case == case.id).order_by(CaseStep.id).output(
        as_list=True)
    assert steps == ["submit", "request_correction", "resubmit", "accept", "review", "approve"]
    audited = await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.subject_key == case.case_no, AuditEvent.outcome == "ok").output(as_list=True)
    assert sorted(audited) == sorted(f"case.{s}" for s in steps)
    assert await Notification.count().where(Notification.user == h.citizen.id, Notification.link.like("/cases/%")) \
        == len(steps)

    await factories.login(client, h.citizen.mobile)
    page = await client.get(f"/cases/{case.case_no}")
    for text in ("受理", "审查", "准予迁入。", "已办结（准予）", "一次性告知补正"):
        assert text in page.text, text


async def test_double_submit_makes_one_case(client) -> None:
    h = await hall()
    await factories.login(client, h.citizen.mobile)
    key = await apply_form(client)
    first = await submit(client, key, files=both_files(), form=form_of(h))
    second = await submit(client, key, files=both_files(), form=form_of(h))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await Case.count().where(Case.holder_person == h.person.id) == 1


async def test_a_double_submit_at_the_same_moment_makes_one_case(client) -> None:
    """Two posts of one form at once (two workers, or two pooled connections here): the second waits for the
    first's transaction and finds its case, instead of failing on the idempotency key."""
    h = await hall()
    await factories.login(client, h.citizen.mobile)
    key = await apply_form(client)
    first, second = await asyncio.gather(submit(client, key, files=both_files(), form=form_of(h)),
                                         submit(client, key, files=both_files(), form=form_of(h)))
    assert first.status_code == second.status_code == 303, (first.text, second.text)
    assert first.headers["location"] == second.headers["location"]
    assert await Case.count().where(Case.holder_person == h.person.id) == 1


async def test_a_case_number_already_taken_is_drawn_again(client, monkeypatch) -> None:
    """Case numbers are the day and eight random digits: a draw that hits a number in use draws again (at a
    hundred thousand cases a day, one in a thousand draws would otherwise end in an error)."""
    h = await hall()
    taken = await filed_case(client, h)
    draws = iter([taken.case_no, taken.case_no, taken.case_no[:8] + "00000001"])
    monkeypatch.setattr(services, "new_case_no", lambda today: next(draws))
    key = await apply_form(client)
    response = await submit(client, key, files=both_files(), form=form_of(h))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/cases/{taken.case_no[:8]}00000001"
    assert await Case.count().where(Case.holder_person == h.person.id) == 2


async def test_materials_in_the_library_are_attached_by_themselves(client) -> None:
    h = await hall()
    await filed_case(client, h)
    page = await client.get(f"/services/{ITEM}/apply")
    assert page.text.count("免提交") >= 2
    assert 'value="13812345678"' in page.text  # from the last case of the same item
    key = await apply_form(client)
    response = await submit(client, key, form=form_of(h))
    assert response.status_code == 303, response.text
    case = await Case.objects().where(Case.idempotency_key == key).first()
    reused = await CaseMaterial.select(CaseMaterial.reused).where(CaseMaterial.case == case.id).output(as_list=True)
    assert reused == [True, True]
    assert await Material.count() == 2  # nothing uploaded twice


async def test_renamed_html_is_refused_and_nothing_is_stored(client) -> None:
    h = await hall()
    await factories.login(client, h.citizen.mobile)
    key = await apply_form(client)
    files = {**both_files(), "file_proof": ("proof.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")}
    response = await submit(client, key, files=files)
    assert response.status_code == 422
    assert "PDF" in response.text
    assert await Material.count() == 1  # the good file only
    assert await Case.count().where(Case.state == "submitted") == 0


async def test_officers_of_another_department_and_wrong_states_are_refused(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    await factories.login(client, h.other_reviewer.mobile)
    assert (await client.get(f"/office/cases/{case.case_no}")).status_code == 403
    response = await factories.post(client, f"/office/cases/{case.case_no}/act", {"action": "approve",
                                                                                    "opinion": "x"})
    assert response.status_code == 403
    assert await AuditEvent.count().where(AuditEvent.subject_key == case.case_no, AuditEvent.outcome == "denied") \
        >= 2
    await factories.login(client, h.approver.mobile)
    response = await factories.post(client, f"/office/cases/{case.case_no}/act", {"action": "approve",
                                                                                    "opinion": "同意"})
    assert response.status_code == 409 and "待受理" in response.text  # not yet reviewed
    clerk = await as_current(h.clerk.id)
    row = await workflow.load_case(case.case_no)
    await workflow.accept_case(row, clerk, ip="t")
    with pytest.raises(Conflict):
        await workflow.accept_case(row, clerk, ip="t")
    assert await AuditEvent.count().where(AuditEvent.subject_key == case.case_no,
                                          AuditEvent.outcome == "conflict") == 2


async def test_two_officers_at_once_one_wins(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    second = await factories.officer(h.hall, "clerk")
    row = await workflow.load_case(case.case_no)
    results = await asyncio.gather(
        workflow.accept_case(row, await as_current(h.clerk.id), ip="a"),
        workflow.reject_case(row, await as_current(second.id), ip="b", reason="材料不全"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert await CaseStep.count().where(CaseStep.case == case.id) == 2


async def test_officer_views_go_on_the_holders_access_log(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    await factories.login(client, h.clerk.mobile)
    page = await client.get(f"/office/cases/{case.case_no}")
    assert page.status_code == 200 and h.person.id_number not in page.text
    material = await CaseMaterial.objects().where(CaseMaterial.case == case.id).first()
    file = await client.get(f"/office/cases/{case.case_no}/materials/{material.id}")
    assert file.status_code == 200 and file.headers["content-type"].startswith(("image/png", "application/pdf"))
    rows = await DataAccess.select().where(DataAccess.holder_person == h.person.id)
    assert len(rows) == 2 and all(r["officer_id"] == h.clerk.id and r["case_no"] == case.case_no for r in rows)


async def test_another_citizen_sees_nothing(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    stranger, _ = await factories.citizen(name="王五")
    await factories.login(client, stranger.mobile)
    assert (await client.get(f"/cases/{case.case_no}")).status_code == 404
    material = await CaseMaterial.objects().where(CaseMaterial.case == case.id).first()
    assert (await client.get(f"/cases/{case.case_no}/materials/{material.id}")).status_code == 404
    assert (await factories.post(client, f"/cases/{case.case_no}/withdraw")).status_code == 404


async def test_track_shows_progress_without_personal_data_and_limits_guessing(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    client.cookies.clear()
    response = await factories.post(client, "/track", {"case_no": case.case_no, "query_code": case.query_code})
    assert response.status_code == 200
    assert "待受理" in response.text and h.person.name not in response.text
    assert h.person.id_number not in response.text
    for _ in range(10):
        wrong = await factories.post(client, "/track", {"case_no": case.case_no, "query_code": "AAAAAA"})
        assert wrong.status_code == 422
    blocked = await factories.post(client, "/track", {"case_no": case.case_no, "query_code": case.query_code})
    assert blocked.status_code == 429


async def test_withdraw_before_a_decision(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    response = await factories.post(client, f"/cases/{case.case_no}/withdraw", {"reason": "不办了"})
    assert response.status_code == 303
    await case.refresh()
    assert case.state == "withdrawn" and case.decided_on is not None
    again = await factories.post(client, f"/cases/{case.case_no}/withdraw")
    assert again.status_code == 409


async def test_proxy_agent_files_for_a_resident_with_consent(client) -> None:
    h = await hall()
    resident = await factories.person(name="李阿婆", mobile="13700001111")
    agent = await factories.officer(h.hall, "proxy_agent")
    await factories.login(client, agent.mobile)
    response = await factories.post(client, "/office/proxy/code", {"name": "李阿婆", "id_number": resident.id_number})
    assert response.status_code == 200 and "137****1111" in response.text
    sms = await OutboxMessage.objects().where(OutboxMessage.recipient == "13700001111").first()
    code = re.search(r"\d{6}", sms.body).group(0)
    consent_id = re.search(r'name="consent_id" value="(\d+)"', response.text).group(1)
    wrong = await factories.post(client, "/office/proxy/confirm", {"consent_id": consent_id, "code": "000000"
                                                                    if code != "000000" else "111111"})
    assert wrong.status_code == 422
    right = await factories.post(client, "/office/proxy/confirm", {"consent_id": consent_id, "code": code})
    assert right.status_code == 303
    query = f"?proxy={consent_id}"
    key = await apply_form(client, query=query)
    response = await submit(client, key, query=query, files=both_files(),
                            form={**VALID_FORM, "name": "李阿婆", "id_number": resident.id_number})
    assert response.status_code == 303, response.text
    case = await Case.objects().where(Case.idempotency_key == key).first()
    assert case.holder_person == resident.id and case.applicant == agent.id and case.state == "submitted"
    assert await Material.count().where(Material.holder_person == resident.id) == 2
    reuse = await client.get(f"/services/{ITEM}/apply{query}")
    assert reuse.status_code == 422  # the consent was for one filing


async def test_every_demo_item_has_a_working_apply_page(client) -> None:
    from app.catalog.services import import_catalogue, load_file
    from app.demo import DEMO_CATALOGUE, seed_departments

    await seed_departments()
    doc = load_file(str(DEMO_CATALOGUE))
    await import_catalogue(doc)
    user, person = await factories.citizen()
    firm = await factories.entity(person)
    await factories.member(firm, user)
    await factories.login(client, user.mobile)
    for item in doc["items"]:
        query = "" if "person" in item["audience"] else f"?as={firm.uscc}"
        page = await client.get(f"/services/{item['code']}/apply{query}")
        assert page.status_code == 200, (item["code"], page.text[-500:])
        assert 'name="key"' in page.text


async def test_oversize_upload_is_refused_by_its_field_and_nothing_is_stored(client, monkeypatch) -> None:
    from app.filings import storage

    h = await hall()
    await factories.login(client, h.citizen.mobile)
    key = await apply_form(client)
    monkeypatch.setenv("YIWANG_UPLOAD_MAX_MB", "1")
    storage.limits.cache_clear()
    try:
        big = png_bytes(size=(1200, 1200)) + b"\0" * 1_100_000
        files = {**both_files(), "file_id_card": ("big.png", big, "image/png")}
        response = await submit(client, key, files=files, form={**VALID_FORM, "id_number": h.person.id_number})
    finally:
        monkeypatch.delenv("YIWANG_UPLOAD_MAX_MB")
        storage.limits.cache_clear()
    assert response.status_code == 422
    assert "文件超过1 MB" in response.text, re.findall(r"field-error[^>]*>([^<]+)<", response.text)
    assert 'value="珠海市香洲区凤凰北路18号"' in response.text
    assert await Material.count() == 1  # only the good PDF
    leftovers = list(get_store().tmp_dir.iterdir())
    assert leftovers == []
