"""CSRF on every unsafe method of the route table: without the token (or with a wrong one, or without its cookie)
the request is refused with 403 before any handler runs, and nothing in the database changes."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from app.piccolo_app import TABLES
from app.web.security import CSRF_COOKIE
from tests.security.routes import ENDPOINTS, Endpoint
from tests.security.world import World

pytestmark = pytest.mark.anyio

UNSAFE = [e for e in ENDPOINTS if e.unsafe]


async def row_counts() -> dict[str, int]:
    """Every table's row count, in one statement."""
    names = [t._meta.tablename for t in TABLES]
    sql = "SELECT " + ", ".join(f'(SELECT COUNT(*) FROM "{n}") AS "{n}"' for n in names)  # noqa: S608 - our tables
    return dict((await TABLES[0].raw(sql))[0])


def test_the_route_table_has_unsafe_methods_to_check() -> None:
    assert len(UNSAFE) > 40
    assert {e.method for e in UNSAFE} == {"POST"}  # no PUT/PATCH/DELETE today; they would be checked the same way


@pytest.mark.parametrize("endpoint", UNSAFE, ids=str)
async def test_unsafe_request_without_a_valid_token_is_refused_and_changes_nothing(
        module_client: Any, world: World, endpoint: Endpoint) -> None:
    url = world.url(endpoint.path)
    owner = world.cookies(world.owner)
    without_cookie = {k: v for k, v in owner.items() if k != CSRF_COOKIE}
    forged = secrets.token_hex(32)
    attempts = {
        "no token": (owner, {}, {}),
        "a made-up token": (owner, {"_csrf_token": forged}, {}),
        "a made-up header": (owner, {}, {"x-csrftoken": forged}),
        "a valid token without its cookie": (without_cookie, {"_csrf_token": world.csrf}, {}),
        "the cookie's value sent back with another cookie": ({**owner, CSRF_COOKIE: forged},
                                                              {"_csrf_token": world.csrf}, {}),
    }
    before = await row_counts()
    for what, (cookies, form, headers) in attempts.items():
        module_client.cookies.clear()
        for name, value in cookies.items():
            module_client.cookies.set(name, value)
        data = {"reason": "CSRF", "answer": "CSRF", "subject": "CSRF", "body": "CSRF", **form}
        response = await module_client.request(endpoint.method, url, data=data, headers=headers,
                                            follow_redirects=False)
        assert response.status_code == 403, f"{what}: {response.status_code}"
        assert "无权进行此操作" in response.text, what
    assert await row_counts() == before
