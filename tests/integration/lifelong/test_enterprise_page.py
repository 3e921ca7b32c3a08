"""The enterprise page: only its legal representative and current agents see it; it lists the enterprise's cases,
licences, annual-report status, to-dos, materials library and access log; a view-only agent cannot file."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.audit.tables import AuditEvent, DataAccess
from app.bundles.tables import Bundle, BundleCase
from app.catalog.services import import_catalogue
from app.catalog.tables import CertificateType, MaterialType, ServiceItem
from app.certificates.tables import Certificate
from app.db import utcnow
from app.demo import seed_departments
from app.filings.tables import Case, Material
from app.lifelong import enterprise
from app.lifelong.tables import Todo
from app.registry.tables import Department, LegalEntity
from app.workdays.calendar import local_today
from tests import factories as f
from tests.catalog_fixture import catalogue

pytestmark = pytest.mark.anyio

ANNUAL = "440400-SCJG-004"
CHANGE = "440400-SC-001"
_no = itertools.count(1)


async def _catalogue(*, annual: bool = True) -> None:
    """The small catalogue, with the annual report item named as the real catalogue names it."""
    await seed_departments()
    doc = catalogue()
    if annual:
        item = copy.deepcopy(next(i for i in doc["items"] if i["code"] == CHANGE))
        item.update(code=ANNUAL, name="企业年度报告公示", certificate=None, events=[])
        doc["items"].append(item)
    await import_catalogue(doc)


async def _case(entity: LegalEntity, applicant: Any, code: str, state: str, *,
                submitted: datetime | None = None, decided_on: date | None = None) -> Case:
    item = await ServiceItem.select(ServiceItem.id, ServiceItem.department).where(ServiceItem.code == code).first()
    hall = await Department.select(Department.id).where(Department.code == "ZH-HALL").first()
    n = next(_no)
    now = utcnow()
    row = Case(case_no=f"ZH2026{n:08d}", query_code="ABCD1234", idempotency_key=f"key-{n}", item=item["id"],
               item_version=1, department=item["department"], hall=hall["id"], applicant=applicant.id,
               holder_entity=entity.id, state=state, limit_days=5, clock_started_on=local_today(),
               created_at=now, submitted_at=submitted or now, updated_at=now, decided_on=decided_on)
    await row.save()
    return row


async def _lived_in(entity: LegalEntity, rep_user: Any) -> dict[str, Any]:
    """A case, a licence, an open and a done to-do, a library material and an officer's look."""
    case = await _case(entity, rep_user, CHANGE, "approved", decided_on=local_today())
    market = await Department.select(Department.id).where(Department.code == "ZH-MARKET").first()
    licence_type = await CertificateType.select(CertificateType.id).where(
        CertificateType.code == "BUSINESS_LICENSE_CERT").first()
    await Certificate(cert_no="ZHYYZZ2026000017", certificate_type=licence_type["id"], case=case.id,
                      holder_entity=entity.id, holder_name=entity.name, department=market["id"],
                      issued_on=local_today(), created_at=utcnow()).save()
    await Todo(holder_entity=entity.id, kind="certificate_expiring", dedupe=f"todo-{entity.id}-open",
               title="食品经营许可证即将到期，请办理延续", due_on=local_today() + timedelta(days=40),
               created_at=utcnow()).save()
    await Todo(holder_entity=entity.id, kind="correction", dedupe=f"todo-{entity.id}-done", title="已经办完的待办",
               created_at=utcnow(), done_at=utcnow()).save()
    material_type = await MaterialType.select(MaterialType.id).where(MaterialType.code == "RESOLUTION").first()
    await Material(holder_entity=entity.id, material_type=material_type["id"], sha256="a" * 64, size=1200,
                   content_type="application/pdf", filename="2026年股东会决议.pdf", uploaded_by=rep_user.id,
                   created_at=utcnow(), valid_until=local_today() + timedelta(days=300)).save()
    await Material(holder_entity=entity.id, material_type=material_type["id"], sha256="b" * 64, size=1200,
                   content_type="application/pdf", filename="已删除的决议.pdf", uploaded_by=rep_user.id,
                   created_at=utcnow(), deleted_at=utcnow()).save()
    officer = await f.officer(await Department.objects().get(Department.code == "ZH-MARKET"), "reviewer")
    await DataAccess(created_at=utcnow(), holder_entity=entity.id, officer_id=officer.id, department_id=market["id"],
                     case_no=case.case_no, what="办件材料：股东会决议", reason="审查办件").save()
    bundle = Bundle(code="440400-YJS-KBQY", name="开办企业一件事", audience="enterprise", updated_at=utcnow())
    await bundle.save()
    await BundleCase(bundle_no="YJS2026000001", query_code="QWER1234", idempotency_key="bundle-1", bundle=bundle.id,
                     applicant=rep_user.id, holder_entity=entity.id, state="in_progress", created_at=utcnow(),
                     updated_at=utcnow()).save()
    return {"case": case, "officer": officer}


async def _enterprise() -> tuple[Any, LegalEntity]:
    rep_user, rep = await f.citizen(name="梁志强")
    entity = await f.entity(rep, name="珠海市海韵科技有限公司")
    await f.member(entity, rep_user)
    return rep_user, entity


async def test_a_foreign_user_gets_404_and_is_audited(client):
    await _catalogue()
    rep_user, entity = await _enterprise()
    await _lived_in(entity, rep_user)
    stranger, _ = await f.citizen(name="路人甲")
    await f.login(client, stranger.mobile)
    response = await client.get(f"/enterprise/{entity.uscc}")
    assert response.status_code == 404
    for secret in ("珠海市海韵科技有限公司", "ZHYYZZ2026000017", "2026年股东会决议", "食品经营许可证"):
        assert secret not in response.text
    row = await AuditEvent.objects().where(AuditEvent.action == "access.denied",
                                           AuditEvent.actor_id == stranger.id).first()
    assert row.outcome == "denied" and row.subject_key == entity.uscc


async def test_the_legal_rep_sees_everything_the_page_holds(client):
    await _catalogue()
    rep_user, entity = await _enterprise()
    made = await _lived_in(entity, rep_user)
    await f.login(client, rep_user.mobile)
    page = (await client.get(f"/enterprise/{entity.uscc}")).text
    assert made["case"].case_no in page and "营业执照变更登记" in page  # cases
    assert "开办企业一件事" in page and "/bundle-cases/YJS2026000001" in page  # its bundle filing, filed by the rep
    assert "ZHYYZZ2026000017" in page  # licences
    assert "食品经营许可证即将到期" in page and "已经办完的待办" not in page  # open to-dos only
    assert "2026年股东会决议.pdf" in page and "已删除的决议" not in page  # the library, not what was deleted
    assert "审查办件" in page and "办件材料：股东会决议" in page and "珠海市市场监督管理局" in page  # access log
    assert f"/services/{ANNUAL}/apply?as={entity.uscc}" in page  # the rep may file the annual report
    assert rep_user.mobile not in page


async def test_a_view_only_agent_sees_cases_and_licences_but_cannot_file(client):
    await _catalogue()
    rep_user, entity = await _enterprise()
    made = await _lived_in(entity, rep_user)
    agent_user, _ = await f.citizen(name="周晓燕", male=False)
    await f.member(entity, agent_user, role="agent", scope="view", expires_on=local_today() + timedelta(days=30))
    await f.login(client, agent_user.mobile)
    response = await client.get(f"/enterprise/{entity.uscc}")
    assert response.status_code == 200
    page = response.text
    assert made["case"].case_no in page and "ZHYYZZ2026000017" in page
    assert "2026年股东会决议.pdf" in page and "审查办件" in page
    assert "仅查看" in page and "您仅获授权查看本页" in page
    assert "/apply?as=" not in page  # no filing for a view-only agent
    assert "开办企业一件事" in page and "/bundle-cases/YJS2026000001" not in page  # the bundle page is the filer's
    # What the page links to, the agent may open: the case.
    assert (await client.get(f"/cases/{made['case'].case_no}")).status_code == 200


async def test_a_filing_agent_may_file_the_annual_report(client):
    await _catalogue()
    _rep_user, entity = await _enterprise()
    agent_user, _ = await f.citizen(name="王经办")
    await f.member(entity, agent_user, role="agent", scope="filing")
    await f.login(client, agent_user.mobile)
    page = (await client.get(f"/enterprise/{entity.uscc}")).text
    today = local_today()
    if today <= date(today.year, 6, 30):
        assert "待报送，截止6月30日" in page
    else:
        assert "逾期未报" in page
    assert f"/services/{ANNUAL}/apply?as={entity.uscc}" in page


async def test_another_enterprise_s_rows_never_show(client):
    await _catalogue()
    rep_user, entity = await _enterprise()
    other_user, other_rep = await f.citizen(name="别家老板")
    other = await f.entity(other_rep, name="珠海市别家贸易有限公司")
    await _lived_in(other, other_user)
    await f.login(client, rep_user.mobile)
    page = (await client.get(f"/enterprise/{entity.uscc}")).text
    for foreign in ("ZHYYZZ2026000017", "2026年股东会决议", "食品经营许可证", "审查办件", "开办企业一件事"):
        assert foreign not in page


# --- the annual report's states ------------------------------------------------------------------------------

def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


async def test_annual_report_status_through_the_year(db):
    await _catalogue()
    enterprise._annual_item.forget()
    rep_user, rep = await f.citizen()
    entity = await f.entity(rep)
    year = 2026
    # Nothing filed: due until 30 June inclusive, overdue from 1 July.
    for day, state in ((date(year, 1, 1), "due"), (date(year, 6, 30), "due"), (date(year, 7, 1), "overdue"),
                       (date(year, 12, 31), "overdue")):
        report = await enterprise.annual_report(entity.id, day)
        assert (report.state, report.due_on, report.item_code) == (state, date(year, 6, 30), ANNUAL), day
    # Last year's report does not count for this year.
    await _case(entity, rep_user, ANNUAL, "approved", submitted=_at(date(year - 1, 5, 1)),
                decided_on=date(year - 1, 5, 9))
    assert (await enterprise.annual_report(entity.id, date(year, 3, 1))).state == "due"
    # Filed and under way; refused; then approved.
    under_way = await _case(entity, rep_user, ANNUAL, "accepted", submitted=_at(date(year, 3, 2)))
    report = await enterprise.annual_report(entity.id, date(year, 3, 5))
    assert (report.state, report.case_no) == ("in_progress", under_way.case_no)
    await Case.update({Case.state: "rejected"}).where(Case.id == under_way.id)
    assert (await enterprise.annual_report(entity.id, date(year, 7, 2))).state == "overdue"
    approved = await _case(entity, rep_user, ANNUAL, "approved", submitted=_at(date(year, 7, 3)),
                           decided_on=date(year, 7, 8))
    report = await enterprise.annual_report(entity.id, date(year, 7, 9))
    assert (report.state, report.filed_on, report.case_no) == ("filed", date(year, 7, 8), approved.case_no)


async def test_annual_report_without_the_item_shows_the_deadline_only(db):
    await _catalogue(annual=False)
    enterprise._annual_item.forget()
    _, rep = await f.citizen()
    entity = await f.entity(rep)
    report = await enterprise.annual_report(entity.id, date(2026, 5, 1))
    assert (report.state, report.due_on, report.item_code) == ("not_filed", date(2026, 6, 30), None)


async def test_the_page_shows_each_annual_report_state(client):
    await _catalogue()
    rep_user, entity = await _enterprise()
    await f.login(client, rep_user.mobile)
    year = local_today().year
    case = await _case(entity, rep_user, ANNUAL, "under_review", submitted=_at(date(year, 1, 2)))
    assert "已提交，审核中" in (await client.get(f"/enterprise/{entity.uscc}")).text
    await Case.update({Case.state: "approved", Case.decided_on: date(year, 1, 9)}).where(Case.id == case.id)
    page = (await client.get(f"/enterprise/{entity.uscc}")).text
    assert f"已报送（{year}年1月9日）" in page and "/apply?as=" not in page


async def test_a_firm_set_up_this_year_owes_no_report_for_last_year(client):
    # As the reminder rule: only enterprises registered before 1 January report on the year before.
    await _catalogue()
    rep_user, entity = await _enterprise()
    today = local_today()
    await LegalEntity.update({LegalEntity.established_on: date(today.year, 1, 1)}).where(LegalEntity.id == entity.id)
    assert (await enterprise.annual_report(entity.id, today, date(today.year, 1, 1))).state == "not_owed"
    assert (await enterprise.annual_report(entity.id, today, date(today.year - 1, 12, 31))).state in ("due", "overdue")
    await f.login(client, rep_user.mobile)
    page = (await client.get(f"/enterprise/{entity.uscc}")).text
    assert "无需报送（本年度新设立）" in page
    assert f"首份年报（{today.year}年度）于{today.year + 1}年1月1日至6月30日报送。" in page
    assert "逾期未报" not in page and "/apply?as=" not in page


async def test_an_agent_whose_authorisation_ended_yesterday_is_refused(client):
    # "Yesterday" in Beijing: between midnight and 08:00 there the UTC date is still the day before.
    await _catalogue()
    _rep_user, entity = await _enterprise()
    agent_user, _ = await f.citizen(name="过期经办人")
    await f.member(entity, agent_user, role="agent", scope="all", expires_on=local_today() - timedelta(days=1))
    await f.login(client, agent_user.mobile)
    assert (await client.get(f"/enterprise/{entity.uscc}")).status_code == 404
    assert await AuditEvent.exists().where(AuditEvent.action == "access.denied", AuditEvent.actor_id == agent_user.id)
