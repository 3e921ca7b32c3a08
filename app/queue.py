"""The scheduled jobs on a real queue in PostgreSQL (procrastinate), for a deployment of several servers.

Every queue worker (`python -m app jobs worker`) defers each job of app.jobs at each time of YIWANG_JOBS_CRON and
runs what is queued. However many workers run, each job is queued once per period: the queue's table of periodic
defers is unique per job and time, so one worker's insert wins and the others' do nothing. The servers themselves
then run no jobs (app.jobs.start). Its tables are made by `python -m app migrate` on PostgreSQL.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import procrastinate

from app.jobs import scheduled
from app.settings import get_settings
from app.workdays.calendar import local_date

log = logging.getLogger("yiwang.jobs")
QUEUE = "scheduled"


def _connector() -> procrastinate.PsycopgConnector:
    # A small pool of the queue's own (psycopg): the jobs' queries go through the app's engine as everywhere else.
    return procrastinate.PsycopgConnector(conninfo=get_settings().database_url, min_size=1, max_size=3)


def _periodic(app: procrastinate.App, name: str, job: Callable[[date], Awaitable[int]], cron: str) -> None:
    async def run(timestamp: int) -> int:
        # The day of the period it was queued for (in China), not of the moment a worker gets to it.
        day = local_date(datetime.fromtimestamp(timestamp, UTC))
        done = await job(day)
        log.info("job %s for %d (%s): %d done", name, timestamp, day.isoformat(), done)
        return done

    run.__name__ = run.__qualname__ = name.replace(".", "_")
    app.periodic(cron=cron, periodic_id=name)(app.task(name=name, queue=QUEUE)(run))


def build() -> procrastinate.App:
    """The queue with every scheduled job registered at YIWANG_JOBS_CRON."""
    settings = get_settings()
    if settings.is_sqlite:
        raise SystemExit("jobs worker: the queue lives in PostgreSQL; on SQLite the server runs the jobs itself")
    app = procrastinate.App(connector=_connector())
    for name, job in scheduled().items():
        _periodic(app, name, job, settings.jobs_cron)
    return app


async def _has_tables(app: procrastinate.App) -> bool:
    row: dict[str, Any] = await app.connector.execute_query_one_async(
        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present")
    return bool(row["present"])


async def create_tables() -> bool:
    """Make the queue's tables once (for `migrate` on PostgreSQL); True if they were made now."""
    app = procrastinate.App(connector=_connector())
    async with app.open_async():
        if await _has_tables(app):
            return False
        await app.schema_manager.apply_schema_async()
    return True


async def work(concurrency: int) -> None:
    """Run a queue worker until SIGINT or SIGTERM: defer the periodic jobs, run queued ones, keep nothing done."""
    app = build()
    async with app.open_async():
        await app.run_worker_async(queues=[QUEUE], concurrency=concurrency, delete_jobs="successful",
                                   name=f"yiwang-{os.getpid()}")
