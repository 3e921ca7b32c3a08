"""The SQLite engine's pool: a few connections, reused; a caller beyond them waits for one instead of opening more."""

from __future__ import annotations

import asyncio

import pytest

from app.db import SQLITE_CONNECTIONS, PooledSQLiteEngine, engine
from app.registry.tables import Person

pytestmark = pytest.mark.anyio


async def test_callers_beyond_the_pool_wait_and_reuse_its_connections(db) -> None:
    pool = engine()
    if not isinstance(pool, PooledSQLiteEngine):
        pytest.skip("the SQLite engine's pool")
    held = [await pool.get_connection() for _ in range(SQLITE_CONNECTIONS)]
    waiting = asyncio.create_task(Person.count().run())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # every connection is taken: the statement waits
    await pool.release(held.pop())
    assert await asyncio.wait_for(waiting, 5) == 0
    for connection in held:
        await pool.release(connection)

    counts = await asyncio.gather(*(Person.count() for _ in range(50)))
    assert counts == [0] * 50
    assert len(pool._idle) <= SQLITE_CONNECTIONS
