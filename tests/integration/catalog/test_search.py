"""Finding services: two-character Chinese words, synonyms, ranking, filters, bad queries; the same on both engines."""

from __future__ import annotations

import re

import pytest

from app.catalog.search import SearchQuery, normalize, search
from app.catalog.services import import_catalogue
from app.catalog.tables import ServiceItem
from app.db import write_tx
from app.demo import seed_departments
from tests.catalog_fixture import catalogue

pytestmark = pytest.mark.anyio


@pytest.fixture
async def catalog(db):
    await seed_departments()
    await import_catalogue(catalogue())


def names(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/services/[^"]+">([^<]+)</a></h2>', html)


async def test_two_characters_are_enough(catalog, client):
    page = await client.get("/services", params={"q": "出生"})
    assert names(page.text) == ["出生登记"]
    assert "找到1个与“出生”相关的事项" in page.text


async def test_synonyms_find_both_forms(catalog, client):
    assert names((await client.get("/services", params={"q": "社保"})).text) == ["社会保险参保登记", "失业登记"]
    # 户口 appears in names and summaries; 户籍 (its synonym) in others: all are found, names first.
    found = names((await client.get("/services", params={"q": "户口"})).text)
    assert found[0] == "户口迁移"
    assert set(found) == {"户口迁移", "户籍证明开具", "出生登记"}
    assert "个体工商户设立登记" in names((await client.get("/services", params={"q": "执照"})).text)


async def test_ranking_exact_then_prefix_then_name_then_summary(catalog):
    async def rename(code, name, summary):
        await ServiceItem.update({ServiceItem.name: name, ServiceItem.search_name: normalize(name),
                                  ServiceItem.summary: summary, ServiceItem.search_text: normalize(summary)}).where(
            ServiceItem.code == code)
        from app.catalog.services import reindex

        item = await ServiceItem.objects().get(ServiceItem.code == code)
        async with write_tx():
            await reindex([(item.id, name, summary, "published")])

    await rename("440400-WJ-001", "失业金申领", "")
    await rename("440400-GA-003", "办理失业保险", "")
    await rename("440400-RS-002", "失业", "")
    await rename("440400-GA-002", "户口迁移", "迁入人员失业的，一并办理。")
    rows, _total = await search(SearchQuery(term="失业"))
    assert [r["name"] for r in rows] == ["失业", "失业金申领", "办理失业保险", "户口迁移"]
    assert [r["rank"] for r in rows] == [0, 1, 2, 3]


def substring_scan(items, words):
    """The slow, obviously right answer: every item whose name (or, for 2+ characters, summary) holds a word."""
    return {i["code"] for i in items for w in words
            if w in i["search_name"] or (len(w) > 1 and w in i["search_text"])}


@pytest.mark.parametrize(("term", "words"), [
    ("登记", ["登记"]), ("证明", ["证明"]), ("新生儿", ["新生儿"]), ("迁", ["迁"]), ("补贴", ["补贴"]),
    ("营业执照变更", ["营业执照变更"]), ("户籍", ["户籍", "户口"]), ("社会保险", ["社会保险", "社保"]),
    ("社保补贴", ["社保补贴", "社会保险补贴"]),
])
async def test_results_equal_a_substring_scan(catalog, term, words):
    items = await ServiceItem.select(ServiceItem.code, ServiceItem.search_name, ServiceItem.search_text)
    rows, total = await search(SearchQuery(term=term), limit=100)
    assert {r["code"] for r in rows} == substring_scan(items, words)
    assert total == len(rows)


async def test_filters_narrow_the_catalogue(catalog, client):
    assert names((await client.get("/services", params={"event": "生育"})).text) == ["出生登记", "生育登记"]
    assert set(names((await client.get("/services", params={"audience": "enterprise"})).text)) == {
        "社会保险参保登记", "营业执照变更登记", "个体工商户设立登记"}
    assert names((await client.get("/services", params={"visits": "0"})).text) == ["出生登记"]
    assert names((await client.get("/services", params={"visits": "2", "q": "户籍"})).text) == ["户籍证明开具"]


async def test_bad_queries_are_answered_calmly(catalog, client):
    empty = await client.get("/services", params={"q": ""})
    assert empty.status_code == 200 and "共8个事项" in empty.text
    long = await client.get("/services", params={"q": "社" * 500})
    assert long.status_code == 200 and "关键词最多50个字" in long.text
    for q in ("' OR 1=1 --", "<script>alert(1)</script>", "%", "_", "\\", "登记%"):
        response = await client.get("/services", params={"q": q})
        assert response.status_code == 200, q
        assert "<script>alert(1)</script>" not in response.text
        assert names(response.text) == [], q


async def test_search_as_you_type_gets_only_the_results_fragment(catalog, client):
    response = await client.get("/services", params={"q": "失业"}, headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<section id="results"')
    assert "<html" not in response.text
    assert names(response.text) == ["失业登记"]


async def test_pagination(catalog, client):
    from app.catalog import controllers

    original = controllers.PAGE_SIZE
    controllers.PAGE_SIZE = 3
    try:
        first = await client.get("/services")
        assert len(names(first.text)) == 3 and "第1页，共3页" in first.text
        last = await client.get("/services", params={"page": "3"})
        assert len(names(last.text)) == 2
    finally:
        controllers.PAGE_SIZE = original
