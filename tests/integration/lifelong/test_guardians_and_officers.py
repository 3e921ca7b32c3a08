"""Guardians reach their minor children's pages and nobody else's; officers reach their workspace, citizens don't."""

from __future__ import annotations

from datetime import date

import pytest

from app.audit.tables import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.anyio


async def test_guardian_sees_the_child_page(client):
    u, parent = await f.citizen(name="陈建国")
    child = await f.person(name="陈乐乐", birth=date(2020, 5, 1))
    await f.guardian_of(parent, child)
    await f.login(client, u.mobile)
    me = await client.get("/me")
    assert "陈乐乐" in me.text
    page = await client.get(f"/me/children/{child.id}")
    assert page.status_code == 200
    assert "陈乐乐" in page.text and "陈建国（父亲）" in page.text
    assert child.id_number not in page.text


async def test_citizen_a_cannot_open_b_s_child(client):
    _, parent = await f.citizen(name="家长")
    child = await f.person(name="别人的孩子", birth=date(2019, 1, 1))
    await f.guardian_of(parent, child)
    stranger, _ = await f.citizen(name="路人")
    await f.login(client, stranger.mobile)
    response = await client.get(f"/me/children/{child.id}")
    assert response.status_code == 404
    assert "别人的孩子" not in response.text
    row = await AuditEvent.objects().where(AuditEvent.action == "access.denied").first()
    assert row.actor_id == stranger.id and row.subject_key == str(child.id)


async def test_guardian_loses_the_page_at_18(client):
    u, parent = await f.citizen()
    grown = await f.person(name="成年了", birth=date(2000, 1, 1))
    await f.guardian_of(parent, grown)
    await f.login(client, u.mobile)
    assert "成年了" not in (await client.get("/me")).text
    assert (await client.get(f"/me/children/{grown.id}")).status_code == 404


async def test_officer_workspace_shows_department_and_roles(client):
    dept = await f.department()
    clerk = await f.officer(dept, "clerk", "reviewer")
    response = await f.login(client, clerk.mobile)
    assert response.headers["location"] == "/office"
    page = await client.get("/office")
    assert "珠海市市场监督管理局" in page.text and "综合窗口受理员" in page.text and "审查员" in page.text


async def test_citizen_is_refused_the_workspace_and_audited(client):
    u, _ = await f.citizen()
    await f.login(client, u.mobile)
    response = await client.get("/office")
    assert response.status_code == 403
    assert "无权进行此操作" in response.text
    assert await AuditEvent.exists().where(AuditEvent.action == "access.denied", AuditEvent.actor_id == u.id)


async def test_anonymous_visitor_is_sent_to_login(client):
    for url in ("/me", "/office", "/activate", "/enterprise/activate"):
        response = await client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={url}"


async def test_security_headers_on_every_page(client):
    response = await client.get("/")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.text
    assert missing.headers["x-content-type-options"] == "nosniff"
    assert missing.headers["content-type"] == "text/html; charset=utf-8"
