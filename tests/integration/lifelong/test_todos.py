"""Reminders: the job writes each to-do once, marks it done when the matching case is filed (or its subject goes
away), and /me and /me/todos show them with the cases under way and the timeline."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest

from app.catalog.services import import_catalogue
from app.certificates.tables import Certificate
from app.filings.tables import Case
from app.jobs import run_all
from app.lifelong.reminders import run_reminders, school_year
from app.lifelong.tables import Todo
from app.registry.tables import Person
from app.workdays.calendar import local_today
from tests import factories
from tests.catalog_fixture import catalogue
from tests.filing_fixture import ITEM, apply_form, hall, png_bytes, submit
from tests.integration.certificates.test_certificates import approved_certificate
from tests.integration.filings.test_filing import filed_case, officer_act

pytestmark = pytest.mark.anyio

SCHOOL = "440402-JYJ-001"
ANNUAL = "440400-SCJG-004"
ID_CARD_FIRST = "440402-GA-002"
ID_CARD_RENEWAL = "440403-GA-001"


async def more_items() -> None:
    """The catalogue items the rules look for: enrolment, the annual report, the two ID card items."""
    doc = catalogue()
    template = next(i for i in doc["items"] if i["code"] == "440400-GA-003")
    doc["certificate_types"].append({"code": "ID_CARD_CERT", "name": "居民身份证", "material": "ID_CARD",
                                     "validity_years": 10})

    def item(code: str, name: str, department: str, audience: tuple[str, ...] = ("person",),
             certificate: str | None = None) -> dict[str, Any]:
        return {**copy.deepcopy(template), "code": code, "name": name, "department": department,
                "audience": list(audience), "certificate": certificate, "life_events": []}

    doc["items"] = [
        item(SCHOOL, "小学一年级新生入学报名", "ZH-XZ-EDUCATION"),
        item(ANNUAL, "企业年度报告公示", "ZH-MARKET", ("enterprise",)),
        item(ID_CARD_FIRST, "居民身份证申领", "ZH-POLICE", certificate="ID_CARD_CERT"),
        item(ID_CARD_RENEWAL, "居民身份证换领/补领", "ZH-DM-POLICE", certificate="ID_CARD_CERT"),
    ]
    await import_catalogue(doc)


async def todos(**where: Any) -> list[dict[str, Any]]:
    query = Todo.select().order_by(Todo.id)
    for column, value in where.items():
        query = query.where(getattr(Todo, column) == value)
    return await query


async def file_item(client: Any, code: str, query: str = "") -> Any:
    key = await apply_form(client, code, query)
    response = await submit(client, key, form={}, code=code, query=query,
                            files={"file_id_card": ("身份证.png", png_bytes(), "image/png")})
    assert response.status_code == 303, response.text
    return response


async def test_certificate_near_expiry_renewal_todo_once_then_done_when_filed(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    today = local_today()
    await Certificate.update({Certificate.valid_until: today + timedelta(days=40)}).where(
        Certificate.id == cert["id"])

    first = await run_all(today)
    second = await run_reminders(today)
    assert first["lifelong.reminders"] >= 2 and second == 0  # the renewal and the rating; nothing the second time
    renewals = await todos(kind="certificate_expiring")
    assert len(renewals) == 1
    renewal = renewals[0]
    assert renewal["holder_person"] == h.person.id and renewal["holder_entity"] is None
    assert renewal["link"] == f"/services/{ITEM}/apply" and renewal["due_on"] == today + timedelta(days=40)
    assert renewal["title"] == "续办您的户口迁移证明" and cert["cert_no"] in renewal["body"]
    ratings = await todos(kind="rating")
    assert len(ratings) == 1 and ratings[0]["link"] == f"/cases/{cert['case_no']}/rating"
    assert ratings[0]["due_on"] == today + timedelta(days=30)

    await factories.login(client, h.citizen.mobile)
    page = await client.get("/me")
    assert "续办您的户口迁移证明" in page.text and f'href="/services/{ITEM}/apply"' in page.text
    assert "评价服务：户口迁移" in page.text
    assert "户口迁移证明" in page.text and cert["cert_no"] in page.text  # newest certificates
    assert "证照签发：户口迁移证明" in page.text and "您出生" in page.text  # the timeline

    # The renewal filed (the form comes prefilled, the library supplies the materials): the to-do is done.
    renewed = await filed_case(client, h)
    assert renewed.state == "submitted"
    await run_reminders(today)
    renewal = (await todos(kind="certificate_expiring"))[0]
    assert renewal["done_at"] is not None
    page = await client.get("/me/todos")
    assert page.status_code == 200 and "已完成" in page.text and "续办您的户口迁移证明" in page.text
    me = await client.get("/me")
    assert "续办您的户口迁移证明" not in me.text
    assert renewed.case_no in me.text and "第 1 步，共 4 步" in me.text  # under way, with its progress

    # The rating stays open for 30 days, then it is done.
    await run_reminders(today + timedelta(days=31))
    assert (await todos(kind="rating"))[0]["done_at"] is not None


async def test_a_revoked_certificate_needs_no_renewal(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    today = local_today()
    await Certificate.update({Certificate.valid_until: today + timedelta(days=10)}).where(
        Certificate.id == cert["id"])
    await run_reminders(today)
    await Certificate.update({Certificate.state: "revoked"}).where(Certificate.id == cert["id"])
    await run_reminders(today)
    assert (await todos(kind="certificate_expiring"))[0]["done_at"] is not None


async def test_a_correction_is_a_todo_until_resubmitted_and_each_round_is_its_own(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    await factories.login(client, h.clerk.mobile)
    assert (await officer_act(client, case.case_no, "request_correction", "身份证照片模糊。",
                              materials="id_card")).status_code == 303
    today = local_today()
    await run_reminders(today)
    await run_reminders(today)
    [todo] = await todos(kind="correction")
    assert todo["link"] == f"/cases/{case.case_no}#correction" and todo["done_at"] is None
    assert todo["holder_person"] == h.person.id

    await factories.login(client, h.citizen.mobile)
    page = await client.get("/me")
    assert "答复补正：户口迁移" in page.text and f"/cases/{case.case_no}#correction" in page.text
    response = await client.post(f"/cases/{case.case_no}/resubmit",
                                 data={"_csrf_token": client.cookies.get("yw_csrf")},
                                 files={"file_id_card": ("new.png", png_bytes("blue"), "image/png")},
                                 follow_redirects=False)
    assert response.status_code == 303, response.text
    await run_reminders(today)
    assert (await todos(kind="correction"))[0]["done_at"] is not None

    await factories.login(client, h.clerk.mobile)
    assert (await officer_act(client, case.case_no, "request_correction", "仍然模糊。",
                              materials="id_card")).status_code == 303
    await run_reminders(today)
    rounds = await todos(kind="correction")
    assert len(rounds) == 2 and rounds[1]["done_at"] is None


async def test_a_child_turning_six_puts_enrolment_on_each_guardians_page(client) -> None:
    h = await hall()
    await more_items()
    today = local_today()
    year = school_year(today)
    child = await factories.person(name="陈子轩", birth=date(year - 6, 3, 10))
    toddler = await factories.person(name="陈可欣", birth=date(year - 4, 3, 10))
    mother_user, mother = await factories.citizen(name="黄丽华", male=False)
    for guardian in (h.person, mother):
        await factories.guardian_of(guardian, child)
        await factories.guardian_of(guardian, toddler)

    await run_reminders(today)
    await run_reminders(today)
    enrolments = await todos(kind="school_enrolment")
    assert sorted(t["holder_person"] for t in enrolments) == sorted([h.person.id, mother.id])
    assert all(t["link"] == f"/services/{SCHOOL}/apply" and t["due_on"] == date(year, 5, 31) for t in enrolments)
    assert all("陈子轩" in t["title"] for t in enrolments)  # not the toddler

    await factories.login(client, h.citizen.mobile)
    page = await client.get("/me")
    assert "为陈子轩报名小学" in page.text
    assert "小学一年级新生入学报名" in page.text  # suggested for a child of school age

    # One guardian files the enrolment: both guardians' to-dos are done.
    await factories.login(client, mother_user.mobile)
    await file_item(client, SCHOOL)
    await run_reminders(today)
    assert all(t["done_at"] is not None for t in await todos(kind="school_enrolment"))


async def test_the_id_card_expiring_links_to_its_renewal(client) -> None:
    h = await hall()
    await more_items()
    today = local_today()
    await Person.update({Person.id_card_valid_until: today + timedelta(days=60)}).where(Person.id == h.person.id)
    await run_reminders(today)
    [todo] = await todos(kind="id_card_expiring")
    assert todo["link"] == f"/services/{ID_CARD_RENEWAL}/apply" and todo["due_on"] == today + timedelta(days=60)

    # A new card in the registry: the old reminder goes; the new card's comes in ten years.
    await Person.update({Person.id_card_valid_until: today + timedelta(days=3650)}).where(Person.id == h.person.id)
    await run_reminders(today)
    assert [t["done_at"] is not None for t in await todos(kind="id_card_expiring")] == [True]


async def test_the_annual_report_from_january_to_june(client) -> None:
    await hall()
    await more_items()
    user, rep = await factories.citizen(name="陈志明")
    entity = await factories.entity(rep)
    await factories.member(entity, user)
    year = local_today().year + 1  # a spring to come, whatever today is

    await run_reminders(date(year, 3, 1))
    await run_reminders(date(year, 3, 2))
    [todo] = await todos(kind="annual_report")
    assert todo["holder_entity"] == entity.id and todo["holder_person"] is None
    assert todo["link"] == f"/services/{ANNUAL}/apply?as={entity.uscc}" and todo["due_on"] == date(year, 6, 30)
    assert str(year - 1) in todo["title"] and entity.name in todo["title"]

    await factories.login(client, user.mobile)
    page = await client.get("/me/todos")
    assert entity.name in page.text and f"?as={entity.uscc}" in page.text

    # Not filed by 30 June: still open (overdue); nothing new is asked for in the second half of the year.
    await run_reminders(date(year, 7, 1))
    assert [t["done_at"] for t in await todos(kind="annual_report")] == [None]
    # The next spring asks for the next report; last year's is over.
    await run_reminders(date(year + 1, 1, 5))
    reports = await todos(kind="annual_report")
    assert len(reports) == 2 and reports[0]["done_at"] is not None and reports[1]["done_at"] is None


async def test_an_annual_report_filed_closes_the_todo(client) -> None:
    await hall()
    await more_items()
    user, rep = await factories.citizen(name="陈志明")
    entity = await factories.entity(rep)
    await factories.member(entity, user)
    today = local_today()
    await run_reminders(date(today.year, 1, 10))
    assert [t["done_at"] for t in await todos(kind="annual_report")] == [None]
    await factories.login(client, user.mobile)
    await file_item(client, ANNUAL, f"?as={entity.uscc}")
    case = await Case.objects().where(Case.holder_entity == entity.id).first()
    assert case.state == "submitted"
    await run_reminders(date(today.year, 1, 10))
    assert (await todos(kind="annual_report"))[0]["done_at"] is not None


async def test_me_without_activation_and_todos_of_nobody(client) -> None:
    u = await factories.user()
    await factories.login(client, u.mobile)
    page = await client.get("/me")
    assert page.status_code == 200 and "激活" in page.text
    assert (await client.get("/me/todos", follow_redirects=False)).status_code in (302, 303, 307)
