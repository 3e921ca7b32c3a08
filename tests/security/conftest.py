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
async def app_client() -> AsyncIterator[Any]:
    """A test client for the whole module, on a database emptied for it."""
    from litestar.testing import AsyncTestClient

    from app.cache import forget_all
    from app.main import create_app

    await empty_database()
    forget_all()
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture(scope="module")
async def world(app_client: Any) -> World:
    return await build(app_client)
