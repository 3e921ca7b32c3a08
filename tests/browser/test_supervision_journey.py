"""A supervisor's red card in Chromium: a case runs past its promised working days, the card job issues the red
card, and the supervisor finds it on /supervision and follows it down to the department and the case."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.accounts.tables import User
from app.filings.tables import Case, CaseStep
from app.i18n import TIMEZONE
from app.jobs import run_all
from app.supervision.tables import CaseCard
from app.workdays.calendar import local_today
from tests import factories
from tests.browser.journey import WIDTHS, log_in, screen
from tests.filing_fixture import hall
from tests.integration.filings.test_filing import filed_case
from tests.integration.supervision.test_cards import started_days_ago

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def filed_days_ago(client, h, working_days: int) -> Case:
    """A case filed `working_days` working days ago: its clock, and the moment the pages show, moved back."""
    case = await started_days_ago(await filed_case(client, h), working_days)
    moment = datetime.combine(case.clock_started_on, time(9, 30), ZoneInfo(TIMEZONE))
    await Case.update({Case.created_at: moment, Case.submitted_at: moment, Case.updated_at: moment}).where(
        Case.id == case.id)
    await CaseStep.update({CaseStep.created_at: moment}).where(CaseStep.case == case.id)
    return case


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_supervisor_follows_a_red_card_to_the_overdue_case(db, client, live_server, browser, width):
    h = await hall()
    late = await filed_days_ago(client, h, 8)  # promised 5 working days: 3 overdue
    in_time = await filed_case(client, h)
    supervisor = await factories.officer(h.hall, "supervisor")
    await User.update({User.display_name: "何志远"}).where(User.id == supervisor.id)
    assert (await run_all())["supervision.cards"] == 1
    card = await CaseCard.objects().where(CaseCard.case == late.id).first()
    assert (card.color, card.red_on, card.department, card.closed_on) == ("red", local_today(), h.police.id, None)
    assert await CaseCard.count().where(CaseCard.case == in_time.id) == 0

    s = await screen(browser, live_server, width)
    page = s.page
    await log_in(s, supervisor.mobile)
    await (await s.reachable(page.get_by_role("link", name="电子监察", exact=True))).click()
    await page.get_by_role("heading", name="电子监察", level=1).wait_for()
    red_tile = await s.reachable(page.locator(".tile-red"))
    assert (await red_tile.inner_text()).split() == ["在办红牌", "1"]
    await s.shot("supervisor-01-dashboard")

    # The officers' table names who holds the card (nobody has touched the case yet) and leads to the department.
    holder = page.locator("tr", has_text="尚未经手")
    assert (await holder.locator("td.num").all_inner_texts()) == ["0", "1"]
    await (await s.reachable(holder.get_by_role("link"))).click()
    await page.get_by_role("heading", name=h.police.name, level=1).wait_for()
    rows = page.locator("#cases tbody tr")
    assert await rows.count() == 1
    row = await rows.first.inner_text()
    assert late.case_no in row and "红牌" in row and "已超期 3 个工作日" in row
    await s.reachable(rows.first.get_by_text("已超期 3 个工作日"))
    await s.reachable(rows.first.get_by_text("红牌", exact=True))
    assert in_time.case_no not in await page.inner_text("#cases")
    await s.shot("supervisor-02-department")

    # The supervisor works at the case's service hall, so the number opens the case itself.
    await (await s.reachable(page.get_by_role("link", name=late.case_no))).click()
    await page.get_by_role("heading", name="户口迁移", level=1).wait_for()
    summary = await page.locator("main .card").first.inner_text()
    assert "待受理" in summary and "已超期 3 个工作日" in summary and late.case_no in summary
    assert not await page.locator("#act").count()  # supervisors look; they do not act
    await s.shot("supervisor-03-case")
    assert s.problems == []
