"""Deadline cards and roll-ups follow the real clocks: the job issues yellow and red cards, every transition
updates its case's card, and the roll-ups kept on transitions equal the ones counted again from the data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.filings.tables import Case
from app.jobs import run_all
from app.supervision import cards
from app.supervision.rollup import COUNTS, rebuild
from app.supervision.tables import CaseCard, CaseRollup
from app.workdays.calendar import load_calendar, local_today
from tests import factories
from tests.filing_fixture import hall
from tests.integration.filings.test_filing import filed_case, officer_act

pytestmark = pytest.mark.anyio


async def started_days_ago(case: Case, working_days: int) -> Case:
    """Move the case's clock back: it started `working_days` working days before today (same promised limit)."""
    cal = await load_calendar()
    today = local_today()
    start = today
    while cal.working_days_between(start, today) < working_days:
        start -= timedelta(days=1)
    await Case.update({Case.clock_started_on: start, Case.due_on: cal.add_working_days(start, case.limit_days)}).where(
        Case.id == case.id)
    await case.refresh()
    return case


async def card_of(case: Case) -> CaseCard | None:
    return await CaseCard.objects().where(CaseCard.case == case.id).first()


async def test_the_job_issues_red_and_yellow_cards_and_decisions_close_them(client) -> None:
    h = await hall()
    late = await started_days_ago(await filed_case(client, h), 8)  # promised 5 working days: 3 overdue
    tight = await started_days_ago(await filed_case(client, h), 4)  # one working day left
    relaxed = await filed_case(client, h)
    assert late.limit_days == 5

    done = await run_all()
    assert done["supervision.cards"] == 2
    red, yellow = await card_of(late), await card_of(tight)
    assert (red.color, red.red_on, red.closed_on, red.department, red.officer) == (
        "red", local_today(), None, h.police.id, None)
    assert (yellow.color, yellow.red_on) == ("yellow", None)
    assert await card_of(relaxed) is None
    assert (await run_all())["supervision.cards"] == 0  # idempotent

    await factories.login(client, h.clerk.mobile)
    assert (await officer_act(client, late.case_no, "accept", "受理")).status_code == 303
    await red.refresh()
    assert (red.color, red.officer, red.closed_on) == ("red", h.clerk.id, None)  # the clerk holds it now
    await factories.login(client, h.reviewer.mobile)
    assert (await officer_act(client, late.case_no, "review", "拟同意")).status_code == 303
    await factories.login(client, h.approver.mobile)
    assert (await officer_act(client, late.case_no, "approve", "准予")).status_code == 303
    await red.refresh()
    # Decided late: the red card stays on record, closed, against the officer who decided.
    assert (red.color, red.officer, red.closed_on) == ("red", h.approver.id, local_today())

    await factories.login(client, h.citizen.mobile)
    response = await factories.post(client, f"/cases/{tight.case_no}/withdraw", {"reason": "不办了"})
    assert response.status_code == 303, response.text
    await yellow.refresh()
    assert yellow.closed_on == local_today() and yellow.color == "yellow"


async def test_the_job_writes_a_batch_at_a_time_and_misses_none(client, monkeypatch) -> None:
    """Batches of one case: every card is still issued, and closed once its case is no longer near its due date."""
    monkeypatch.setattr(cards, "BATCH", 1)
    h = await hall()
    late = [await started_days_ago(await filed_case(client, h), 8) for _ in range(3)]
    await filed_case(client, h)  # time enough: no card
    assert (await run_all())["supervision.cards"] == 3
    assert [(await card_of(c)).color for c in late] == ["red"] * 3
    await Case.update({Case.state: "withdrawn", Case.decided_on: local_today()}).where(
        Case.id.is_in([c.id for c in late]))  # ended behind the transitions' back: the sweep closes the cards
    assert (await run_all())["supervision.cards"] == 3
    assert [(await card_of(c)).closed_on for c in late] == [local_today()] * 3


async def test_a_transition_issues_the_card_at_once_and_a_stopped_clock_keeps_it(client) -> None:
    h = await hall()
    case = await started_days_ago(await filed_case(client, h), 4)
    await factories.login(client, h.clerk.mobile)
    assert (await officer_act(client, case.case_no, "accept", "受理")).status_code == 303
    card = await card_of(case)
    assert (card.color, card.officer, card.issued_on) == ("yellow", h.clerk.id, local_today())

    other = await started_days_ago(await filed_case(client, h), 4)
    assert (await run_all())["supervision.cards"] == 1
    await factories.login(client, h.clerk.mobile)
    assert (await officer_act(client, other.case_no, "request_correction", "请补正", materials="id_card")
            ).status_code == 303
    card = await card_of(other)
    assert card.color == "yellow" and card.closed_on is None  # the clock stopped with one day left
    later = local_today() + timedelta(days=30)
    assert (await run_all(later))["supervision.cards"] == 1  # only the running case turns red
    assert (await card_of(other)).color == "yellow"
    assert (await card_of(case)).color == "red"


async def test_rollups_kept_on_transitions_equal_a_rebuild_from_the_data(client) -> None:
    h = await hall()
    first = await filed_case(client, h)
    second = await filed_case(client, h)
    await factories.login(client, h.clerk.mobile)
    assert (await officer_act(client, first.case_no, "accept", "受理")).status_code == 303
    assert (await officer_act(client, second.case_no, "reject", "不符合受理条件")).status_code == 303
    await factories.login(client, h.reviewer.mobile)
    assert (await officer_act(client, first.case_no, "review", "拟同意")).status_code == 303
    await factories.login(client, h.approver.mobile)
    assert (await officer_act(client, first.case_no, "approve", "准予")).status_code == 303

    kept = await CaseRollup.select(CaseRollup.department, CaseRollup.item, CaseRollup.month,
                                   *(getattr(CaseRollup, c) for c in COUNTS))
    assert len(kept) == 1
    row = kept[0]
    assert (row["department"], row["month"]) == (h.police.id, local_today().replace(day=1))
    assert (row["submitted"], row["decided"], row["on_time"]) == (2, 2, 2)
    assert await rebuild() == 1
    rebuilt = await CaseRollup.select(CaseRollup.department, CaseRollup.item, CaseRollup.month,
                                      *(getattr(CaseRollup, c) for c in COUNTS))
    assert rebuilt == kept
