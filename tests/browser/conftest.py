"""A real server process on the test database, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from app.settings import ROOT
from tests.servers import app_server

CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / os.environ.get("YIWANG_TEST_ENGINE", "sqlite")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-quic",
]


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """One server for the browser tests of a run; its log lands with the screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "server.log"
    log.write_text("")
    with app_server(log) as (url, _proc):
        yield url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium")
    return CHROMIUM


@asynccontextmanager
async def launched(chromium_path: str) -> AsyncIterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    async with launched(chromium_path) as instance:
        yield instance


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
