"""The server's access log: a line per request in uvicorn's shape, written in batches, never split by a request."""

from __future__ import annotations

import asyncio
import io
import re

import httpx
import pytest

from app.main import create_app
from app.web.access_log import FLUSH_SECONDS, AccessLog

pytestmark = pytest.mark.anyio

LINE = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d pid=\d+ INFO uvicorn\.access: 127\.0\.0\.1:50000 - '
                  r'"(\w+) (\S+) HTTP/1\.1" (\d{3}) \d+\.\dms$')


async def lifespan(app: AccessLog, event: str, inbox: asyncio.Queue, outbox: asyncio.Queue) -> None:
    """Send one lifespan event through the app, as uvicorn does, and wait for its answer."""
    await inbox.put({"type": f"lifespan.{event}"})
    assert (await outbox.get())["type"] == f"lifespan.{event}.complete"


async def test_each_request_is_a_line_written_within_a_second_and_at_shutdown(db) -> None:
    out = io.StringIO()
    logged = AccessLog(create_app(), stream=out)
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    running = asyncio.create_task(logged({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                         inbox.get, outbox.put))
    await lifespan(logged, "startup", inbox, outbox)
    transport = httpx.ASGITransport(app=logged, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/no-such-page", params={"q": "户口"})).status_code == 404
        assert out.getvalue() == ""  # kept for the next write, not one write per request
        await asyncio.sleep(FLUSH_SECONDS + 0.2)
        lines = out.getvalue().splitlines()
        assert [LINE.match(line).groups() for line in lines] == [  # type: ignore[union-attr]
            ("GET", "/healthz", "200"), ("GET", "/no-such-page?q=%E6%88%B7%E5%8F%A3", "404")]
        # A line break sent percent-encoded stays encoded: a request cannot forge a line of its own.
        assert (await client.get("/x%0D%0A2026-01-01 00:00:00 pid=1 INFO forged")).status_code == 404
    await lifespan(logged, "shutdown", inbox, outbox)
    await running
    lines = out.getvalue().splitlines()  # the shutdown wrote what was left
    assert len(lines) == 3 and LINE.match(lines[2]) and "%0D%0A" in lines[2]
