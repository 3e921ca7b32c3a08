"""The elderly-friendly mode's toggle over real HTTP: a CSRF-checked form post that sets or clears the cookie and
goes back to the same page, never elsewhere; the pages render with the mode's class and the pressed button."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest

from app.web.display import ELDERLY_COOKIE
from tests import factories as f

pytestmark = pytest.mark.anyio


async def test_toggling_sets_the_cookie_and_returns_to_the_page(client):
    response = await f.post(client, "/elderly-mode", {"on": "1", "next": "/services?q=社保"})
    assert response.status_code == 303
    assert unquote(response.headers["location"]) == "/services?q=社保"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{ELDERLY_COOKIE}=1;") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = await client.get("/services?q=社保")
    assert '<html lang="zh-CN" class="elderly">' in page.text
    assert 'aria-pressed="true"' in page.text and 'name="on" value="0"' in page.text
    assert f'name="next" value="/services?q={quote("社保")}"' in page.text

    response = await f.post(client, "/elderly-mode", {"on": "0", "next": "/"})
    assert response.headers["location"] == "/"
    assert response.headers["set-cookie"].startswith(f'{ELDERLY_COOKIE}=""') and "Max-Age=0" in response.headers[
        "set-cookie"]
    page = await client.get("/")
    assert '<html lang="zh-CN">' in page.text and 'aria-pressed="false"' in page.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", ""])
async def test_the_way_back_is_a_local_page_only(client, target):
    response = await f.post(client, "/elderly-mode", {"on": "1", "next": target})
    assert response.headers["location"] == "/"


async def test_the_toggle_needs_the_csrf_token(client):
    await client.get("/")
    response = await client.post("/elderly-mode", data={"on": "1", "next": "/"}, follow_redirects=False)
    assert response.status_code == 403
    assert ELDERLY_COOKIE not in response.headers.get("set-cookie", "")


async def test_a_page_a_form_post_rendered_comes_back_as_the_page_the_form_was_on(client):
    await client.get("/login")
    refused = await f.post(client, "/login", {"mobile": "13700009999", "password": "wrong"},
                           headers={"referer": "http://testserver.local/login?next=/me/cases"})
    assert refused.status_code == 422
    assert 'name="next" value="/login?next=/me/cases"' in refused.text
    elsewhere = await f.post(client, "/login", {"mobile": "13700009999", "password": "wrong"},
                             headers={"referer": "https://evil.example/phish"})
    assert 'name="next" value="/"' in elsewhere.text
