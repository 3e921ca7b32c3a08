"""Catalogue administration: drafts leave the live guide alone, publishing changes it, every version is kept."""

from __future__ import annotations

import pytest

from app.audit.tables import AuditEvent
from app.catalog.services import import_catalogue
from app.catalog.tables import SearchSynonym, ServiceItem, ServiceItemVersion
from app.demo import seed_departments
from app.registry.tables import Department
from tests import factories as f
from tests.catalog_fixture import catalogue

pytestmark = pytest.mark.anyio


@pytest.fixture
async def admin(db, client):
    await seed_departments()
    await import_catalogue(catalogue())
    dept = await Department.objects().get(Department.code == "ZH-HALL")
    officer = await f.officer(dept, "catalog_admin")
    await f.login(client, officer.mobile)
    return officer


async def form_for(client, code):
    page = await client.get(f"/office/catalog/{code}")
    assert page.status_code == 200
    import re

    values = dict(re.findall(r'name="([a-z_]+)" type="[a-z]+" value="([^"]*)"', page.text))
    values.update(re.findall(r'<textarea id="f-[a-z_]+" name="([a-z_]+)"[^>]*>([^<]*)</textarea>', page.text))
    for name in ("visits", "online_level", "status"):
        values[name] = re.search(rf'name="{name}".*?<option value="([^"]*)" selected', page.text, re.S).group(1)
    return values


async def test_draft_then_publish(admin, client):
    values = await form_for(client, "440400-GA-002")
    assert values["name"] == "户口迁移" and values["procedure"] == "网上申请\n受理审查\n办结"
    values.update(name="户口迁入登记", promised_limit_days="3", note="按新规缩短时限", action="draft")
    response = await f.post(client, "/office/catalog/440400-GA-002", values)
    assert response.status_code == 303
    live = await client.get("/services/440400-GA-002")
    assert "户口迁移" in live.text and "户口迁入登记" not in live.text
    assert "户口迁入登记" in (await client.get("/office/catalog/440400-GA-002")).text  # the draft is resumed

    values["action"] = "publish"
    response = await f.post(client, "/office/catalog/440400-GA-002", values)
    assert response.headers["location"] == "/office/catalog/440400-GA-002/versions"
    live = await client.get("/services/440400-GA-002")
    assert "户口迁入登记" in live.text and "3个工作日" in live.text
    assert "户口迁入登记" in (await client.get("/services", params={"q": "迁入"})).text
    item = await ServiceItem.objects().get(ServiceItem.code == "440400-GA-002")
    assert item.version == 3
    versions = await client.get("/office/catalog/440400-GA-002/versions")
    assert "第3版" in versions.text and "第2版" in versions.text and "草稿" in versions.text
    assert "按新规缩短时限" in versions.text and "户口迁移" in versions.text and "户口迁入登记" in versions.text
    published = await ServiceItemVersion.objects().where(ServiceItemVersion.version == 3).first()
    assert published.author_id == admin.id and set(published.changed_fields.split(",")) == {
        "name", "promised_limit_days"}
    assert await AuditEvent.exists().where(AuditEvent.action == "catalog.publish", AuditEvent.actor_id == admin.id)


async def test_bad_edits_are_refused_with_the_input_kept(admin, client):
    values = await form_for(client, "440400-GA-002")
    values.update(name="户", promised_limit_days="30", procedure="", action="publish")
    response = await f.post(client, "/office/catalog/440400-GA-002", values)
    assert response.status_code == 422
    assert "请填写2至60个字" in response.text
    assert "承诺时限不能长于法定时限" in response.text
    assert "请填写1至12个步骤" in response.text
    assert 'value="30"' in response.text
    assert (await ServiceItem.objects().get(ServiceItem.code == "440400-GA-002")).version == 1
    unchanged = await form_for(client, "440400-GA-002")
    unchanged["action"] = "publish"
    assert "没有任何修改" in (await f.post(client, "/office/catalog/440400-GA-002", unchanged)).text


async def test_synonyms_are_editable(admin, client):
    response = await f.post(client, "/office/catalog/synonyms", {"term": "身份证", "alternative": "居民身份证"})
    assert response.status_code == 303
    assert await SearchSynonym.exists().where(SearchSynonym.term == "身份证")
    assert "已有这一对词" in (await f.post(client, "/office/catalog/synonyms",
                                          {"term": "社会保险", "alternative": "社保"})).text
    pair = await SearchSynonym.objects().where(SearchSynonym.term == "户口").first()
    await f.post(client, f"/office/catalog/synonyms/{pair.id}/delete")
    assert not await SearchSynonym.exists().where(SearchSynonym.term == "户口")


async def test_only_catalogue_administrators_get_in(db, client):
    await seed_departments()
    dept = await Department.objects().get(Department.code == "ZH-MARKET")
    reviewer = await f.officer(dept, "reviewer")
    await f.login(client, reviewer.mobile)
    assert (await client.get("/office/catalog")).status_code == 403
    assert (await f.post(client, "/office/catalog/synonyms", {"term": "甲", "alternative": "乙"})).status_code == 403
    assert await AuditEvent.count().where(AuditEvent.action == "access.denied", AuditEvent.actor_id == reviewer.id) == 2
    assert await SearchSynonym.count() == 0
