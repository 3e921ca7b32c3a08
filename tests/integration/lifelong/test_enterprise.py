"""Enterprise pages: activation by the legal representative, agents granted and revoked, no cross-enterprise reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.audit.tables import AuditEvent
from app.lifelong.tables import EnterpriseMember
from tests import factories as f

pytestmark = pytest.mark.anyio


async def test_legal_rep_activates_the_enterprise_page(client):
    u, p = await f.citizen()
    ent = await f.entity(p, name="珠海市横琴新区云帆科技有限公司")
    await f.login(client, u.mobile)
    response = await f.post(client, "/enterprise/activate", {"uscc": ent.uscc.lower()})
    assert response.status_code == 303 and response.headers["location"] == f"/enterprise/{ent.uscc}"
    page = await client.get(f"/enterprise/{ent.uscc}")
    assert "珠海市横琴新区云帆科技有限公司" in page.text and "法定代表人" in page.text
    assert await EnterpriseMember.count().where(EnterpriseMember.role == "legal_rep") == 1
    # Activating twice changes nothing.
    await f.post(client, "/enterprise/activate", {"uscc": ent.uscc})
    assert await EnterpriseMember.count() == 1


async def test_someone_else_cannot_activate_it(client):
    _, rep = await f.citizen()
    ent = await f.entity(rep)
    u, _ = await f.citizen(name="李四")
    await f.login(client, u.mobile)
    response = await f.post(client, "/enterprise/activate", {"uscc": ent.uscc})
    assert response.status_code == 422
    assert "只有法人库登记的法定代表人才能激活" in response.text
    assert f'value="{ent.uscc}"' in response.text
    assert await EnterpriseMember.count() == 0
    row = await AuditEvent.objects().where(AuditEvent.action == "enterprise.activate").first()
    assert row.outcome == "failed" and row.actor_id == u.id


async def test_malformed_and_unknown_credit_codes(client):
    u, p = await f.citizen()
    await f.login(client, u.mobile)
    ent = await f.entity(p)
    wrong = ent.uscc[:17] + ("0" if ent.uscc[17] != "0" else "1")
    assert "校验位（最后一位）不正确" in (await f.post(client, "/enterprise/activate", {"uscc": wrong})).text
    assert "应为18位" in (await f.post(client, "/enterprise/activate", {"uscc": "9144"})).text
    unknown = f.credit_code()
    assert "法人基础库中没有" in (await f.post(client, "/enterprise/activate", {"uscc": unknown})).text


async def test_unactivated_user_is_told_to_activate_first(client):
    u = await f.user()
    await f.login(client, u.mobile)
    response = await f.post(client, "/enterprise/activate", {"uscc": f.credit_code()})
    assert "请先激活您的个人网页" in response.text


async def _rep_with_enterprise(client):
    rep_user, rep = await f.citizen(name="梁志强")
    ent = await f.entity(rep)
    await f.member(ent, rep_user)
    await f.login(client, rep_user.mobile)
    return rep_user, ent


async def test_legal_rep_grants_and_revokes_an_agent(client):
    _, ent = await _rep_with_enterprise(client)
    agent_user, agent = await f.citizen(name="周晓燕", male=False)
    until = (date.today() + timedelta(days=365)).isoformat()
    response = await f.post(client, f"/enterprise/{ent.uscc}/members",
                            {"id_number": agent.id_number, "scope": "filing", "expires_on": until})
    assert response.status_code == 303
    members = await client.get(f"/enterprise/{ent.uscc}/members")
    assert "周晓燕" in members.text and "办理申请" in members.text
    assert agent.id_number not in members.text
    row = await EnterpriseMember.objects().where(EnterpriseMember.user == agent_user.id).first()
    assert row.role == "agent" and row.expires_on == date.fromisoformat(until)

    # The agent sees the page but cannot manage members.
    from tests.conftest import app_client

    async with app_client() as agent_client:
        await f.login(agent_client, agent_user.mobile)
        assert "经办人" in (await agent_client.get(f"/enterprise/{ent.uscc}")).text
        refused = await f.post(agent_client, f"/enterprise/{ent.uscc}/members/{row.id}/revoke")
        assert refused.status_code == 403
        assert await AuditEvent.exists().where(AuditEvent.action == "access.denied",
                                               AuditEvent.actor_id == agent_user.id)

        response = await f.post(client, f"/enterprise/{ent.uscc}/members/{row.id}/revoke")
        assert response.status_code == 303
        assert (await EnterpriseMember.objects().get(EnterpriseMember.id == row.id)).revoked_at is not None
        assert (await agent_client.get(f"/enterprise/{ent.uscc}")).status_code == 404


async def test_grant_refusals_keep_the_input(client):
    _, ent = await _rep_with_enterprise(client)
    stranger = await f.person(name="未激活")
    response = await f.post(client, f"/enterprise/{ent.uscc}/members",
                            {"id_number": stranger.id_number, "scope": "filing",
                             "expires_on": (date.today() + timedelta(days=30)).isoformat()})
    assert response.status_code == 422
    assert "尚未开通个人网页" in response.text
    assert f'value="{stranger.id_number}"' in response.text
    response = await f.post(client, f"/enterprise/{ent.uscc}/members",
                            {"id_number": stranger.id_number, "scope": "filing", "expires_on": "2001-01-01"})
    assert "截止日期须晚于今天" in response.text
    assert await EnterpriseMember.count() == 1


async def test_expired_agent_loses_access(client):
    _rep_user, rep = await f.citizen()
    ent = await f.entity(rep)
    agent_user, _ = await f.citizen(name="过期")
    await f.member(ent, agent_user, role="agent", expires_on=date.today() - timedelta(days=1))
    await f.login(client, agent_user.mobile)
    assert (await client.get(f"/enterprise/{ent.uscc}")).status_code == 404


async def test_one_enterprise_never_sees_another(client):
    _, _ent = await _rep_with_enterprise(client)
    other_user, other_rep = await f.citizen(name="别家老板")
    other = await f.entity(other_rep, name="珠海市别家贸易有限公司")
    await f.member(other, other_user)
    for url in (f"/enterprise/{other.uscc}", f"/enterprise/{other.uscc}/members"):
        response = await client.get(url)
        assert response.status_code == 404
        assert "珠海市别家贸易有限公司" not in response.text
    response = await f.post(client, f"/enterprise/{other.uscc}/members",
                            {"id_number": other_rep.id_number, "scope": "all", "expires_on": "2030-01-01"})
    assert response.status_code == 404
    denied = await AuditEvent.count().where(AuditEvent.action == "access.denied", AuditEvent.subject_key == other.uscc)
    assert denied == 3
    assert await EnterpriseMember.count().where(EnterpriseMember.entity == other.id) == 1
