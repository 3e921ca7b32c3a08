"""Every form of the app, fuzzed with Hypothesis: each unsafe route of the route table gets arbitrary fields (any
Unicode, huge strings, missing fields, numbers where text goes, repeated keys, stray files) from a logged-in user
its policy lets through, with a valid CSRF token. The answer is never a 500, and never shows a traceback."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.accounts.sessions import create_session
from app.settings import ROOT
from tests.bundle_fixture import SIDE_FORM
from tests.filing_fixture import FORM, MATERIALS
from tests.security.routes import ENDPOINTS, Endpoint
from tests.security.test_authorization import NOBODY, rule_for
from tests.security.world import ROLES, Actor, World

pytestmark = pytest.mark.anyio

UNSAFE = [e for e in ENDPOINTS if e.unsafe]


def field_names() -> list[str]:
    """The names the app's forms carry and its handlers read: from the templates and the code, plus the test
    catalogue's own form fields and material slots."""
    names: set[str] = set()
    for template in [*Path(ROOT / "pages").rglob("*.html"), *Path(ROOT / "components").rglob("*.html")]:
        names |= set(re.findall(r'name="([a-z_0-9]+)"', template.read_text()))
    for module in Path(ROOT / "app").rglob("*.py"):
        names |= set(re.findall(r'(?:text\(data, |\.get\(|\.getall\()"([a-z_0-9]+)"', module.read_text()))
    names |= {f["key"] for f in [*FORM, *SIDE_FORM]}
    names |= {f"{prefix}{m['key']}" for m in MATERIALS for prefix in ("file_", "valid_until_")}
    names |= {"situation_agent", "file_housing_proof"}
    return sorted(names - {"_csrf_token", "viewport"})


NAMES = field_names()
NASTY = ["", " ", "0", "-1", "1e309", "NaN", "99999999999999999999", "2026-02-30", "9999-12-31", "0000-00-00",
         "../../etc/passwd", "<script>alert(1)</script>", "' OR '1'='1", "{{ 7*7 }}", "%s%s%n", "\x00", "\u202e",
         "null", "true", "[]", "{}", "440402198506150011", "13800000000", "TS20260101-0001", "𠀀𪚥", "😀" * 50]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
HUGE = st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=3), st.integers(2_000, 40_000))
VALUES = st.one_of(TEXT, HUGE, st.sampled_from(NASTY), st.integers(-(2**70), 2**70).map(str))
KEYS = st.one_of(st.sampled_from(NAMES), TEXT.filter(bool))
FIELDS = st.lists(st.tuples(KEYS, VALUES), max_size=12)  # a list: the same key may come several times
FILES = st.lists(st.tuples(st.sampled_from([n for n in NAMES if n.startswith("file")] + ["consent_form", "x"]),
                           st.text(max_size=30), st.binary(max_size=2_000)), max_size=2)


def actor_for(world: World, endpoint: Endpoint) -> Actor:
    """A user the route's policy lets through (its object's owner, or their department's officer)."""
    rule = rule_for(endpoint)
    if rule is NOBODY:
        return world.insider if endpoint.path.startswith("/office/") else world.owner
    allowed = [world.actors[r] for r in ROLES if rule.allows(world.actors[r])]
    return next((a for a in allowed if a.user_id is not None), allowed[0])


@pytest.mark.parametrize("endpoint", UNSAFE, ids=str)
@given(fields=FIELDS, files=FILES, multipart=st.booleans(), htmx=st.booleans())
async def test_no_form_input_makes_a_500(module_client: Any, world: World, endpoint: Endpoint, fields: list,
                                         files: list, multipart: bool, htmx: bool) -> None:
    actor = actor_for(world, endpoint)
    if endpoint.path == "/logout":  # each try ends the session it is sent with
        actor = replace(actor, session=await create_session(actor.user_id, "127.0.0.1", "fuzz"))
    module_client.cookies.clear()
    for name, value in world.cookies(actor).items():
        module_client.cookies.set(name, value)
    # htmx sends the token in a header (hx-headers on <body>), a plain form in its hidden field.
    headers = {"hx-request": "true", "x-csrftoken": world.csrf} if htmx else {}
    data: dict[str, list[str]] = {} if htmx else {"_csrf_token": [world.csrf]}
    for key, value in fields:
        data.setdefault(key, []).append(value)
    upload = [(name, (filename, content, "application/octet-stream")) for name, filename, content in files]
    response = await module_client.post(world.url(endpoint.path), data=data, files=upload if multipart else None,
                                     headers=headers, follow_redirects=False)
    assert response.status_code < 500, response.text[-3000:]
    assert "Traceback" not in response.text
