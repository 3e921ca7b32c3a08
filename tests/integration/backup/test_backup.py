"""`python -m app backup DIR` / `restore DIR`: a case with uploads and a signed certificate backed up, restored into a
fresh database and data folder, and checked there by counts, files and `audit verify`; a backup taken while
the app writes is consistent; damage and an occupied database are refused."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from app.audit import chain
from app.audit.services import record_alone
from app.backup import BackupError, backup, table_names
from app.catalog.tables import MaterialType
from app.db import utcnow
from app.filestore import get_store
from app.filings.tables import Material
from app.settings import ROOT, get_settings
from tests.filing_fixture import hall
from tests.integration.certificates.test_certificates import approved_certificate

pytestmark = pytest.mark.anyio


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env or os.environ.copy(),
                          capture_output=True, text=True, timeout=120)


@contextlib.asynccontextmanager
async def fresh_place() -> AsyncIterator[dict[str, str]]:
    """The environment of an empty data folder and an empty database on the test's engine."""
    folder = Path(tempfile.mkdtemp(prefix="yiwang-restore-"))
    env = {**os.environ, "YIWANG_VAR_DIR": str(folder)}
    env.pop("YIWANG_MATERIALS_DIR", None)
    try:
        if get_settings().is_sqlite:
            env["DATABASE_URL"] = f"sqlite:///{folder}/yiwang.sqlite3"
            yield env
        else:
            async with fresh_pg_database() as url:
                env["DATABASE_URL"] = url
                yield env
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    admin_url = os.environ["YIWANG_TEST_PG_URL"]
    name = f"yiwang_restore_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.execute(f"CREATE DATABASE {name}")
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def counts_in(url: str) -> dict[str, int]:
    """Every table's rows, read straight from a database (not through the app)."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in table_names()}  # noqa: S608
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in table_names()}  # noqa: S608
    finally:
        await conn.close()


async def test_a_case_and_its_certificate_come_back_whole_in_a_fresh_place(client, tmp_path: Path) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    uploads = await Material.select(Material.sha256).output(as_list=True)
    assert len(uploads) >= 2
    before = await counts_in(get_settings().database_url)
    head = await chain.head()

    made = run("backup", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr
    assert f"audit chain head: row id {head[0]}" in made.stdout
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["tables"] == before and manifest["missing_files"] == []
    assert manifest["audit_head"] == {"id": head[0], "hash": head[1].hex()}
    listed = dict(line.split("  ") for line in (tmp_path / "b" / "files.sha256").read_text().splitlines())
    assert set(listed) == {*uploads, cert["pdf_sha256"]} and manifest["files"]["count"] == len(listed)
    assert run("backup", str(tmp_path / "b")).returncode == 1  # never into a folder that holds something

    async with fresh_place() as env:
        restored = run("restore", str(tmp_path / "b"), env=env)
        assert restored.returncode == 0, restored.stderr
        assert "checked against the manifest" in restored.stdout and ": OK" in restored.stdout
        assert await counts_in(env["DATABASE_URL"]) == before
        store = Path(env["YIWANG_VAR_DIR"]) / "materials"
        for sha in listed:
            assert hashlib.sha256((store / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() == sha
        assert (store / cert["pdf_sha256"][:2] / cert["pdf_sha256"][2:4] / cert["pdf_sha256"]).read_bytes() \
            == get_store().get(cert["pdf_sha256"])
        verified = run("audit", "verify", env=env)
        assert verified.returncode == 0 and f"OK, {before['audit_event']} rows" in verified.stdout
        assert head[1].hex() in verified.stdout

        again = run("restore", str(tmp_path / "b"), env=env)
        assert again.returncode == 1 and "already holds data" in again.stderr
        assert run("restore", "--force", str(tmp_path / "b"), env=env).returncode == 0


async def test_a_backup_taken_while_the_app_writes_is_one_moment(db, tmp_path: Path) -> None:
    """Writers keep adding audit rows while the backup runs; what it holds agrees with its own manifest."""
    stop = asyncio.Event()

    async def writer() -> int:
        n = 0
        while not stop.is_set():
            await record_alone("login.failed", outcome="failed", subject_key=str(n))
            n += 1
            await asyncio.sleep(0)
        return n

    for n in range(50):
        await record_alone("login.ok", subject_key=str(n))
    task = asyncio.create_task(writer())
    manifest = await asyncio.to_thread(backup, tmp_path / "b")
    stop.set()
    written = await task
    assert written > 0
    assert 50 <= manifest["tables"]["audit_event"] < 50 + written + 1
    assert (await chain.verify()).rows == 50 + written
    async with fresh_place() as env:
        restored = run("restore", str(tmp_path / "b"), env=env)
        assert restored.returncode == 0, restored.stderr
        assert f"an audit chain of {manifest['tables']['audit_event']} rows" in restored.stdout


async def test_damage_is_named_and_an_unfinished_backup_refused(db, tmp_path: Path) -> None:
    h = await hall(certificate=False)
    data = b"%PDF-1.4 a stored file\n%%EOF\n"
    sha = hashlib.sha256(data).hexdigest()
    get_store().put(sha, data)
    lost = hashlib.sha256(b"never stored").hexdigest()
    kind = await MaterialType.select(MaterialType.id).first()
    for name in (sha, lost):
        await Material(holder_person=h.person.id, material_type=kind["id"], sha256=name, size=len(data),
                       content_type="application/pdf", filename="a.pdf", uploaded_by=h.citizen.id,
                       created_at=utcnow()).save()
    manifest = await asyncio.to_thread(backup, tmp_path / "b")
    assert manifest["missing_files"] == [lost] and manifest["files"]["count"] == 1
    with pytest.raises(BackupError, match="not empty"):
        backup(tmp_path / "b")

    copy = tmp_path / "b" / "files" / sha[:2] / sha[2:4] / sha
    copy.write_bytes(data.replace(b"a stored", b"A stored"))
    async with fresh_place() as env:
        damaged = run("restore", str(tmp_path / "b"), env=env)
        assert damaged.returncode == 1
        assert f"files/{sha[:2]}/{sha[2:4]}/{sha}: its content does not match" in damaged.stderr
        assert f"stored file {sha}: missing" in damaged.stderr  # so the store lacks it afterwards

    database = tmp_path / "b" / manifest["database"]["file"]
    database.write_bytes(database.read_bytes() + b"\0")
    async with fresh_place() as env:
        refused = run("restore", str(tmp_path / "b"), env=env)
        assert refused.returncode == 1 and "the backup is damaged" in refused.stderr
    (tmp_path / "b" / "manifest.json").unlink()
    async with fresh_place() as env:
        unfinished = run("restore", str(tmp_path / "b"), env=env)
        assert unfinished.returncode == 1 and "holds no manifest.json" in unfinished.stderr
