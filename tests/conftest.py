"""Test setup: a real database (SQLite file or PostgreSQL, by YIWANG_TEST_ENGINE), migrated once, emptied per test."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

ENGINE = os.environ.get("YIWANG_TEST_ENGINE", "sqlite")
_TMP = tempfile.mkdtemp(prefix="yiwang-test-")
os.environ["YIWANG_VAR_DIR"] = _TMP
os.environ["YIWANG_SECRET"] = "test-secret-not-for-production-0123456789"
os.environ.pop("YIWANG_SECURE_COOKIES", None)
# The `db` fixture keeps the pool (in the test's event loop); the app's own startup must not start another.
os.environ["YIWANG_DB_POOL_SIZE"] = "0"


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a `python -m app` process a test starts (a server, a CLI command): the tests' own, with a
    PostgreSQL pool of its own as in production, since the in-process setting above is for the test's loop."""
    return {**os.environ, "YIWANG_DB_POOL_SIZE": "4", **extra}
os.environ["YIWANG_JOBS_INTERVAL_MINUTES"] = "0"  # tests run jobs themselves


async def pg_admin(sql: str) -> None:
    """One statement on the PostgreSQL server's admin connection (databases made and dropped)."""
    import asyncpg

    conn = await asyncpg.connect(os.environ["YIWANG_TEST_PG_URL"])
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


if ENGINE == "postgres":
    os.environ.setdefault("YIWANG_TEST_PG_URL", "postgresql://yiwang:yiwang@127.0.0.1:5432/postgres")
    _DB_NAME = f"yiwang_test_{os.getpid()}"
    asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {_DB_NAME}"))
    asyncio.run(pg_admin(f"CREATE DATABASE {_DB_NAME}"))
    os.environ["DATABASE_URL"] = os.environ["YIWANG_TEST_PG_URL"].rsplit("/", 1)[0] + f"/{_DB_NAME}"
    atexit.register(lambda: asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {_DB_NAME} WITH (FORCE)")))
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_TMP}/test.sqlite3"
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

from app.__main__ import migrate  # noqa: E402 - the environment above must be set before the app is imported
from app.certificates.keys import init_ca  # noqa: E402
from app.piccolo_app import TABLES  # noqa: E402
from app.settings import get_settings  # noqa: E402

asyncio.run(migrate())
init_ca()  # the local root CA that signs the departments' certificate keys, as `keys init` makes it


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def empty_database() -> None:
    from app.db import engine

    table_names = [t._meta.tablename for t in TABLES]
    if get_settings().is_sqlite:
        for name in reversed(table_names):
            await TABLES[0].raw(f'DELETE FROM "{name}"')  # noqa: S608 - our own table names
    else:
        # TRUNCATE only the tables that hold rows (a test touches a handful), and every id sequence back to 1, in two
        # round trips. TRUNCATE makes new files for each table it names and waits for the disk: naming all of them
        # took 0.6-1 s a test here. DELETE is no way out: each deleted parent row would scan its children's dead rows.
        probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")"  # noqa: S608 - own names
                                   for name in table_names)
        restarts = "".join(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), 1, false); "
                           for name in table_names)
        db = engine()
        connection = await (db.pool.acquire() if db.pool else db.get_new_connection())
        try:  # several statements in one go: asyncpg's simple query protocol
            filled = ", ".join(f'"{row[0]}"' for row in await connection.fetch(probe))
            await connection.execute((f"TRUNCATE {filled} CASCADE; " if filled else "") + restarts)
        finally:
            await (db.pool.release(connection) if db.pool else connection.close())


@pytest.fixture
async def db() -> AsyncIterator[None]:
    """An empty database for the test (the schema stays), and no cached copy of what it held. On PostgreSQL a
    connection pool in the test's event loop serves the test and the app alike: a new connection per statement
    (password exchange, a server process) cost more than most tests' own work."""
    from app.cache import forget_all
    from app.db import engine

    pool = ENGINE == "postgres"
    if pool:
        await engine().start_connection_pool(min_size=1, max_size=4)
    try:
        await empty_database()
        forget_all()
        yield
    finally:
        if pool:
            await engine().close_connection_pool()


@asynccontextmanager
async def app_client() -> AsyncIterator[Any]:
    """The app in the test's own event loop (its startup and shutdown hooks run as a server's would), reached
    over an ASGI transport: the tests and the app then share the test's database pool."""
    import httpx

    from app.main import create_app

    app = create_app()
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                                 headers={"user-agent": "testclient"},
                                                 follow_redirects=True) as test_client:
        yield test_client


@pytest.fixture
async def client(db: None) -> AsyncIterator[Any]:
    async with app_client() as test_client:
        yield test_client


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Change settings through the environment for one test, as an operator would."""

    def apply(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()
