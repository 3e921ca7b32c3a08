"""Where the scheduled jobs run: in the server on SQLite, from the queue's workers on PostgreSQL."""

from __future__ import annotations

import pytest

from app import jobs
from app.settings import get_settings

pytestmark = pytest.mark.anyio


async def test_the_server_runs_the_jobs_itself_only_without_the_queue(settings_env) -> None:
    settings_env(DATABASE_URL="postgresql://yiwang:yiwang@127.0.0.1:5432/yiwang", YIWANG_JOBS_INTERVAL_MINUTES="60")
    assert get_settings().jobs_on_queue
    await jobs.start()
    assert jobs._task is None  # the queue's workers run them

    settings_env(YIWANG_JOBS_QUEUE="false")
    assert not get_settings().jobs_on_queue
    settings_env(DATABASE_URL="sqlite:///unused.sqlite3", YIWANG_JOBS_QUEUE="true")
    assert not get_settings().jobs_on_queue  # SQLite has no queue: the server runs them
