"""The security suite's setup: one world per test module (built through the real app), and Hypothesis bounded so
the suite stays fast on both engines."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.conftest import empty_database
from tests.security.world import World, build

settings.register_profile(
    "yiwang",
    max_examples=int(os.environ.get("YIWANG_FUZZ_EXAMPLES", "12")),
    deadline=None,  # a request's time depends on the engine and the machine's load, not on the input
    database=None,  # nothing written into the checkout; a failure prints the example (and its reproduction blob)
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("yiwang")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def module_client() -> AsyncIterator[Any]:
    """An HTTP client for the whole module, on a database emptied for it. The app runs on the tests' own event loop
    (Litestar's test client would run it on a loop of its own), so it keeps a small PostgreSQL pool, as a worker
    does, instead of a new connection for every query: the suite makes thousands of requests."""
    import httpx

    from app.cache import forget_all
    from app.main import create_app
    from app.settings import get_settings

    await empty_database()
    forget_all()
    os.environ["YIWANG_DB_POOL_SIZE"] = "4"
    get_settings.cache_clear()
    app = create_app()
    try:
        async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                      base_url="http://testserver.local") as client:
            yield client
    finally:
        os.environ["YIWANG_DB_POOL_SIZE"] = "0"
        get_settings.cache_clear()


@pytest.fixture(scope="module")
async def world(module_client: Any) -> World:
    return await build(module_client)
