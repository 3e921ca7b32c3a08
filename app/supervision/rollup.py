"""The monthly roll-ups (CaseRollup): bumped in the transaction of each change they count, rebuilt from the data.

What each count means, so that every rate on /supervision and /stats is read the same way:
- submitted: cases whose clock started (submission) in the month; online and zero_visit: those of them whose item
  is handled wholly online (全程网办) and needs no visit (零跑动);
- decided: cases that ended with a decision in the month (approved, denied, not accepted), on_time: within their
  promised working days, days_sum: the working days they used;
- ratings, satisfied (基本满意 or better), bad_ratings (不满意 or worse) by the month of the rating;
- rectifications opened in the month, rectified: closed in the month by the citizen's acceptance or a ruling.
"""

# ruff: noqa: S608 - the SQL text is built from our own column names and constants; every value is bound

from __future__ import annotations

from datetime import date
from typing import Any

from app.db import engine
from app.supervision.tables import CaseRollup

COUNTS = ("submitted", "online", "zero_visit", "decided", "on_time", "days_sum", "ratings", "satisfied",
          "bad_ratings", "rectifications", "rectified")
DECIDED_STATES = ("approved", "denied", "rejected")
SATISFIED_LEVEL = 3  # 基本满意 and better count as satisfied; 不满意 (2) and 非常不满意 (1) are bad ratings

_UPSERT = (
    "INSERT INTO case_rollup (department, item, month, " + ", ".join(COUNTS) + ") VALUES ({}, {}, {}, "
    + ", ".join("{}" for _ in COUNTS) + ") ON CONFLICT (department, item, month) DO UPDATE SET "
    + ", ".join(f"{c} = case_rollup.{c} + excluded.{c}" for c in COUNTS)
)


def month_of(day: date) -> date:
    return day.replace(day=1)


async def bump(department: int, item: int, day: date, **counts: int) -> None:
    """Add to the counts of (department, item, the month of `day`); call it inside the change's write_tx()."""
    unknown = set(counts) - set(COUNTS)
    if unknown:
        raise ValueError(f"unknown roll-up counts: {sorted(unknown)}")
    await CaseRollup.raw(_UPSERT, department, item, month_of(day), *(int(counts.get(c, 0)) for c in COUNTS))


async def on_case_transition(case: dict[str, Any], target: str, today: date, days_used: int) -> None:
    """The counts a case's transition changes: its submission, and its decision."""
    if target == "submitted" and case["state"] in ("draft", "waiting"):
        rows = await CaseRollup.raw("SELECT online_level, visits FROM service_item WHERE id = {}", case["item"])
        item = rows[0]
        await bump(case["department"], case["item"], today, submitted=1,
                   online=int(item["online_level"] == "全程网办"), zero_visit=int(item["visits"] == 0))
    elif target in DECIDED_STATES:
        await bump(case["department"], case["item"], today, decided=1,
                   on_time=int(days_used <= case["limit_days"]), days_sum=days_used)


def _month_sql(column: str) -> str:
    from piccolo.engine.sqlite import SQLiteEngine

    if isinstance(engine(), SQLiteEngine):
        return f"date({column}, 'start of month')"
    return f"CAST(date_trunc('month', {column}) AS date)"


def _local_day_sql(column: str) -> str:
    """A timestamp's local (Asia/Shanghai, UTC+8 without daylight saving) calendar day."""
    from piccolo.engine.sqlite import SQLiteEngine

    if isinstance(engine(), SQLiteEngine):
        return f"date({column}, '+8 hours')"
    return f"CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS date)"


async def rebuild() -> int:
    """Throw the roll-ups away and count everything again from cases, ratings and rectifications (one
    transaction). For after bulk loads and data repairs; returns the number of roll-up rows."""
    from app.db import write_tx

    decided = ", ".join(f"'{s}'" for s in DECIDED_STATES)
    rating_day = _local_day_sql("r.created_at")
    closed_day = _local_day_sql("x.closed_at")
    parts = [
        # submissions
        f"SELECT c.department, c.item, {_month_sql('c.clock_started_on')} AS month, COUNT(*) AS submitted, "
        "SUM(CASE WHEN i.online_level = '全程网办' THEN 1 ELSE 0 END) AS online, "
        "SUM(CASE WHEN i.visits = 0 THEN 1 ELSE 0 END) AS zero_visit, 0 AS decided, 0 AS on_time, 0 AS days_sum, "
        "0 AS ratings, 0 AS satisfied, 0 AS bad_ratings, 0 AS rectifications, 0 AS rectified "
        "FROM filing_case c JOIN service_item i ON i.id = c.item WHERE c.clock_started_on IS NOT NULL "
        "GROUP BY c.department, c.item, 3",
        # decisions
        f"SELECT c.department, c.item, {_month_sql('c.decided_on')}, 0, 0, 0, COUNT(*), "
        "SUM(CASE WHEN c.days_used <= c.limit_days THEN 1 ELSE 0 END), SUM(c.days_used), 0, 0, 0, 0, 0 "
        f"FROM filing_case c WHERE c.state IN ({decided}) AND c.decided_on IS NOT NULL "
        "GROUP BY c.department, c.item, 3",
        # ratings
        f"SELECT r.department, r.item, {_month_sql(rating_day)}, 0, 0, 0, 0, 0, 0, COUNT(*), "
        f"SUM(CASE WHEN r.level >= {SATISFIED_LEVEL} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN r.level < {SATISFIED_LEVEL} THEN 1 ELSE 0 END), 0, 0 "
        "FROM rating r GROUP BY r.department, r.item, 3",
        # rectifications opened
        f"SELECT x.department, r.item, {_month_sql(_local_day_sql('x.created_at'))}, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
        "COUNT(*), 0 FROM rectification x JOIN rating r ON r.id = x.rating GROUP BY x.department, r.item, 3",
        # rectifications closed
        f"SELECT x.department, r.item, {_month_sql(closed_day)}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, COUNT(*) "
        "FROM rectification x JOIN rating r ON r.id = x.rating WHERE x.closed_at IS NOT NULL "
        "GROUP BY x.department, r.item, 3",
    ]
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    sql = (f"INSERT INTO case_rollup (department, item, month, {', '.join(COUNTS)}) "
           f"SELECT department, item, month, {sums} FROM ({' UNION ALL '.join(parts)}) AS u "
           "GROUP BY department, item, month")
    async with write_tx(bulk=True):
        await CaseRollup.raw("DELETE FROM case_rollup")
        await CaseRollup.raw(sql)
        rows = await CaseRollup.raw("SELECT COUNT(*) AS n FROM case_rollup")
    return int(rows[0]["n"])
