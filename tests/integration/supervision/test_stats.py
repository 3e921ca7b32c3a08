"""The public /stats page: no login, the database's figures, no personal data, cached for five minutes."""

from __future__ import annotations

import re

import pytest

from app.accounts.tables import User
from app.catalog.tables import ServiceItem
from app.filings.tables import Case
from app.supervision import controllers
from app.workdays.calendar import local_today
from tests import factories
from tests.filing_fixture import ITEM, REUSE_ITEM, hall
from tests.integration.filings.test_filing import filed_case, officer_act

pytestmark = pytest.mark.anyio


def tiles(html: str) -> dict[str, str]:
    return {k: re.sub(r"<[^>]+>", "", v).strip()
            for k, v in re.findall(r'<div class="tile[^"]*"><dt>([^<]+)</dt><dd>(.*?)</dd>', html)}


async def two_cases_one_decided_and_rated(client) -> tuple[object, list[Case]]:
    h = await hall()
    cases = [await filed_case(client, h), await filed_case(client, h)]
    for who, action in ((h.clerk, "accept"), (h.reviewer, "review"), (h.approver, "approve")):
        await factories.login(client, who.mobile)
        assert (await officer_act(client, cases[0].case_no, action, "同意")).status_code == 303
    await factories.login(client, h.citizen.mobile)
    assert (await factories.post(client, f"/cases/{cases[0].case_no}/rating/", {"level": "4"})).status_code == 303
    await factories.post(client, "/logout")
    return h, cases


async def test_stats_are_public_and_say_what_the_database_holds(client) -> None:
    h, cases = await two_cases_one_decided_and_rated(client)
    # One item needs a visit to the hall: it is published but not handled wholly online.
    await ServiceItem.update({ServiceItem.online_level: "部分网办"}).where(ServiceItem.code == REUSE_ITEM)
    page = await client.get("/stats")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "public, max-age=300"
    published = await ServiceItem.count().where(ServiceItem.status == "published")
    online = await ServiceItem.count().where(ServiceItem.status == "published", ServiceItem.online_level == "全程网办")
    assert published > online > 0
    decided = await Case.objects().where(Case.id == cases[0].id).first()
    on_time = "100.0%" if decided.days_used <= decided.limit_days else "0.0%"
    assert tiles(page.text) == {"全程网办事项": f"{online} / {published}", "申请量": "2", "办结量": "1",
                                "按时办结率": on_time, "满意率": "100.0%", "评价数": "1"}
    this_month = re.search(rf'<th scope="row">{local_today():%Y-%m}</th><td class="num">(\d+)</td>'
                           r'<td class="num">(\d+)</td>', page.text)
    assert this_month.groups() == ("2", "1")
    item = await ServiceItem.objects().where(ServiceItem.code == ITEM).first()
    busiest = re.findall(r'<a class="busiest-name" href="/services/([^"]+)">([^<]+)</a>.*?'
                         r'<span class="busiest-count">([^<]+)</span>', page.text)
    assert busiest == [(ITEM, item.name, "2件")]
    # Aggregates only: nobody's name, number or case appears.
    officers = await User.select(User.display_name).where(User.kind == "officer").output(as_list=True)
    for private in (h.person.name, h.person.id_number, h.citizen.mobile, *(c.case_no for c in cases), *officers):
        assert private not in page.text


async def test_the_figures_come_from_the_cache_until_it_is_forgotten(client) -> None:
    h, _cases = await two_cases_one_decided_and_rated(client)
    assert tiles((await client.get("/stats")).text)["申请量"] == "2"
    await filed_case(client, h)  # a third submission, counted in the roll-ups at once
    await factories.post(client, "/logout")
    assert tiles((await client.get("/stats")).text)["申请量"] == "2"  # the worker's copy, up to five minutes old
    controllers._stats_cache.forget()
    assert tiles((await client.get("/stats")).text)["申请量"] == "3"


async def test_a_logged_in_visitor_sees_the_same_figures_but_nothing_is_cached_publicly(client) -> None:
    h, _cases = await two_cases_one_decided_and_rated(client)
    await factories.login(client, h.citizen.mobile)
    page = await client.get("/stats")
    assert tiles(page.text)["申请量"] == "2" and h.citizen.display_name in page.text  # the header's name
    assert "public" not in page.headers["cache-control"]
    assert 'href="/stats"' in page.text  # the footer links here


async def test_the_chart_is_our_own_svg_without_script(client) -> None:
    await two_cases_one_decided_and_rated(client)
    page = await client.get("/stats")
    assert '<img src="/stats/charts/months.svg" alt="' in page.text
    assert '<details class="chart-data">' in page.text
    svg = await client.get("/stats/charts/months.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["cache-control"] == "public, max-age=300"
    assert "<script" not in svg.text and "申请量" in svg.text
    assert set(re.findall(r"https?://[^\s\"'<>)]+", svg.text)) == {"http://www.w3.org/2000/svg"}
