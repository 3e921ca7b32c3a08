"""The guide: every field shown, the situation questionnaire narrowing the materials, with and without htmx."""

from __future__ import annotations

import pytest

from app.catalog.services import import_catalogue
from app.demo import seed_departments
from tests.catalog_fixture import catalogue

pytestmark = pytest.mark.anyio


@pytest.fixture
async def catalog(db):
    await seed_departments()
    await import_catalogue(catalogue())


async def test_guide_shows_every_part(catalog, client):
    page = await client.get("/services/440400-GA-001")
    for text in ("出生登记", "珠海市公安局", "申请条件", "符合条件的申请人", "办理流程", "受理审查", "设定依据",
                 "《测试条例》第一条", "承诺办结时限", "5个工作日", "法定办结时限", "20个工作日", "零跑动",
                 "不收费", "珠海市政务服务中心", "0756-12345", "出生医学证明", "居民身份证", "可用电子证照"):
        assert text in page.text, text
    assert "授权委托书" not in page.text


async def test_answering_the_questions_changes_the_materials(catalog, client):
    plain = await client.get("/services/440400-GA-001", params={"s_agent": "agent"})
    assert "授权委托书" in plain.text and "代理人身份证" in plain.text
    assert "居民身份证</td>" not in plain.text  # removed by the answer
    fragment = await client.get("/services/440400-GA-001", params={"s_agent": "self"},
                                headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="materials"')
    assert "居民身份证" in fragment.text and "授权委托书" not in fragment.text


async def test_print_view_lists_every_material_and_when(catalog, client):
    page = await client.get("/services/440400-GA-001/print")
    assert "出生登记办事指南" in page.text.replace(" ", "")
    assert "授权委托书" in page.text and "是否委托他人代办？委托代办" in page.text


async def test_unknown_and_withdrawn_items_are_404(catalog, client):
    assert (await client.get("/services/NO-SUCH-ITEM")).status_code == 404
    doc = catalogue()
    doc["items"][0]["status"] = "withdrawn"
    await import_catalogue(doc)
    assert (await client.get("/services/440400-GA-001")).status_code == 404
    assert "出生登记" not in (await client.get("/services", params={"q": "出生"})).text.split('id="results"')[1]
