"""The demo city: seeding is idempotent and the README's logins lead to lived-in pages."""

from __future__ import annotations

import json

import pytest

from app.accounts.tables import OfficerRole, User
from app.audit import chain
from app.catalog.tables import ServiceItem
from app.demo import DEMO_PASSWORD, seed_demo
from app.registry.tables import Department, GuardianLink, LegalEntity, Person
from app.registry.validators import check_id_number, check_uscc
from tests import factories as f

pytestmark = pytest.mark.anyio


async def test_demo_city_is_seeded_once_and_its_logins_work(client):
    await seed_demo()
    counts = (await Person.count(), await LegalEntity.count(), await User.count(), await GuardianLink.count())
    assert counts[0] > 6000 and counts[1] > 600 and counts[3] > 1000
    assert await Department.count().where(Department.level == "town") >= 8
    for role in ("clerk", "reviewer", "approver", "supervisor", "catalog_admin", "proxy_agent"):
        assert await OfficerRole.exists().where(OfficerRole.role == role), role
    await seed_demo()
    assert (await Person.count(), await LegalEntity.count(), await User.count(),
            await GuardianLink.count()) == counts
    assert (await chain.verify()).ok  # moved back in time, the demo's cases left the audit chain as written

    for p in await Person.select(Person.id_number).limit(500):
        check_id_number(p["id_number"])
    for e in await LegalEntity.select(LegalEntity.uscc).limit(200):
        check_uscc(e["uscc"])

    assert await ServiceItem.count() >= 60
    found = await client.get("/services", params={"q": "社保"})
    assert "社会保障卡申领" in found.text
    change = await ServiceItem.objects().where(ServiceItem.name.like("%营业执照变更%")).first()
    assert len(change.situations if isinstance(change.situations, list) else json.loads(change.situations)) >= 6

    await f.login(client, "13800000001", DEMO_PASSWORD)
    me = await client.get("/me")
    assert "陈志明" in me.text and "陈子轩" in me.text and "陈可欣" in me.text
    assert "珠海市海韵软件科技有限公司" in me.text and "电子证照" in me.text  # the newest messages
    wallet = await client.get("/me/certificates")  # the demo's approved cases issued real certificates
    assert "机动车驾驶证" in wallet.text and "营业执照" in wallet.text and wallet.text.count("有效") >= 2
    apply = await client.get("/services/440400-JTJ-001/apply")  # the electronic driving licence stands in
    assert "机动车驾驶证" in apply.text and apply.text.count("免提交") >= 2
    await f.post(client, "/logout")
    await f.login(client, "13800000002", DEMO_PASSWORD)  # her flat purchase is under way as one bundle
    cases = await client.get("/me/cases")
    assert "二手房交易一件事" in cases.text
    await f.post(client, "/logout")
    response = await f.login(client, "13900000001", DEMO_PASSWORD)
    assert response.headers["location"] == "/office"
    assert "珠海市政务服务和数据管理局" in (await client.get("/office")).text


async def test_demo_supervision_shows_real_cards_a_rectification_to_accept_and_true_public_stats(client):
    """Issue #7's demo: cards from real clocks, 陈志明's answered bad rating, and /stats equal to the tables."""
    from app.filings.tables import Case
    from app.supervision.tables import CaseCard, Rating, Rectification
    from app.workdays.calendar import local_today

    await seed_demo()
    await f.login(client, "13900000004", DEMO_PASSWORD)  # the hall's supervisor
    board = await client.get("/supervision")
    active = {c: await CaseCard.count().where(CaseCard.color == c, CaseCard.closed_on.is_null())
              for c in ("yellow", "red")}
    assert active == {"yellow": 2, "red": 2}
    assert f"<dt>在办黄牌</dt><dd>{active['yellow']}</dd>" in board.text.replace("\n", "")
    overdue = await Case.select(Case.due_on).where(Case.id.is_in(
        await CaseCard.select(CaseCard.case).where(CaseCard.color == "red").output(as_list=True)))
    assert all(row["due_on"] < local_today() for row in overdue)  # red: past the due date by the calendar
    await f.post(client, "/logout")

    await f.login(client, "13800000001", DEMO_PASSWORD)  # 陈志明 accepts the police's answer to his bad rating
    task = await Rectification.objects().where(Rectification.state == "answered").first()
    case = await Case.objects().where(Case.id == task.case).first()
    page = await client.get(f"/cases/{case.case_no}/rating")
    assert "HEIC" in page.text
    response = await f.post(client, f"/cases/{case.case_no}/rating/accept")
    assert response.status_code == 303, response.text
    await task.refresh()
    assert task.state == "accepted" and task.closed_at is not None
    await f.post(client, "/logout")

    stats = (await client.get("/stats")).text.replace("\n", "")
    since = local_today().replace(day=1)
    since = since.replace(year=since.year - 1, month=since.month + 1) if since.month < 12 else since.replace(month=1)
    submitted = await Case.count().where(Case.clock_started_on >= since)
    decided = await Case.count().where(Case.decided_on >= since, Case.state.is_in(["approved", "denied", "rejected"]))
    assert submitted > 20 and decided > 15
    assert f"<dt>申请量</dt><dd>{submitted}</dd>" in stats and f"<dt>办结量</dt><dd>{decided}</dd>" in stats
    assert f"<dt>评价数</dt><dd>{await Rating.count()}</dd>" in stats
