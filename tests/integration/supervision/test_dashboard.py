"""/supervision over HTTP: the figures equal what the cases, ratings and cards hold; drill-down, CSV, charts, guards."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

import pytest

from app.audit.tables import AuditEvent
from app.catalog.tables import ServiceItem
from app.filings.tables import Case
from app.jobs import run_all
from app.registry.tables import Department
from app.supervision.metrics import Period
from app.supervision.rollup import DECIDED_STATES
from app.supervision.tables import CaseCard, Rating, Rectification
from app.workdays.calendar import local_today
from tests import factories
from tests.filing_fixture import hall
from tests.integration.filings.test_filing import filed_case, officer_act
from tests.integration.supervision.test_cards import started_days_ago

pytestmark = pytest.mark.anyio


@dataclass
class City:
    h: object
    supervisor: object
    late: Case
    quick: Case
    red: Case
    tight: Case


async def decide(client, h, case: Case) -> None:
    for who, action in ((h.clerk, "accept"), (h.reviewer, "review"), (h.approver, "approve")):
        await factories.login(client, who.mobile)
        assert (await officer_act(client, case.case_no, action, "同意")).status_code == 303


async def city(client) -> City:
    """Four real police cases: one decided late (rated badly, rectified and accepted), one decided at once (rated
    very satisfied), one overdue (red card) and one with a working day left (yellow card)."""
    h = await hall()
    supervisor = await factories.officer(h.hall, "supervisor")
    late = await started_days_ago(await filed_case(client, h), 8)
    quick = await filed_case(client, h)
    red = await started_days_ago(await filed_case(client, h), 8)
    tight = await started_days_ago(await filed_case(client, h), 4)
    await run_all()
    await decide(client, h, late)
    await decide(client, h, quick)
    await factories.login(client, h.citizen.mobile)
    assert (await factories.post(client, f"/cases/{quick.case_no}/rating/", {"level": "5"})).status_code == 303
    assert (await factories.post(client, f"/cases/{late.case_no}/rating/",
                                 {"level": "1", "comment": "拖了很久"})).status_code == 303
    task = await Rectification.objects().first()
    await factories.login(client, h.approver.mobile)
    answered = await factories.post(client, f"/office/rectifications/{task.id}/answer",
                                    {"answer": "已约谈经办人，今后按时办结。"})
    assert answered.status_code == 303, answered.text
    await factories.login(client, h.citizen.mobile)
    assert (await factories.post(client, f"/cases/{late.case_no}/rating/accept")).status_code == 303
    await factories.login(client, supervisor.mobile)
    return City(h, supervisor, late, quick, red, tight)


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "—"


async def expected_row(department: int, period: Period) -> list[str]:
    """The department's line counted here from the cases, ratings, rectifications and cards themselves."""
    end = date(period.last.year + (period.last.month == 12), period.last.month % 12 + 1, 1)
    cases = await Case.select(Case.state, Case.clock_started_on, Case.decided_on, Case.days_used, Case.limit_days,
                              Case.item.online_level.as_alias("online_level"), Case.item.visits.as_alias("visits")
                              ).where(Case.department == department)
    started = [c for c in cases if c["clock_started_on"] and period.first <= c["clock_started_on"] < end]
    decided = [c for c in cases if c["state"] in DECIDED_STATES and period.first <= c["decided_on"] < end]
    on_time = [c for c in decided if c["days_used"] <= c["limit_days"]]
    ratings = await Rating.select(Rating.level).where(Rating.department == department)
    tasks = await Rectification.select(Rectification.closed_at).where(Rectification.department == department)
    cards = await CaseCard.select(CaseCard.color).where(CaseCard.department == department,
                                                       CaseCard.closed_on.is_null())
    days = sum(c["days_used"] for c in decided)
    return [str(len(started)), str(len(decided)), pct(len(on_time), len(decided)),
            pct(sum(c["online_level"] == "全程网办" for c in started), len(started)),
            pct(sum(c["visits"] == 0 for c in started), len(started)),
            f"{days / len(decided):.1f}" if decided else "—",
            pct(sum(r["level"] >= 3 for r in ratings), len(ratings)),
            pct(sum(t["closed_at"] is not None for t in tasks), len(tasks)),
            str(sum(c["color"] == "yellow" for c in cards)), str(sum(c["color"] == "red" for c in cards))]


def cells_of(html: str, href: str) -> list[str]:
    """The texts of the table row whose heading links to `href` (query string aside)."""
    row = re.search(r'<tr>\s*<th scope="row"><a href="' + re.escape(href) + r'[?"][^>]*>[^<]*</a></th>(.*?)</tr>',
                    html, re.S)
    assert row, f"no row for {href}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


async def test_every_shown_figure_is_counted_from_the_cases(client) -> None:
    c = await city(client)
    page = await client.get("/supervision")
    assert page.status_code == 200
    period = Period.last_months(local_today())
    police = cells_of(page.text, f"/supervision/departments/{c.h.police.id}")
    assert police == await expected_row(c.h.police.id, period)
    # What the scenario made, so that the comparison above is not between two empty rows.
    assert police[:3] == ["4", "2", "50.0%"] and police[6:] == ["50.0%", "100.0%", "1", "1"]
    market = await Department.objects().where(Department.code == "ZH-MARKET").first()
    assert cells_of(page.text, f"/supervision/departments/{market.id}") == ["0", "0", *["—"] * 6, "0", "0"]
    tiles = dict(re.findall(r'<div class="tile[^"]*"><dt>([^<]+)</dt><dd>(\d+)</dd>', page.text))
    assert tiles == {"在办黄牌": "1", "在办红牌": "1", "申请量": "4", "办结量": "2"}
    # The active cards per officer: nobody has acted on the overdue and the tight case yet.
    assert re.search(r"<th scope=\"row\">尚未经手</th><td><a [^>]+>[^<]+</a></td><td class=\"num\">1</td>"
                     r"<td class=\"num\">1</td>", page.text)


async def test_a_period_without_data_shows_dashes_not_zero_percent(client) -> None:
    c = await city(client)
    page = await client.get("/supervision?from=2020-01&to=2020-12")
    assert 'value="2020-01"' in page.text and 'value="2020-12"' in page.text
    # Cards are those active now, whatever the period.
    assert cells_of(page.text, f"/supervision/departments/{c.h.police.id}") == ["0", "0", *["—"] * 6, "1", "1"]
    assert "0.0%" not in page.text


async def test_only_supervisors_see_it_and_refusals_are_audited(client) -> None:
    h = await hall()
    for who in (h.clerk, h.approver, h.citizen):
        await factories.login(client, who.mobile)
        for url in ("/supervision", "/supervision/export.csv", f"/supervision/departments/{h.police.id}"):
            assert (await client.get(url)).status_code == 403
        assert await AuditEvent.count().where(AuditEvent.action == "access.denied",
                                              AuditEvent.actor_id == who.id) == 3
        assert 'href="/supervision"' not in (await client.get("/")).text
    await factories.post(client, "/logout")
    anonymous = await client.get("/supervision", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    supervisor = await factories.officer(h.hall, "supervisor")
    await factories.login(client, supervisor.mobile)
    assert 'href="/supervision"' in (await client.get("/")).text


async def test_the_csv_parses_and_says_what_the_page_says(client) -> None:
    c = await city(client)
    page = await client.get("/supervision")
    response = await client.get("/supervision/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["部门", "申请量", "办结量", "按时办结率"] and rows[0][-2:] == ["在办黄牌", "在办红牌"]
    by_name = {r[0]: r[1:] for r in rows[1:]}
    departments = await Department.select(Department.id, Department.name)
    assert len(rows) == len(departments) + 2  # header, every department, the total
    for d in departments:
        assert by_name[d["name"]] == cells_of(page.text, f"/supervision/departments/{d['id']}")
    assert by_name["全部部门"][:2] == ["4", "2"]
    audit = await AuditEvent.select().where(AuditEvent.action == "supervision.export.figures")
    assert [(a["actor_id"], a["outcome"]) for a in audit] == [(c.supervisor.id, "ok")]


async def test_the_drill_down_filters_the_cases_and_links_what_the_supervisor_may_open(client) -> None:
    c = await city(client)
    base = f"/supervision/departments/{c.h.police.id}"
    page = await client.get(base)
    assert page.status_code == 200 and c.h.police.name in page.text
    shown = {k: re.findall(r'class="mono"[^>]*>(\d+)<', (await client.get(f"{base}?cases={k}")).text)
             for k in ("yellow", "red", "open", "late")}
    assert shown == {"yellow": [c.tight.case_no], "red": [c.red.case_no],
                     "open": sorted([c.red.case_no, c.tight.case_no],
                                    key=lambda n: n != c.red.case_no),  # the overdue one is due first
                     "late": [c.late.case_no]}
    # The hall's supervisor may open the hall's cases, so the numbers link to the office case page.
    assert f'href="/office/cases/{c.red.case_no}"' in (await client.get(f"{base}?cases=red")).text
    monthly = re.search(rf"<th scope=\"row\">{local_today():%Y-%m}</th>(.*?)</tr>", page.text, re.S)
    assert monthly and "<td" in monthly.group(1)

    market_supervisor = await factories.officer(
        await Department.objects().where(Department.code == "ZH-MARKET").first(), "supervisor")
    await factories.login(client, market_supervisor.mobile)
    other = await client.get(f"{base}?cases=red")
    assert f'<span class="mono">{c.red.case_no}</span>' in other.text
    assert f'href="/office/cases/{c.red.case_no}"' not in other.text

    csv_response = await client.get(f"{base}/cases.csv?cases=open")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "办件编号" and [r[0] for r in rows[1:]] == shown["open"]
    assert {r[8] for r in rows[1:]} == {"红牌", "黄牌"}
    assert await AuditEvent.count().where(AuditEvent.action == "supervision.export.cases",
                                          AuditEvent.actor_id == market_supervisor.id) == 1


async def test_the_case_list_pages_fifty_at_a_time_by_due_date(client) -> None:
    c = await city(client)
    template = await Case.select().where(Case.id == c.tight.id).first()
    for n in range(55):
        await Case.insert(Case(**{**{k: v for k, v in template.items() if k != "id"},
                                  "case_no": f"9{n:011d}", "idempotency_key": f"k{n:042d}",
                                  "due_on": date(2030, 1, 1 + n % 28)}))
    base = f"/supervision/departments/{c.h.police.id}?cases=open"
    first = re.findall(r'class="mono"[^>]*>(\d+)<', (await client.get(base)).text)
    second = re.findall(r'class="mono"[^>]*>(\d+)<', (await client.get(base + "&page=2")).text)
    assert len(first) == 50 and len(second) == 7 and not set(first) & set(second)
    dues = {r["case_no"]: r["due_on"] for r in await Case.select(Case.case_no, Case.due_on)}
    listed = [dues[n] for n in first + second]
    assert listed == sorted(listed) and first[:2] == [c.red.case_no, c.tight.case_no]


async def test_charts_are_our_own_svg_without_script_with_a_table_beside(client) -> None:
    await city(client)
    page = await client.get("/supervision")
    sources = re.findall(r'<img src="(/supervision/charts/[^"]+)" alt="([^"]+)"', page.text)
    assert len(sources) == 3 and all(alt for _src, alt in sources)
    phone = re.findall(r'<source media="\(max-width: 600px\)" srcset="(/supervision/charts/[^"]+)"', page.text)
    assert len(phone) == 1
    sources.append((phone[0], ""))
    assert page.text.count('<details class="chart-data">') == 3
    for src, _alt in sources:
        svg = await client.get(src.replace("&amp;", "&"))
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        assert "<script" not in svg.text and "<svg" in svg.text
        assert set(re.findall(r"https?://[^\s\"'<>)]+", svg.text)) == {"http://www.w3.org/2000/svg"}
    months = (await client.get(sources[0][0].replace("&amp;", "&"))).text
    assert "申请量" in months and "办结量" in months
    on_time = (await client.get("/supervision/charts/on-time.svg")).text
    assert "50.0%" in on_time  # the police's on-time rate, as the table says
    assert (await client.get("/supervision/charts/nothing.svg")).status_code == 404


async def test_item_figures_follow_the_catalogue(client) -> None:
    """Online handling and zero visits follow the item's catalogue entry at submission."""
    c = await city(client)
    item = await ServiceItem.objects().where(ServiceItem.id == c.late.item).first()
    page = await client.get("/supervision")
    cells = cells_of(page.text, f"/supervision/departments/{c.h.police.id}")
    assert cells[3] == ("100.0%" if item.online_level == "全程网办" else "0.0%")
    assert cells[4] == ("100.0%" if item.visits == 0 else "0.0%")
