"""Bundle administration: a bundle edited as its catalogue-file JSON, checked like an import, saved and audited."""

from __future__ import annotations

import html
import json
import re

import pytest

from app.audit.tables import AuditEvent
from app.bundles.services import load_bundle
from app.bundles.tables import Bundle
from app.catalog.services import as_json, export_catalogue, import_catalogue
from app.demo import seed_departments
from app.errors import NotFound
from app.registry.tables import Department
from tests import factories as f
from tests.catalog_fixture import catalogue_with_bundles

pytestmark = pytest.mark.anyio

NEWBORN = "440400-YJS-CS"
CHANGE = "440400-YJS-BG"


@pytest.fixture
async def catalogue(db):
    await seed_departments()
    await import_catalogue(catalogue_with_bundles())


@pytest.fixture
async def admin(catalogue, client):
    dept = await Department.objects().get(Department.code == "ZH-HALL")
    officer = await f.officer(dept, "catalog_admin")
    await f.login(client, officer.mobile)
    return officer


def textarea(page: str) -> str:
    match = re.search(r'<textarea id="f-document" name="document"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, page
    return html.unescape(match.group(1))


async def stored() -> dict[str, dict]:
    return {b["code"]: b for b in (await export_catalogue())["bundles"]}


async def saves() -> int:
    return await AuditEvent.count().where(AuditEvent.action == "catalog.bundle_saved")


async def test_the_list_and_the_edit_page_show_the_export(admin, client):
    assert 'href="/office/catalog/bundles"' in (await client.get("/office/catalog")).text
    listing = await client.get("/office/catalog/bundles")
    assert "出生一件事" in listing.text and "变更登记一件事" in listing.text
    assert re.search(r"<td>3</td>\s*<td>启用</td>", listing.text)
    assert f'href="/office/catalog/bundles/{CHANGE}"' in listing.text

    page = await client.get(f"/office/catalog/bundles/{CHANGE}")
    assert page.status_code == 200
    shown = textarea(page.text)
    assert shown == json.dumps((await stored())[CHANGE], ensure_ascii=False, indent=2)  # what export writes
    market = await Department.objects().get(Department.code == "ZH-MARKET")
    assert "营业执照变更登记" in page.text and market.name in page.text
    assert "营业执照变更登记办结后开始" in page.text and "合计收费" in page.text and "20元" in page.text
    assert "目录文件格式的一件事定义" in (await client.get(f"/office/catalog/bundles/{NEWBORN}")).text
    assert "新生儿" in (await client.get(f"/office/catalog/bundles/{NEWBORN}")).text


async def test_a_changed_fee_is_saved_and_audited(admin, client):
    page = await client.get(f"/office/catalog/bundles/{CHANGE}")
    doc = json.loads(textarea(page.text))
    doc["members"][1]["fee"] = 35
    before = await Bundle.objects().get(Bundle.code == NEWBORN)

    response = await f.post(client, f"/office/catalog/bundles/{CHANGE}", {"document": json.dumps(doc)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/office/catalog/bundles/{CHANGE}"
    assert (await stored())[CHANGE] == doc
    row = await Bundle.objects().get(Bundle.code == CHANGE)
    assert [m["fee"] for m in as_json(row.members)] == [20, 35]
    assert (await Bundle.objects().get(Bundle.code == NEWBORN)).updated_at == before.updated_at
    audit = await AuditEvent.objects().where(AuditEvent.action == "catalog.bundle_saved").first()
    assert (audit.actor_id, audit.subject_key) == (admin.id, CHANGE)
    assert json.loads(audit.detail)["fields"] == ["members"]
    shown = await client.get(f"/office/catalog/bundles/{CHANGE}")
    assert "已保存" in shown.text and "55元" in shown.text

    again = await f.post(client, f"/office/catalog/bundles/{CHANGE}", {"document": json.dumps(doc)})
    assert again.status_code == 422 and "没有任何修改" in again.text
    assert await saves() == 1


async def test_a_cycle_is_refused_with_the_text_kept(admin, client):
    before = await stored()
    doc = before[NEWBORN] | {"members": [dict(m) for m in before[NEWBORN]["members"]]}
    doc["members"][0]["after"] = ["440400-RS-001"]  # 生育登记 → … → 参保 → 生育登记
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    response = await f.post(client, f"/office/catalog/bundles/{NEWBORN}", {"document": text})
    assert response.status_code == 422
    assert "不符合目录规则" in response.text
    assert ("members[0].after: dependency cycle: 440400-WJ-001 → 440400-RS-001 → 440400-GA-001 → 440400-WJ-001"
            in html.unescape(response.text))
    assert textarea(response.text) == text
    assert "出生一件事" in response.text  # the saved bundle's summary stays beside the refused text
    assert await stored() == before and await saves() == 0


async def test_bad_json_says_where(admin, client):
    text = '{\n  "code": "440400-YJS-BG",\n  "name": "变更登记一件事"\n  "audience": "enterprise"\n}'
    response = await f.post(client, f"/office/catalog/bundles/{CHANGE}", {"document": text})
    assert response.status_code == 422
    assert "JSON 格式有误：第4行第3列" in response.text
    assert textarea(response.text) == text
    assert "内容必须是一个描述一件事的 JSON 对象" in (
        await f.post(client, f"/office/catalog/bundles/{CHANGE}", {"document": "[]"})).text
    assert await saves() == 0


async def test_the_code_cannot_be_changed(admin, client):
    doc = (await stored())[CHANGE] | {"code": "440400-YJS-XX"}
    response = await f.post(client, f"/office/catalog/bundles/{CHANGE}", {"document": json.dumps(doc)})
    assert response.status_code == 422 and "编码不能修改" in response.text
    assert not await Bundle.exists().where(Bundle.code == "440400-YJS-XX")


async def test_a_new_bundle_is_checked_added_and_withdrawn(admin, client):
    page = await client.get("/office/catalog/bundles/new")
    doc = json.loads(textarea(page.text))
    assert list(doc) == list((await stored())[CHANGE])  # every key, in file order
    doc.update(code="440400-YJS-HK", name="户籍一件事", summary="迁移与证明一次办。", life_events=["户籍"])
    doc["members"] = [{"item": "440400-GA-002"}, {"item": "440400-GA-999", "after": ["440400-GA-002"]}]
    refused = await f.post(client, "/office/catalog/bundles/new", {"document": json.dumps(doc)})
    assert refused.status_code == 422
    assert "members[1].item: unknown item &#39;440400-GA-999&#39;" in refused.text

    doc["members"][1]["item"] = "440400-GA-003"
    created = await f.post(client, "/office/catalog/bundles/new", {"document": json.dumps(doc)})
    assert created.headers["location"] == "/office/catalog/bundles/440400-YJS-HK"
    assert [m["item"] for m in (await load_bundle("440400-YJS-HK"))["members"]] == ["440400-GA-002", "440400-GA-003"]
    duplicate = await f.post(client, "/office/catalog/bundles/new", {"document": json.dumps(doc)})
    assert duplicate.status_code == 422 and "已存在" in duplicate.text

    doc["status"] = "withdrawn"
    withdrawn = await f.post(client, "/office/catalog/bundles/440400-YJS-HK", {"document": json.dumps(doc)})
    assert withdrawn.status_code == 303
    with pytest.raises(NotFound):  # no longer offered
        await load_bundle("440400-YJS-HK")
    assert "已停用" in (await client.get("/office/catalog/bundles")).text
    details = [json.loads(a["detail"]) for a in await AuditEvent.select(AuditEvent.detail).where(
        AuditEvent.action == "catalog.bundle_saved").order_by(AuditEvent.id)]
    assert [(d["created"], d["status"]) for d in details] == [(True, "active"), (False, "withdrawn")]


async def test_only_catalogue_administrators_get_in(catalogue, client):
    before = await stored()
    doc = before[CHANGE] | {"on_failure": "continue"}
    market = await Department.objects().get(Department.code == "ZH-MARKET")
    reviewer = await f.officer(market, "reviewer")
    await f.login(client, reviewer.mobile)
    assert (await client.get("/office/catalog/bundles")).status_code == 403
    assert (await client.get(f"/office/catalog/bundles/{CHANGE}")).status_code == 403
    assert (await f.post(client, f"/office/catalog/bundles/{CHANGE}",
                         {"document": json.dumps(doc)})).status_code == 403

    await f.post(client, "/logout")
    resident, _ = await f.citizen()
    await f.login(client, resident.mobile)
    assert (await client.get(f"/office/catalog/bundles/{CHANGE}")).status_code == 403
    assert (await f.post(client, f"/office/catalog/bundles/{CHANGE}",
                         {"document": json.dumps(doc)})).status_code == 403
    assert await AuditEvent.count().where(AuditEvent.action == "access.denied") == 5
    assert await stored() == before and await saves() == 0
