"""Register, log in, log out: sessions, rotation, rate limits and the audit trail, over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.sessions import SESSION_COOKIE, hash_token
from app.accounts.tables import User, WebSession
from app.audit.tables import AuditEvent
from app.db import utcnow
from app.web.security import CSRF_COOKIE, FLASH_COOKIE
from tests import factories as f

pytestmark = pytest.mark.anyio


async def test_register_then_login_reaches_activation_prompt(client):
    response = await f.post(client, "/register", {
        "mobile": "13812345678", "display_name": "小陈",
        "password": "a-long passphrase 2026", "password_confirm": "a-long passphrase 2026",
    })
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    user = await User.objects().where(User.mobile == "13812345678").first()
    assert user.password_hash.startswith("$argon2id$")
    await f.login(client, "13812345678", "a-long passphrase 2026")
    page = await client.get("/me")
    assert "激活个人网页" in page.text
    assert await AuditEvent.count().where(AuditEvent.action == "account.register") == 1


async def test_register_refuses_bad_input_keeps_it_and_writes_nothing(client):
    response = await f.post(client, "/register", {
        "mobile": "1381234", "display_name": "小陈", "password": "123456789", "password_confirm": "123456789",
    })
    assert response.status_code == 422
    assert "手机号码为11位数字" in response.text
    assert "密码过于常见" in response.text
    assert 'value="1381234"' in response.text and 'value="小陈"' in response.text
    assert "123456789" not in response.text  # passwords are never echoed back
    assert await User.count() == 0


async def test_register_refuses_short_password_mismatch_and_duplicate(client):
    response = await f.post(client, "/register", {
        "mobile": "13812345678", "display_name": "小陈", "password": "short", "password_confirm": "short",
    })
    assert "至少需要8个字符" in response.text
    response = await f.post(client, "/register", {
        "mobile": "13812345678", "display_name": "小陈",
        "password": "a-long passphrase 2026", "password_confirm": "a-long passphrase 2027",
    })
    assert "两次输入的密码不一致" in response.text
    await f.user(mobile="13812345678")
    response = await f.post(client, "/register", {
        "mobile": "13812345678", "display_name": "小陈",
        "password": "a-long passphrase 2026", "password_confirm": "a-long passphrase 2026",
    })
    assert response.status_code == 422
    assert "该手机号已注册" in response.text
    assert await User.count() == 1


async def test_long_passwords_are_allowed(client):
    password = "长长的口令也可以用" * 10  # 90 characters
    response = await f.post(client, "/register", {
        "mobile": "13812345670", "display_name": "老王", "password": password, "password_confirm": password,
    })
    assert response.status_code == 303
    await f.login(client, "13812345670", password)


async def test_login_rotates_the_session_and_logout_ends_it(client):
    u, _ = await f.citizen()
    await f.login(client, u.mobile)
    first = client.cookies.get(SESSION_COOKIE)
    assert await WebSession.exists().where(WebSession.token_hash == hash_token(first))
    await f.login(client, u.mobile)  # logging in again, e.g. on a shared computer
    second = client.cookies.get(SESSION_COOKIE)
    assert second != first
    assert not await WebSession.exists().where(WebSession.token_hash == hash_token(first))
    response = await f.post(client, "/logout")
    assert response.status_code == 303
    assert await WebSession.count() == 0
    client.cookies.set(SESSION_COOKIE, second)  # a stolen copy of the cookie no longer works
    assert (await client.get("/me", follow_redirects=False)).headers["location"].startswith("/login")


def set_cookies(response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}


async def test_cookie_flags(client):
    u, _ = await f.citizen()
    csrf = set_cookies(await client.get("/login"))[CSRF_COOKIE]
    cookies = set_cookies(await f.login(client, u.mobile))
    for cookie in (csrf, cookies[SESSION_COOKIE], cookies[FLASH_COOKIE]):
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower(), cookie
        assert "Secure" not in cookie  # plain HTTP in development; see the next test for HTTPS


async def test_cookies_are_secure_behind_https(settings_env):
    from litestar.testing import AsyncTestClient

    from app.main import create_app

    settings_env(YIWANG_SECURE_COOKIES="true")
    u, _ = await f.citizen()
    async with AsyncTestClient(app=create_app(), base_url="https://testserver.local") as client:
        csrf = set_cookies(await client.get("/login"))[CSRF_COOKIE]
        cookies = set_cookies(await f.login(client, u.mobile))
        for cookie in (csrf, cookies[SESSION_COOKIE], cookies[FLASH_COOKIE]):
            assert "Secure" in cookie and "HttpOnly" in cookie, cookie


async def test_a_session_planted_before_login_is_not_the_one_after(client):
    """Session fixation: whatever token the browser held before the login, the login issues a new one and the
    planted one (made up, or the attacker's own live session) opens nothing."""
    attacker, _ = await f.citizen()
    victim, _ = await f.citizen()
    await f.login(client, attacker.mobile)
    attackers_own = client.cookies.get(SESSION_COOKIE)
    for planted in ("chosen-by-the-attacker-0123456789", attackers_own):
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")  # as a sibling site could set it
        await f.login(client, victim.mobile)
        issued = client.cookies.get(SESSION_COOKIE)
        assert issued != planted
        assert not await WebSession.exists().where(WebSession.token_hash == hash_token(planted))
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
        assert (await client.get("/me", follow_redirects=False)).headers["location"] == "/login?next=/me"
    assert await WebSession.select(WebSession.user).output(as_list=True) == [victim.id, victim.id]


async def test_wrong_password_is_refused_and_audited(client):
    u, _ = await f.citizen()
    response = await f.post(client, "/login", {"mobile": u.mobile, "password": "not-the-password"})
    assert response.status_code == 422
    assert "手机号码或密码不正确" in response.text
    assert f'value="{u.mobile}"' in response.text
    failed = await AuditEvent.objects().where(AuditEvent.action == "login.failed").first()
    assert failed.subject_key == u.mobile and failed.outcome == "failed"
    assert SESSION_COOKIE not in client.cookies


async def test_brute_force_is_stopped_per_account(client):
    u, _ = await f.citizen()
    for _ in range(5):
        await f.post(client, "/login", {"mobile": u.mobile, "password": "guess-guess-guess"})
    response = await f.post(client, "/login", {"mobile": u.mobile, "password": f.PASSWORD})
    assert response.status_code == 429
    assert "失败次数过多" in response.text
    assert SESSION_COOKIE not in client.cookies


async def test_brute_force_is_stopped_per_address(client, settings_env):
    settings_env(YIWANG_LOGIN_MAX_FAILURES_ADDRESS="3")
    u, _ = await f.citizen()
    for i in range(3):
        await f.post(client, "/login", {"mobile": f"1390000000{i}", "password": "guess-guess-guess"})
    response = await f.post(client, "/login", {"mobile": u.mobile, "password": f.PASSWORD})
    assert response.status_code == 429


async def test_idle_session_expires(client):
    u, _ = await f.citizen()
    await f.login(client, u.mobile)
    await WebSession.update({WebSession.last_seen_at: utcnow() - timedelta(hours=2)}).where(
        WebSession.user == u.id
    )
    response = await client.get("/me", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/me"
    assert await WebSession.count() == 0


async def test_absolute_session_lifetime(client):
    u, _ = await f.citizen()
    await f.login(client, u.mobile)
    await WebSession.update({WebSession.created_at: utcnow() - timedelta(hours=13)}).where(
        WebSession.user == u.id
    )
    assert (await client.get("/me", follow_redirects=False)).status_code == 303


async def test_login_redirects_only_to_local_pages(client):
    u, _ = await f.citizen()
    response = await f.post(client, "/login", {"mobile": u.mobile, "password": f.PASSWORD,
                                               "next": "//evil.example/phish"})
    assert response.headers["location"] == "/me"


async def test_post_without_csrf_token_is_refused(client):
    await client.get("/login")
    response = await client.post("/register", data={"mobile": "13812345678"}, follow_redirects=False)
    assert response.status_code == 403
    assert await User.count() == 0
