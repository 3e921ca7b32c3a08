"""Bundles: one merged form, one parent and one case per member in one transaction, members starting when what they
wait for is approved, the failure rule, the parent's derived state and the saved days."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.bundles.tables import BundleCase, Payment
from app.catalog.services import as_json
from app.catalog.tables import ServiceItem
from app.filings.tables import Case, CaseMaterial, Material
from tests import factories
from tests.bundle_fixture import BUNDLE, SIDE_ITEM, VALUES, bundle_hall, files
from tests.filing_fixture import ITEM, REUSE_ITEM
from tests.integration.filings.test_filing import officer_act

pytestmark = pytest.mark.anyio


async def form_key(client) -> str:
    page = await client.get(f"/bundles/{BUNDLE}")
    assert page.status_code == 200, page.text
    return re.search(r'name="key" value="([^"]+)"', page.text).group(1)


async def file_bundle(client, b, **extra):
    await factories.login(client, b.h.citizen.mobile)
    key = await form_key(client)
    data = {**VALUES, "id_number": b.h.person.id_number, "key": key, "action": "submit", "delivery": "window",
            **extra}
    return key, await factories.post(client, f"/bundles/{BUNDLE}", data, files=files())


async def children(key: str) -> dict[str, dict]:
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    rows = await Case.select(*Case.all_columns(), Case.item.code.as_alias("code")).where(
        Case.bundle_case == parent["id"])
    return {r["code"]: r for r in rows}


async def decide(client, b, case_no: str, department: str, final: str = "approve") -> None:
    officers = {"police": (b.h.reviewer, b.h.approver), "hrss": (b.hrss_reviewer, b.hrss_approver)}[department]
    for officer, action in ((b.h.clerk, "accept"), (officers[0], "review"), (officers[1], final)):
        await factories.login(client, officer.mobile)
        response = await officer_act(client, case_no, action, "同意" if action != "deny" else "不符合条件")
        assert response.status_code == 303, response.text


async def test_one_form_asks_each_fact_once_and_files_every_member(client) -> None:
    b = await bundle_hall(fee=80)
    await factories.login(client, b.h.citizen.mobile)
    page = await client.get(f"/bundles/{BUNDLE}")
    assert page.text.count('name="mobile"') == 1  # two members need it: asked once
    assert page.text.count('name="file_id_card"') == 1  # two members need the ID card: given once
    assert "本件事内签发" in page.text  # the certificate the first member issues: not asked for

    key, response = await file_bundle(client, b)
    assert response.status_code == 303, response.text
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    assert response.headers["location"] == f"/bundle-cases/{parent['bundle_no']}"
    kids = await children(key)
    assert {c: k["state"] for c, k in kids.items()} == {ITEM: "submitted", SIDE_ITEM: "submitted",
                                                         REUSE_ITEM: "waiting"}
    assert as_json(kids[SIDE_ITEM]["form_data"])["last_employer"] == VALUES["last_employer"]
    # The ID card was uploaded once and serves both members.
    id_cards = await CaseMaterial.select(CaseMaterial.material).where(
        CaseMaterial.case.is_in([kids[ITEM]["id"], kids[SIDE_ITEM]["id"]]), CaseMaterial.key == "id_card")
    assert len(id_cards) == 2 and id_cards[0]["material"] == id_cards[1]["material"]
    payment = await Payment.select().where(Payment.bundle_case == parent["id"]).first()
    assert payment["amount"] == 80 and payment["status"] == "paid" and payment["adapter"] == "simulated"

    _key, again = await file_bundle(client, b, key=key)  # a second click: the same parent
    assert again.headers["location"] == response.headers["location"]
    assert await BundleCase.count() == 1 and await Case.count() == 3

    board = await client.get(f"/bundle-cases/{parent['bundle_no']}")
    assert "户口迁移" in board.text and "失业登记" in board.text and "等待" in board.text


async def test_a_member_starts_when_the_certificate_it_needs_is_issued(client) -> None:
    b = await bundle_hall()
    key, _response = await file_bundle(client, b)
    kids = await children(key)
    await decide(client, b, kids[ITEM]["case_no"], "police")
    kids = await children(key)
    assert kids[REUSE_ITEM]["state"] == "submitted" and kids[REUSE_ITEM]["clock_started_on"] is not None
    attached = await CaseMaterial.select(CaseMaterial.reused, CaseMaterial.material.material_type.code.as_alias(
        "code")).where(CaseMaterial.case == kids[REUSE_ITEM]["id"])
    assert attached == [{"reused": True, "code": "MIGRATION_CERT"}]  # the new certificate, no upload

    await decide(client, b, kids[REUSE_ITEM]["case_no"], "police")
    await decide(client, b, kids[SIDE_ITEM]["case_no"], "hrss")
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    assert parent["state"] == "completed" and parent["completed_at"] is not None
    await factories.login(client, b.h.citizen.mobile)
    board = await client.get(f"/bundle-cases/{parent['bundle_no']}")
    assert "已办结" in board.text or "全部办结" in board.text
    assert re.search(r"节省[：:]?\s*\d+\s*个工作日", board.text)


async def test_denial_stops_what_waits_and_by_the_stop_rule_everything(client) -> None:
    b = await bundle_hall(on_failure="stop")
    key, _response = await file_bundle(client, b)
    kids = await children(key)
    await decide(client, b, kids[ITEM]["case_no"], "police", final="deny")
    kids = await children(key)
    assert kids[ITEM]["state"] == "denied"
    assert kids[REUSE_ITEM]["state"] == "cancelled" and kids[SIDE_ITEM]["state"] == "cancelled"
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    assert parent["state"] == "stopped"


async def test_denial_under_the_continue_rule_stops_only_what_waits(client) -> None:
    b = await bundle_hall(on_failure="continue")
    key, _response = await file_bundle(client, b)
    kids = await children(key)
    await decide(client, b, kids[ITEM]["case_no"], "police", final="deny")
    kids = await children(key)
    assert kids[REUSE_ITEM]["state"] == "cancelled" and kids[SIDE_ITEM]["state"] == "submitted"
    await decide(client, b, kids[SIDE_ITEM]["case_no"], "hrss")
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    assert parent["state"] == "partly_completed"


async def test_bad_input_keeps_everything_and_creates_nothing(client) -> None:
    b = await bundle_hall()
    await factories.login(client, b.h.citizen.mobile)
    key = await form_key(client)
    data = {**VALUES, "id_number": b.h.person.id_number, "key": key, "action": "submit", "delivery": "express",
            "delivery_address": ""}
    response = await factories.post(client, f"/bundles/{BUNDLE}", {**data, "last_employer": ""})
    assert response.status_code == 422
    assert "请上传居民身份证" in response.text and "请填写快递的收件地址" in response.text
    assert 'value="珠海市香洲区凤凰北路18号"' in response.text  # kept
    # The same fact posted twice with different values (a stale or tampered form).
    form = {**data, "delivery": "window", "mobile": [data["mobile"], "13900000000"],
            "_csrf_token": client.cookies["yw_csrf"]}
    conflict = await client.post(f"/bundles/{BUNDLE}", data=form, files=files())
    assert conflict.status_code == 422 and "填写了两个不同的值" in conflict.text
    assert await BundleCase.count() == 0 and await Case.count() == 0 and await Material.count() == 0

    await ServiceItem.update({ServiceItem.status: "withdrawn"}).where(ServiceItem.code == SIDE_ITEM)
    _key, withdrawn = await file_bundle(client, b)
    assert withdrawn.status_code == 422 and "失业登记" in withdrawn.text and "不能" in withdrawn.text
    assert await BundleCase.count() == 0


async def test_another_citizen_cannot_open_the_bundle_case(client) -> None:
    b = await bundle_hall()
    key, _response = await file_bundle(client, b)
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    stranger, _person = await factories.citizen(name="李四")
    await factories.login(client, stranger.mobile)
    assert (await client.get(f"/bundle-cases/{parent['bundle_no']}")).status_code == 404


async def test_saved_days_come_from_the_real_clocks(client) -> None:
    b = await bundle_hall()
    key, _response = await file_bundle(client, b)
    kids = await children(key)
    await decide(client, b, kids[ITEM]["case_no"], "police")
    kids = await children(key)
    await decide(client, b, kids[REUSE_ITEM]["case_no"], "police")
    await decide(client, b, kids[SIDE_ITEM]["case_no"], "hrss")
    # As if the clocks had run Monday 16 to Friday 20 November 2026: 户口迁移 Mon–Wed (2 working days), then
    # 户籍证明开具 Wed–Fri (2), 失业登记 beside them Mon–Thu (3).
    runs = {ITEM: (date(2026, 11, 16), date(2026, 11, 18), 2), REUSE_ITEM: (date(2026, 11, 18), date(2026, 11, 20), 2),
            SIDE_ITEM: (date(2026, 11, 16), date(2026, 11, 19), 3)}
    for code, (start, end, used) in runs.items():
        await Case.update({Case.clock_started_on: start, Case.decided_on: end, Case.days_used: used}).where(
            Case.id == kids[code]["id"])
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    await factories.login(client, b.h.citizen.mobile)
    board = await client.get(f"/bundle-cases/{parent['bundle_no']}")
    assert "逐项办理需 7 个工作日，并联办理 4 个工作日，节省：3 个工作日" in board.text


async def test_a_correction_answers_just_that_member(client) -> None:
    b = await bundle_hall()
    key, _response = await file_bundle(client, b)
    kids = await children(key)
    await factories.login(client, b.h.clerk.mobile)
    response = await officer_act(client, kids[SIDE_ITEM]["case_no"], "request_correction",
                                 "原工作单位名称与社保记录不一致。", fields="last_employer")
    assert response.status_code == 303
    parent = await BundleCase.select().where(BundleCase.idempotency_key == key).first()
    await factories.login(client, b.h.citizen.mobile)
    board = await client.get(f"/bundle-cases/{parent['bundle_no']}")
    assert "该部门要求补正材料" in board.text and "原工作单位名称与社保记录不一致" in board.text
    response = await factories.post(client, f"/cases/{kids[SIDE_ITEM]['case_no']}/resubmit",
                                    {"last_employer": "珠海市某某科技有限公司"})
    assert response.status_code == 303, response.text
    after = await children(key)
    assert after[SIDE_ITEM]["state"] == "resubmitted"
    assert as_json(after[SIDE_ITEM]["form_data"])["last_employer"] == "珠海市某某科技有限公司"
    assert after[ITEM]["version"] == kids[ITEM]["version"] and after[ITEM]["state"] == "submitted"  # untouched
