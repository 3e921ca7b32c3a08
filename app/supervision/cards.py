"""Electronic supervision's deadline cards (电子监察): yellow when a running case has one working day left, red once
it is overdue. The scheduled job sweeps the open cases near or past their due date; every transition updates its
own case's card in the same transaction."""

# ruff: noqa: S608 - the SQL text is built from our own column names and constants; every value is bound

from __future__ import annotations

from datetime import date
from typing import Any

from app.db import read_one, write_tx
from app.filings.workflow import FINAL_STATES, OPEN_STATES, OPEN_STATES_SQL, clock_view
from app.supervision.tables import CaseCard
from app.workdays.calendar import WorkCalendar, load_calendar

# Cases a sweep's transaction handles: requests' writes (logins, submissions) take the write lock between batches
# instead of waiting for the whole sweep (12 s for 100,000 overdue cases at once, as a first run can meet).
BATCH = 1000
_CLOCK_COLUMNS = ("id", "department", "state", "limit_days", "clock_started_on", "paused_since", "paused_days",
                  "due_on", "days_used")


def color_for(case: dict[str, Any], cal: WorkCalendar, today: date) -> str | None:
    """The card a case deserves today by the clock its applicant sees: yellow with at most one working day left
    (once its clock has run a day), red when overdue; None while it has time or its clock is stopped."""
    if case["state"] not in OPEN_STATES or case["paused_since"] is not None or case["clock_started_on"] is None:
        return None
    clock = clock_view(case, cal, today)
    if clock.left < 0:
        return "red"
    # A same-day item (one working day promised) is not running out of time on the day it is filed.
    return "yellow" if clock.left <= 1 and clock.used >= 1 else None


async def _show(case: dict[str, Any], color: str | None, card: dict[str, Any] | None, officer: int | None,
                today: date) -> int:
    """Bring one case's card to `color`: issue, turn red, or close a yellow card the case no longer deserves
    (its clock was stopped or extended). A red card stays until the case ends. Returns 1 if anything changed."""
    if color is None:
        if card is not None and card["color"] == "yellow" and case["paused_since"] is None:
            await CaseCard.raw("UPDATE case_card SET closed_on = {} WHERE id = {}", today, card["id"])
            return 1
        return 0
    if card is None:
        await CaseCard.raw('INSERT INTO case_card ("case", department, officer, color, issued_on, red_on, closed_on) '
                           "VALUES ({}, {}, {}, {}, {}, {}, NULL)", case["id"], case["department"], officer, color,
                           today, today if color == "red" else None)
        return 1
    if color == "red" and card["color"] == "yellow":
        await CaseCard.raw("UPDATE case_card SET color = 'red', red_on = {}, officer = COALESCE({}, officer) "
                           "WHERE id = {}", today, officer, card["id"])
        return 1
    return 0


async def on_case_transition(case: dict[str, Any], target: str, officer: int | None, today: date) -> None:
    """The case's own card after one of its transitions (inside its transaction). `case` holds the new values;
    `officer` is the acting officer (None for the applicant), who from now on holds the case's card."""
    card = await read_one('SELECT id, color FROM case_card WHERE "case" = {} AND closed_on IS NULL', case["id"])
    if card is not None and target in FINAL_STATES:
        await CaseCard.raw("UPDATE case_card SET closed_on = {}, officer = COALESCE({}, officer) WHERE id = {}",
                           today, officer, card["id"])
    elif target not in FINAL_STATES:
        if card is not None and officer is not None:
            await CaseCard.raw("UPDATE case_card SET officer = {} WHERE id = {}", officer, card["id"])
        await _show(case, color_for(case, await load_calendar(), today), card, officer, today)


async def refresh_cards(today: date) -> int:
    """The job: every open case due by the next working day gets its card, overdue ones turn red, and cards of
    cases that have ended or gained time are closed. Reads only open cases near their due date (partial index)
    and the active cards, then writes a batch of cases a transaction; returns how many cards changed."""
    cal = await load_calendar()
    horizon = cal.add_working_days(today, 1)
    columns = ", ".join(f"c.{c}" for c in _CLOCK_COLUMNS)
    near = await CaseCard.raw(
        f"SELECT {columns}, (SELECT s.actor FROM case_step s WHERE s.\"case\" = c.id AND s.department IS NOT NULL "
        "ORDER BY s.id DESC LIMIT 1) AS officer FROM filing_case c "
        f"WHERE c.state IN ({OPEN_STATES_SQL}) AND c.due_on <= {{}}", horizon)
    active = {r["id"]: r for r in await CaseCard.raw(
        f"SELECT k.id AS card_id, k.color AS card_color, {columns}, c.decided_on FROM case_card k "
        "JOIN filing_case c ON c.id = k.\"case\" WHERE k.closed_on IS NULL")}
    changed = 0
    for start in range(0, len(near), BATCH):
        async with write_tx(bulk=True):
            for case in near[start:start + BATCH]:
                held = active.pop(case["id"], None)
                card = None if held is None else {"id": held["card_id"], "color": held["card_color"]}
                changed += await _show(case, color_for(case, cal, today), card, case["officer"], today)
    rest = list(active.values())  # active cards whose case is no longer near its due date
    for start in range(0, len(rest), BATCH):
        async with write_tx(bulk=True):
            for card in rest[start:start + BATCH]:
                if card["state"] in FINAL_STATES:
                    await CaseCard.raw("UPDATE case_card SET closed_on = {} WHERE id = {}",
                                       card["decided_on"] or today, card["card_id"])
                    changed += 1
                else:
                    changed += await _show(card, color_for(card, cal, today),
                                           {"id": card["card_id"], "color": card["card_color"]}, None, today)
    return changed
