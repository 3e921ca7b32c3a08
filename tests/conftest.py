"""Test setup: a real database (SQLite file or PostgreSQL, by YIWANG_TEST_ENGINE), migrated once, emptied per test."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest

ENGINE = os.environ.get("YIWANG_TEST_ENGINE", "sqlite")
_TMP = tempfile.mkdtemp(prefix="yiwang-test-")
os.environ["YIWANG_VAR_DIR"] = _TMP
os.environ["YIWANG_SECRET"] = "test-secret-not-for-production-0123456789"
os.environ.pop("YIWANG_SECURE_COOKIES", None)
# The test client runs the app on its own event loop; a pool made there could not serve the tests' loop.
os.environ["YIWANG_DB_POOL_SIZE"] = "0"
os.environ["YIWANG_JOBS_INTERVAL_MINUTES"] = "0"  # tests run jobs themselves


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(os.environ["YIWANG_TEST_PG_URL"])
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


if ENGINE == "postgres":
    os.environ.setdefault("YIWANG_TEST_PG_URL", "postgresql://yiwang:yiwang@127.0.0.1:5432/postgres")
    _DB_NAME = f"yiwang_test_{os.getpid()}"
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {_DB_NAME}"))
    asyncio.run(_pg_admin(f"CREATE DATABASE {_DB_NAME}"))
    os.environ["DATABASE_URL"] = os.environ["YIWANG_TEST_PG_URL"].rsplit("/", 1)[0] + f"/{_DB_NAME}"
    atexit.register(lambda: asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {_DB_NAME} WITH (FORCE)")))
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
    table_names = [t._meta.tablename for t in TABLES]
    if get_settings().is_sqlite:
        for name in reversed(table_names):
            await TABLES[0].raw(f'DELETE FROM "{name}"')  # noqa: S608 - our own table names
    else:
        quoted = ", ".join(f'"{n}"' for n in table_names)
        await TABLES[0].raw(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")


@pytest.fixture
async def db() -> AsyncIterator[None]:
    """An empty database for the test (the schema stays), and no cached copy of what it held."""
    from app.cache import forget_all

    await empty_database()
    forget_all()
    yield


@pytest.fixture
async def client(db: None) -> AsyncIterator[Any]:
    from litestar.testing import AsyncTestClient

    from app.main import create_app

    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as test_client:
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
