"""Scheduled jobs: on the embedded SQLite default they run in each server process (every
YIWANG_JOBS_INTERVAL_MINUTES); on PostgreSQL from the queue's worker (app/queue.py, `python -m app jobs worker`); or
once by an operator's scheduler with `python -m app jobs run`. Every job is idempotent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import date

from app.settings import get_settings

log = logging.getLogger("yiwang.jobs")


def scheduled() -> dict[str, Callable[[date], Awaitable[int]]]:
    """Each job by name; a job takes the day it runs for and returns how many things it did."""
    from app.certificates.services import notify_expired
    from app.lifelong.reminders import run_reminders
    from app.supervision.cards import refresh_cards

    return {"certificates.expired": notify_expired, "lifelong.reminders": run_reminders,
            "supervision.cards": refresh_cards}


async def run_all(today: date | None = None) -> dict[str, int]:
    """Run every job once; returns how many things each one did. One failing job does not stop the others."""
    from app.filings.workflow import local_today

    today = today or local_today()
    done = {}
    for name, job in scheduled().items():
        try:
            done[name] = await job(today)
        except Exception:
            log.exception("job %s failed", name)
            done[name] = -1
    return done


_task: asyncio.Task[None] | None = None


async def _loop(interval: float) -> None:
    while True:
        done = await run_all()
        if any(done.values()):
            log.info("jobs: %s", done)
        await asyncio.sleep(interval)


async def start() -> None:
    """In the server: the in-process loop, unless the jobs run from the queue (PostgreSQL) or are turned off."""
    global _task
    settings = get_settings()
    if settings.jobs_interval_minutes > 0 and not settings.jobs_on_queue and _task is None:
        _task = asyncio.create_task(_loop(settings.jobs_interval_minutes * 60))


async def stop() -> None:
    global _task
    task, _task = _task, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
