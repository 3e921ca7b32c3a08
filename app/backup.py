"""`python -m app backup DIR` and `restore DIR`: the database and the stored files it references, with a manifest
that lets a restore check itself.

A backup folder holds the database (`yiwang.sqlite3`, copied by SQLite's online backup API, or `yiwang.pgdump`,
pg_dump's custom format), every stored file the database references under `files/` as the store lays them out,
`files.sha256` (one `<sha256>  files/…` line per file, what `sha256sum -c` reads) and, written last,
`manifest.json`: the engine, the database file's SHA-256, each table's row count, the audit chain's head (id and
hash) and the files' count and size. Counts, head and the list of files come from the same snapshot the database
copy is: SQLite's backup copies one read transaction; pg_dump runs on a snapshot exported by a repeatable-read
transaction that also reads them. Stored files never change or go (they are named by their content), so copying
them after the snapshot is safe. The keys folder is not included: back it up separately, and keep it secret.

A restore goes into the configured database and materials folder (stop the servers first). It refuses a database
that already holds rows unless `force`, then checks what it restored: every table's count, every file's SHA-256
read back from the store, and the audit chain verified up to the manifest's head. Run `migrate` afterwards when
the backup is older than the code."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.audit.chain import HEAD_SQL
from app.filestore import get_store
from app.settings import get_settings

FORMAT = "yiwang-backup 1"
MANIFEST = "manifest.json"
SUMS = "files.sha256"
FILES = "files"
SQLITE_FILE = "yiwang.sqlite3"
PG_FILE = "yiwang.pgdump"
# Every column that names a stored file by its SHA-256.
REFERENCED_FILES = ("SELECT sha256 FROM material UNION SELECT pdf_sha256 FROM certificate WHERE pdf_sha256 <> '' "
                    "UNION SELECT form_sha256 FROM proxy_consent WHERE form_sha256 <> ''")


class BackupError(Exception):
    """What stops a backup or a restore, said for the operator."""


# --- backup ------------------------------------------------------------------------------------------------------

def table_names() -> list[str]:
    from app.piccolo_app import TABLES

    return [t._meta.tablename for t in TABLES] + ["migration"]


@dataclass
class Snapshot:
    """What the manifest says about the database, read in the same snapshot as its copy."""

    counts: dict[str, int] = field(default_factory=dict)
    head: dict[str, Any] | None = None


def _sqlite_copy(source: Path, copy: Path, shas: Path) -> Snapshot:
    """SQLite's online backup in one step (one read transaction: consistent while the server writes, which WAL
    lets go on meanwhile); then counts, head and referenced files read from the copy."""
    src = sqlite3.connect(source)
    try:
        dest = sqlite3.connect(copy)
        try:
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()
    conn = sqlite3.connect(copy)
    try:
        snap = Snapshot(counts={t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608 - ours
                                for t in table_names()})
        head = conn.execute(HEAD_SQL).fetchone()
        snap.head = {"id": head[0], "hash": head[1].hex() if head[1] else None} if head else None
        with shas.open("w") as out:
            for (sha,) in conn.execute(REFERENCED_FILES):
                out.write(sha + "\n")
    finally:
        conn.close()
    return snap


def _pg_env(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (which would show in the process list) and the environment carrying it."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
        host = parts.hostname or ""
        netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts), env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install PostgreSQL's client programs "
                          "(Debian: apt-get install postgresql-client), the same major version as the server or newer")
    return path


async def _pg_copy(url: str, dump: Path, shas: Path) -> Snapshot:
    """pg_dump on a snapshot a repeatable-read transaction exports and reads counts, head and files in."""
    import asyncpg

    dsn, env = _pg_env(url)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            process = await asyncio.create_subprocess_exec(
                _pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={dump}",
                f"--dbname={dsn}", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            snap = Snapshot(counts={t: await conn.fetchval(f'SELECT count(*) FROM "{t}"')  # noqa: S608 - ours
                                    for t in table_names()})
            head = await conn.fetchrow(HEAD_SQL)
            snap.head = {"id": head["id"], "hash": head["row_hash"].hex() if head["row_hash"] else None} \
                if head else None
            with shas.open("w") as out:
                async for record in conn.cursor(REFERENCED_FILES):
                    out.write(record[0] + "\n")
            _, err = await process.communicate()  # the snapshot must stay open until pg_dump has taken it
            if process.returncode != 0:
                raise BackupError(f"pg_dump failed: {err.decode(errors='replace').strip()}")
    finally:
        await conn.close()
    return snap


def _relative(sha: str) -> str:
    return f"{FILES}/{sha[:2]}/{sha[2:4]}/{sha}"


def _copy_files(target: Path, shas: Path) -> tuple[int, int, list[str]]:
    """Each referenced file from the store into the backup, checked against its name; count, bytes, and the
    files the store lacked or held damaged (left out, and named in the manifest)."""
    count = size = 0
    missing = []
    with shas.open() as names, (target / SUMS).open("w") as sums:
        for line in names:
            sha = line.strip()
            try:
                data = get_store().get(sha)
            except (FileNotFoundError, ValueError):
                missing.append(sha)
                continue
            if hashlib.sha256(data).hexdigest() != sha:
                missing.append(sha)
                continue
            path = target / _relative(sha)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            sums.write(f"{sha}  {_relative(sha)}\n")
            count, size = count + 1, size + len(data)
    return count, size, missing


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        while chunk := fp.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def backup(target: Path) -> dict[str, Any]:
    """Write a backup into `target` (a new or empty folder, made readable by its owner alone: it holds everyone's
    data); its manifest. A backup that fails leaves no folder it made."""
    settings = get_settings()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: a backup goes into a new folder")
    if not settings.is_sqlite:
        _pg_tool("pg_dump")
    made = not target.exists()
    umask = os.umask(0o077)
    try:
        target.mkdir(parents=True, exist_ok=True)
        return _backup_into(target)
    except BaseException:
        if made:
            shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        os.umask(umask)


def _backup_into(target: Path) -> dict[str, Any]:
    settings = get_settings()
    shas = target / ".referenced"
    started = datetime.now(UTC)
    if settings.is_sqlite:
        if not settings.sqlite_path.is_file():
            raise BackupError(f"no database at {settings.sqlite_path}")
        database = target / SQLITE_FILE
        snap = _sqlite_copy(settings.sqlite_path, database, shas)
    else:
        database = target / PG_FILE
        snap = asyncio.run(_pg_copy(settings.database_url, database, shas))
    count, size, missing = _copy_files(target, shas)
    shas.unlink()
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(timespec="seconds"),
        "engine": "sqlite" if settings.is_sqlite else "postgresql",
        "database": {"file": database.name, "sha256": _sha256_file(database), "bytes": database.stat().st_size},
        "tables": snap.counts,
        "audit_head": snap.head,
        "files": {"count": count, "bytes": size, "list": SUMS},
        "missing_files": missing,  # referenced, but absent or damaged in the store when the backup was taken
    }
    tmp = target / f".{MANIFEST}"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    os.replace(tmp, target / MANIFEST)  # last: a folder with a manifest holds a whole backup
    return manifest


# --- restore -----------------------------------------------------------------------------------------------------

def _sqlite_has_rows(path: Path) -> bool:
    if not path.is_file():
        return False
    conn = sqlite3.connect(path)
    try:
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return any(conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()  # noqa: S608 - ours
                   for t in table_names() if t in present and t != "migration")
    finally:
        conn.close()


async def _pg_has_rows(url: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        present = {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        for t in table_names():
            if t in present and t != "migration" and await conn.fetchval(f'SELECT 1 FROM "{t}" LIMIT 1'):  # noqa: S608
                return True
        return False
    finally:
        await conn.close()


def _sqlite_restore(copy: Path, path: Path) -> None:
    """The backup's pages into the database file through SQLite's backup API (whatever the file held is replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(copy)
    try:
        dest = sqlite3.connect(path)
        try:
            src.backup(dest)
            dest.execute("PRAGMA journal_mode=WAL")
        finally:
            dest.close()
    finally:
        src.close()


def _pg_restore(dump: Path, url: str) -> None:
    dsn, env = _pg_env(url)
    done = subprocess.run(  # noqa: S603 - our own arguments
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", f"--dbname={dsn}", str(dump)], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _restore_files(source: Path) -> tuple[int, list[str]]:
    """Each file of the backup into the store, checked against its name; how many, and the damaged ones."""
    count, damaged = 0, []
    with (source / SUMS).open() as sums:
        for line in sums:
            sha, relative = line.rstrip("\n").split("  ", 1)
            try:
                data = (source / relative).read_bytes()
            except FileNotFoundError:
                damaged.append(f"{relative}: missing from the backup")
                continue
            if hashlib.sha256(data).hexdigest() != sha:
                damaged.append(f"{relative}: its content does not match its SHA-256 in the backup")
                continue
            get_store().put(sha, data)
            count += 1
    return count, damaged


def _check_stored(source: Path) -> list[str]:
    """Every file the backup lists, read back from the store and hashed."""
    problems = []
    with (source / SUMS).open() as sums:
        for line in sums:
            sha = line.split("  ", 1)[0]
            try:
                ok = hashlib.sha256(get_store().get(sha)).hexdigest() == sha
            except FileNotFoundError:
                ok = False
            if not ok:
                problems.append(f"stored file {sha}: missing or not matching its SHA-256 after the restore")
    return problems


@dataclass
class Restored:
    tables: int
    rows: int
    files: int
    audit_rows: int
    problems: list[str]


def restore(source: Path, *, force: bool = False) -> Restored:
    """Restore the backup in `source` into the configured database and store, then check it against the manifest."""
    settings = get_settings()
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} holds no {MANIFEST}: not a backup, or one that did not finish") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: unknown backup format {manifest.get('format')!r}")
    engine = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest["engine"] != engine:
        raise BackupError(f"the backup is of a {manifest['engine']} database; DATABASE_URL names a {engine} one")
    database = source / manifest["database"]["file"]
    if not database.is_file() or _sha256_file(database) != manifest["database"]["sha256"]:
        raise BackupError(f"{database} is missing or does not match the manifest's SHA-256: the backup is damaged")
    occupied = (_sqlite_has_rows(settings.sqlite_path) if settings.is_sqlite
                else asyncio.run(_pg_has_rows(settings.database_url)))
    if occupied and not force:
        raise BackupError("the database already holds data; restore --force replaces it")

    if settings.is_sqlite:
        _sqlite_restore(database, settings.sqlite_path)
    else:
        _pg_restore(database, settings.database_url)
    files, problems = _restore_files(source)
    rows, audit_rows, found = asyncio.run(_check_database(manifest))
    return Restored(tables=len(manifest["tables"]), rows=rows, files=files, audit_rows=audit_rows,
                    problems=problems + found + _check_stored(source))


async def _check_database(manifest: dict[str, Any]) -> tuple[int, int, list[str]]:
    """Each table's count against the manifest, and the audit chain verified up to the manifest's head: rows,
    audit rows verified, problems."""
    from app.audit import chain
    from app.audit.tables import AuditEvent
    from app.db import close_pool

    problems, rows = [], 0
    try:
        for table, expected in manifest["tables"].items():
            found = (await AuditEvent.raw(f'SELECT count(*) AS n FROM "{table}"'))[0]["n"]  # noqa: S608 - ours
            rows += found
            if found != expected:
                problems.append(f"table {table}: {found} rows, the backup holds {expected}")
        verdict = await chain.verify()
    finally:
        await close_pool()
    if not verdict.ok:
        problems.append(f"audit chain broken at row id {verdict.broken_id}: {verdict.problem}")
    reached = {"id": verdict.head_id, "hash": verdict.head_hash.hex()} if verdict.head_hash else None
    if verdict.ok and reached != manifest["audit_head"]:
        problems.append(f"audit chain ends at {reached}, the backup's at {manifest['audit_head']}")
    return rows, verdict.rows, problems
