"""Guardians run a child's page (its own cases, certificates and to-dos) until the day before the 18th birthday;
on the birthday the guardian's access ends, with a clear message and an audit row, and the child may activate."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from stdnum.cn import ric

from app.accounts.sessions import current_user_by_id
from app.accounts.tables import User
from app.audit.tables import AuditEvent
from app.catalog.services import import_catalogue
from app.catalog.tables import CertificateType, ServiceItem
from app.certificates.tables import Certificate
from app.db import utcnow
from app.demo import seed_departments
from app.errors import DomainError, NotFound
from app.filings.tables import Case
from app.lifelong import services
from app.lifelong.tables import Todo
from app.registry.tables import Department, Person
from app.workdays.calendar import local_today
from tests import factories as f
from tests.catalog_fixture import catalogue

pytestmark = pytest.mark.anyio

BORN = date(2008, 11, 24)
EVE, BIRTHDAY = date(2026, 11, 23), date(2026, 11, 24)  # the day before the 18th birthday, and the birthday
_order = itertools.count(101)


async def _child(name: str, born: date) -> Person:
    """A registry person born exactly on `born` (the factory's ID numbers vary the day)."""
    body = f"440402{born:%Y%m%d}{next(_order):03d}"
    return await f.person(name=name, id_number=body + ric.calc_check_digit(body + "0"))


async def _family(born: date = BORN) -> tuple[User, Person, Person]:
    guardian_user, guardian = await f.citizen(name="陈建国")
    child = await _child("陈乐乐", born)
    await f.guardian_of(guardian, child)
    return guardian_user, guardian, child


async def _case(holder: Person, applicant: User, code: str, state: str = "approved") -> Case:
    item = await ServiceItem.select(ServiceItem.id, ServiceItem.department).where(ServiceItem.code == code).first()
    hall = await Department.select(Department.id).where(Department.code == "ZH-HALL").first()
    n = next(_order)
    now = utcnow()
    row = Case(case_no=f"ZH2026{n:08d}", query_code="ABCD1234", idempotency_key=f"key-{n}", item=item["id"],
               item_version=1, department=item["department"], hall=hall["id"], applicant=applicant.id,
               holder_person=holder.id, state=state, limit_days=5, clock_started_on=local_today(), created_at=now,
               submitted_at=now, updated_at=now, decided_on=local_today())
    await row.save()
    return row


async def _lived_in(guardian_user: User, guardian: Person, child: Person) -> dict[str, Any]:
    """The child's own birth registration (filed by the guardian) with its certificate, one filed by someone else,
    a to-do of the child's, and the guardian's own case and to-do (which the child's page must not show)."""
    await seed_departments()
    doc = catalogue()
    doc["certificate_types"].append({"code": "HUKOU_CERT", "name": "户口登记证明", "material": "ID_CARD",
                                     "validity_years": None})
    await import_catalogue(doc)
    birth = await _case(child, guardian_user, "440400-GA-001")
    other_user, _ = await f.citizen(name="另一位家长")
    by_other = await _case(child, other_user, "440400-GA-003")
    police = await Department.select(Department.id).where(Department.code == "ZH-POLICE").first()
    cert_type = await CertificateType.select(CertificateType.id).where(CertificateType.code == "HUKOU_CERT").first()
    for no, case in (("ZHHK2026000001", birth), ("ZHHK2026000002", by_other)):
        await Certificate(cert_no=no, certificate_type=cert_type["id"], case=case.id, holder_person=child.id,
                          holder_name=child.name, department=police["id"], issued_on=local_today(),
                          created_at=utcnow()).save()
    await Todo(holder_person=child.id, kind="school_enrolment", dedupe=f"school-{child.id}", title="小学入学报名",
               due_on=local_today() + timedelta(days=60), link="/services/440400-GA-003", created_at=utcnow()).save()
    own = await _case(guardian, guardian_user, "440400-RS-002")
    await Todo(holder_person=guardian.id, kind="id_card_expiring", dedupe=f"idcard-{guardian.id}",
               title="家长本人的身份证即将到期", created_at=utcnow()).save()
    return {"birth": birth, "by_other": by_other, "own": own}


async def test_the_guardian_sees_the_child_s_own_cases_certificates_and_todos(client):
    guardian_user, guardian, child = await _family(date(2019, 9, 1))
    made = await _lived_in(guardian_user, guardian, child)
    await f.login(client, guardian_user.mobile)
    assert f"/me/children/{child.id}" in (await client.get("/me")).text  # the switch to the child's page
    page = (await client.get(f"/me/children/{child.id}")).text
    assert "出生登记" in page and made["birth"].case_no in page and "户籍证明开具" in page
    assert "ZHHK2026000001" in page and "ZHHK2026000002" in page
    assert "小学入学报名" in page
    # Not the guardian's own page.
    assert made["own"].case_no not in page and "家长本人的身份证" not in page
    # Links only where the guardian may follow them: the case and certificate the guardian filed.
    assert f"/cases/{made['birth'].case_no}" in page and f"/cases/{made['by_other'].case_no}" not in page
    assert "/certificates/ZHHK2026000001.pdf" in page and "/certificates/ZHHK2026000002.pdf" not in page
    assert (await client.get(f"/cases/{made['birth'].case_no}")).status_code == 200
    assert child.id_number not in page


async def test_the_guardian_s_access_ends_on_the_18th_birthday_exactly(db):
    guardian_user, _, child = await _family()
    user = await current_user_by_id(guardian_user.id)
    page = await services.child_page(user, child.id, ip="127.0.0.1", today=EVE)
    assert page.child.id == child.id and page.age == 17
    assert [c["id"] for c in await services.children_of(user.person_id, EVE)] == [child.id]

    with pytest.raises(services.ComeOfAge) as refused:
        await services.child_page(user, child.id, ip="127.0.0.1", today=BIRTHDAY)
    assert refused.value.status_code == 404
    assert "2026年11月24日" in str(refused.value) and "年满18周岁" in str(refused.value)
    assert await services.children_of(user.person_id, BIRTHDAY) == []
    row = await AuditEvent.objects().where(AuditEvent.action == "access.denied").first()
    assert (row.actor_id, row.subject_key, row.outcome) == (guardian_user.id, str(child.id), "denied")
    assert "child is of age" in row.detail


async def test_on_the_birthday_the_child_activates_the_page(db):
    _, _, child = await _family()
    child_user = await current_user_by_id((await f.user()).id)
    with pytest.raises(DomainError) as minor:
        await services.activate_personal_page(child_user, child.id_number, child.ssc_number, ip="", today=EVE)
    assert "id_number" in minor.value.errors
    assert (await User.objects().get(User.id == child_user.id)).person is None

    await services.activate_personal_page(child_user, child.id_number, child.ssc_number, ip="", today=BIRTHDAY)
    assert (await User.objects().get(User.id == child_user.id)).person == child.id


async def test_over_http_the_guardian_is_told_the_page_has_passed(client):
    today = local_today()
    leap_day = (today.month, today.day) == (2, 29)
    eighteen_years_ago = today.replace(year=today.year - 18, day=28 if leap_day else today.day)
    guardian_user, guardian, grown = await _family(eighteen_years_ago)  # 18 today (Beijing time)
    almost = await _child("陈小妹", eighteen_years_ago + timedelta(days=1))  # 18 tomorrow
    await f.guardian_of(guardian, almost)
    await f.login(client, guardian_user.mobile)
    assert [c["name"] for c in await services.children_of(guardian.id)] == ["陈小妹"]
    assert (await client.get(f"/me/children/{almost.id}")).status_code == 200
    response = await client.get(f"/me/children/{grown.id}")
    assert response.status_code == 404
    assert "年满18周岁" in response.text and "监护人不再能查看" in response.text
    assert grown.id_number not in response.text
    assert await AuditEvent.exists().where(AuditEvent.action == "access.denied",
                                           AuditEvent.subject_key == str(grown.id))


async def test_someone_who_was_never_the_guardian_gets_a_plain_404(client):
    _, _, grown = await _family(date(2000, 1, 1))
    stranger, _ = await f.citizen(name="路人")
    await f.login(client, stranger.mobile)
    response = await client.get(f"/me/children/{grown.id}")
    assert response.status_code == 404 and "陈乐乐" not in response.text
    with pytest.raises(NotFound):
        await services.child_page(await current_user_by_id(stranger.id), grown.id, ip="")


async def test_the_18th_birthday_of_one_born_on_29_february():
    assert services.coming_of_age(date(2008, 2, 29)) == date(2026, 3, 1)
    assert services.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert services.age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert services.coming_of_age(BORN) == BIRTHDAY
