"""A crash in the middle of submissions: the real server (`python -m app serve`) on the test database takes
concurrent submissions with uploads, is killed with SIGKILL while they are in flight, and is started again. Then
the database is sound (SQLite's integrity check, no foreign key broken, the audit chain verifies), every
submission the server acknowledged is there, and every case is whole: a draft as saving writes it, or submitted
with its step, its materials (their files in the store) and its audit row; nothing refers to a case that is not
there."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.audit import chain
from app.audit.tables import AuditEvent
from app.filings.tables import Case
from app.settings import get_settings
from tests import factories
from tests.conftest import process_env
from tests.filing_fixture import ITEM, PDF_BYTES, VALID_FORM, hall, png_bytes
from tests.servers import app_server

pytestmark = pytest.mark.anyio

CLIENTS = 8
KILL_AFTER = 15  # acknowledged submissions before the kill


def server(log: Path, store: Path) -> Any:
    """The server on the test database, its stored files in `store` (a kill mid-upload leaves a temp file there)."""
    return app_server(log, process_env(YIWANG_MATERIALS_DIR=str(store)))


async def logged_in(url: str, mobile: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=30)
    await client.get("/login")
    done = await client.post("/login", data={"mobile": mobile, "password": factories.PASSWORD,
                                             "_csrf_token": client.cookies.get("yw_csrf", "")})
    assert done.status_code == 303, done.text
    return client


async def submit_once(client: httpx.AsyncClient, form: dict[str, str], n: int,
                      posting: set[int] | None = None) -> str:
    """One apply page and its submission with two uploads; the case number the server acknowledged it with.
    `posting` holds `n` while the submission is on its way."""
    page = await client.get(f"/services/{ITEM}/apply")
    marker = 'name="key" value="'
    start = page.text.index(marker) + len(marker)
    data = {**form, "key": page.text[start:page.text.index('"', start)], "action": "submit",
            "_csrf_token": client.cookies.get("yw_csrf", "")}
    files = {"file_id_card": ("身份证.png", png_bytes(size=(40 + n % 200, 30)), "image/png"),
             "file_proof": ("证明.pdf", PDF_BYTES, "application/pdf")}
    if posting is not None:
        posting.add(n)
    response = await client.post(f"/services/{ITEM}/apply", data=data, files=files)
    if posting is not None:
        posting.discard(n)
    location = response.headers.get("location", "")
    assert response.status_code == 303 and location.startswith("/cases/"), response.text[:500]
    return location.removeprefix("/cases/")


async def load_until_killed(url: str, people: list[tuple[str, dict[str, str]]],
                            proc: subprocess.Popen[bytes]) -> tuple[list[str], int]:
    """CLIENTS loops submitting; SIGKILL once KILL_AFTER were acknowledged, while others are in flight. The
    acknowledged case numbers, and how many submissions were on their way at the kill."""
    clients = [await logged_in(url, mobile) for mobile, _ in people]  # CLIENTS loops share them
    acknowledged: list[str] = []
    posting: set[int] = set()
    at_kill: list[int] = []
    enough = asyncio.Event()
    counter = iter(range(1_000_000))

    async def loop(client: httpx.AsyncClient, form: dict[str, str]) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the connection dies with the server
            while True:
                acknowledged.append(await submit_once(client, form, next(counter), posting))
                if len(acknowledged) == KILL_AFTER:
                    enough.set()

    async def killer() -> None:
        """At a moment unrelated to any response (so sometimes inside a transaction), with submissions posted."""
        await enough.wait()
        await asyncio.sleep(random.uniform(0, 0.05))
        for _ in range(1000):
            if posting:
                break
            await asyncio.sleep(0.001)
        at_kill.append(len(posting))
        os.kill(proc.pid, signal.SIGKILL)

    try:
        await asyncio.wait_for(asyncio.gather(killer(), *(
            loop(clients[i % len(clients)], people[i % len(people)][1]) for i in range(CLIENTS))), timeout=60)
    finally:
        for c in clients:
            await c.aclose()
    assert proc.wait(timeout=10) == -signal.SIGKILL
    return acknowledged, at_kill[0]


async def rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await AuditEvent.raw(sql, *args)


async def assert_sound(acknowledged: list[str], store: Path) -> None:
    if get_settings().is_sqlite:
        with contextlib.closing(sqlite3.connect(get_settings().sqlite_path)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    verdict = await chain.verify()
    assert verdict.ok, verdict.problem

    cases = {c["case_no"]: c for c in await Case.select(Case.id, Case.case_no, Case.state)}
    assert set(acknowledged) <= {no for no, c in cases.items() if c["state"] == "submitted"}
    for case_no, case in cases.items():
        steps = [r["action"] for r in await rows('SELECT action FROM case_step WHERE "case" = {}', case["id"])]
        audited = await AuditEvent.count().where(AuditEvent.subject_key == case_no, AuditEvent.action == "case.submit")
        materials = await rows('SELECT m.sha256 FROM case_material cm JOIN material m ON m.id = cm.material '
                               'WHERE cm."case" = {}', case["id"])
        assert len(materials) == 2, case_no  # saving a draft attaches both uploads in its one transaction
        for m in materials:
            sha = m["sha256"]
            assert hashlib.sha256((store / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() == sha
        if case["state"] == "draft":  # saved, and the crash came before the submission's own transaction
            assert steps == [] and audited == 0, case_no
        else:
            assert case["state"] == "submitted" and steps == ["submit"] and audited == 1, case_no
    # Nothing refers to a case that is not there (the audit row and the message name it by number).
    assert await rows("SELECT subject_key FROM audit_event WHERE subject_type = 'case' AND subject_key NOT IN "
                      "(SELECT case_no FROM filing_case)") == []
    assert await rows("SELECT link FROM notification WHERE link LIKE '/cases/%' AND substr(link, 8) NOT IN "
                      "(SELECT case_no FROM filing_case)") == []


async def test_a_server_killed_mid_submission_leaves_no_half_written_case(db, tmp_path: Path) -> None:
    h = await hall()
    people = [(h.citizen.mobile, {**VALID_FORM, "id_number": h.person.id_number})]
    for n in range(3):
        user, person = await factories.citizen(name=f"王{n}明")
        people.append((user.mobile, {**VALID_FORM, "name": person.name, "id_number": person.id_number}))

    log, store = tmp_path / "server.log", tmp_path / "materials"
    with server(log, store) as (url, proc):
        acknowledged, posting = await load_until_killed(url, people, proc)
    assert len(acknowledged) >= KILL_AFTER and posting >= 1

    with server(log, store) as (url, _proc):  # it starts again on what the crash left
        await assert_sound(acknowledged, store)
        client = await logged_in(url, people[0][0])
        try:
            after = await submit_once(client, people[0][1], 0)
        finally:
            await client.aclose()
    await assert_sound([*acknowledged, after], store)
