"""Activating a personal page against the population registry: every way it can go wrong, and right."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.tables import User
from app.audit.tables import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.anyio


async def registered(client):
    u = await f.user()
    await f.login(client, u.mobile)
    return u


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("44040219850615", "身份证号码应为18位，您输入了14位"),
        ("4404021985061512AB", "前17位应为数字"),
        ("999999198506151234", "地区代码999999不存在"),
        ("440402198513451234", "出生日期（第7至14位）不是有效日期"),
    ],
)
async def test_malformed_id_numbers_get_a_precise_message(client, id_number, message):
    u = await registered(client)
    response = await f.post(client, "/activate", {"id_number": id_number, "ssc_number": "A12345678"})
    assert response.status_code == 422
    assert message in response.text
    assert f'value="{id_number}"' in response.text and 'value="A12345678"' in response.text
    assert (await User.objects().get(User.id == u.id)).person is None


async def test_bad_check_digit(client):
    await registered(client)
    p = await f.person()
    wrong = p.id_number[:17] + ("0" if p.id_number[17] != "0" else "1")
    response = await f.post(client, "/activate", {"id_number": wrong, "ssc_number": p.ssc_number})
    assert "校验位（最后一位）不正确" in response.text


async def test_malformed_ssc_number(client):
    await registered(client)
    p = await f.person()
    response = await f.post(client, "/activate", {"id_number": p.id_number, "ssc_number": "12345"})
    assert "1个大写字母加8位数字" in response.text


async def test_mismatched_ssc_number_is_refused_and_audited(client):
    u = await registered(client)
    p = await f.person()
    response = await f.post(client, "/activate", {"id_number": p.id_number, "ssc_number": "Z99999999"})
    assert response.status_code == 422
    assert "不匹配" in response.text
    assert (await User.objects().get(User.id == u.id)).person is None
    row = await AuditEvent.objects().where(AuditEvent.action == "page.activate").first()
    assert row.outcome == "failed" and row.actor_id == u.id


async def test_activation_binds_the_page_and_masks_the_id_number(client):
    u = await registered(client)
    p = await f.person(name="黄美玲", male=False)
    response = await f.post(client, "/activate", {"id_number": p.id_number.lower(), "ssc_number": p.ssc_number})
    assert response.status_code == 303 and response.headers["location"] == "/me"
    assert (await User.objects().get(User.id == u.id)).person == p.id
    page = await client.get("/me")
    assert "黄美玲" in page.text
    assert p.id_number not in page.text
    assert p.id_number[:6] + "********" + p.id_number[-4:] in page.text
    assert page.headers["cache-control"] == "no-store"
    assert await AuditEvent.count().where(AuditEvent.action == "page.activate", AuditEvent.outcome == "ok") == 1


async def test_one_identity_one_account(client):
    _owner, p = await f.citizen()
    u = await registered(client)
    response = await f.post(client, "/activate", {"id_number": p.id_number, "ssc_number": p.ssc_number})
    assert response.status_code == 422
    assert "该身份已绑定其他账号" in response.text
    assert (await User.objects().get(User.id == u.id)).person is None


async def test_minors_cannot_activate_their_own_page(client):
    await registered(client)
    kid = await f.person(birth=date(2015, 3, 3))
    response = await f.post(client, "/activate", {"id_number": kid.id_number, "ssc_number": kid.ssc_number})
    assert "由监护人管理" in response.text


async def test_repeated_failures_are_rate_limited(client):
    await registered(client)
    p = await f.person()
    for _ in range(10):
        await f.post(client, "/activate", {"id_number": p.id_number, "ssc_number": "Z99999999"})
    response = await f.post(client, "/activate", {"id_number": p.id_number, "ssc_number": p.ssc_number})
    assert response.status_code == 429
    assert "尝试失败次数过多" in response.text
