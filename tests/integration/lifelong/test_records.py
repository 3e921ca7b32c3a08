"""The holder's records over HTTP: the materials library, the data-access log with disputes, the export zip."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import pytest

from app.audit.tables import AuditEvent, DataAccess
from app.certificates.tables import Certificate
from app.filings.tables import Case, CaseMaterial, Material
from app.filings.workflow import local_today, state_label
from app.lifelong.tables import AccessDispute
from app.settings import get_settings
from tests import factories
from tests.filing_fixture import apply_form, hall, png_bytes, submit
from tests.integration.certificates.test_certificates import approved_certificate
from tests.integration.filings.test_filing import filed_case, form_of

pytestmark = pytest.mark.anyio


async def library_of(person_id: int) -> list[Material]:
    return await Material.objects().where(Material.holder_person == person_id, Material.deleted_at.is_null())


async def test_another_citizen_cannot_see_download_or_delete_my_material(client) -> None:
    h = await hall()
    await filed_case(client, h)
    material = (await library_of(h.person.id))[0]
    stranger, _ = await factories.citizen(name="王五")
    await factories.login(client, stranger.mobile)
    page = await client.get("/me/materials")
    assert page.status_code == 200 and material.filename not in page.text and "材料库是空的" in page.text
    assert (await client.get(f"/me/materials/{material.id}/file")).status_code == 404
    assert (await factories.post(client, f"/me/materials/{material.id}/delete")).status_code == 404
    denied = await AuditEvent.select().where(AuditEvent.action == "access.denied",
                                             AuditEvent.subject_type == "material")
    assert [(r["actor_id"], r["subject_key"]) for r in denied] == [(stranger.id, str(material.id))] * 2
    assert (await Material.objects().where(Material.id == material.id).first()).deleted_at is None


async def test_a_material_an_open_case_relies_on_is_not_deleted(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    material = (await library_of(h.person.id))[0]
    page = await client.get("/me/materials")
    assert f'href="/cases/{case.case_no}"' in page.text and "办理中的申请正在使用" in page.text
    assert f'action="/me/materials/{material.id}/delete"' not in page.text  # no button for it
    refused = await factories.post(client, f"/me/materials/{material.id}/delete")
    assert refused.status_code == 409
    assert f"办件{case.case_no}正在办理" in refused.text and f'id="material-{material.id}"' in refused.text
    assert (await Material.objects().where(Material.id == material.id).first()).deleted_at is None
    assert await AuditEvent.count().where(AuditEvent.action == "material.delete",
                                          AuditEvent.outcome == "refused") == 1


async def test_a_certificates_copy_is_shown_as_such_and_kept(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    await factories.login(client, h.citizen.mobile)
    page = await client.get("/me/materials")
    assert "电子证照" in page.text and cert["cert_no"] in page.text
    copy = await Certificate.select(Certificate.material).where(Certificate.id == cert["id"]).first()
    refused = await factories.post(client, f"/me/materials/{copy['material']}/delete")
    assert refused.status_code == 422 and "电子证照的副本" in refused.text
    assert (await Material.objects().where(Material.id == copy["material"]).first()).deleted_at is None


async def test_my_file_and_deleting_an_unused_upload(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    assert (await factories.post(client, f"/cases/{case.case_no}/withdraw", {"reason": "不办了"})).status_code == 303
    material = next(m for m in await library_of(h.person.id) if m.content_type == "image/png")
    file = await client.get(f"/me/materials/{material.id}/file")
    assert file.status_code == 200 and file.content == png_bytes() and file.headers["content-type"] == "image/png"
    assert file.headers["cache-control"] == "private, no-store"
    assert file.headers["content-disposition"] == (
        f"inline; filename=\"material-{material.id}.png\"; filename*=UTF-8''%E8%BA%AB%E4%BB%BD%E8%AF%81.png")
    page = await client.get("/me/materials")
    assert page.text.count(f'action="/me/materials/{material.id}/delete"') == 1
    assert state_label("withdrawn") in page.text

    deleted = await factories.post(client, f"/me/materials/{material.id}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/me/materials?deleted=1"
    page = await client.get("/me/materials?deleted=1")
    assert "材料已从材料库删除" in page.text and f'id="material-{material.id}"' not in page.text
    assert material.id not in [m.id for m in await library_of(h.person.id)]
    assert await CaseMaterial.exists().where(CaseMaterial.material == material.id)  # the case's record stays
    assert await AuditEvent.exists().where(AuditEvent.action == "material.delete", AuditEvent.outcome == "ok",
                                           AuditEvent.subject_key == str(material.id))
    assert (await client.get(f"/me/materials/{material.id}/file")).status_code == 404


async def test_deleting_an_upload_of_a_draft_takes_it_off_the_draft(client) -> None:
    h = await hall()
    await factories.login(client, h.citizen.mobile)
    key = await apply_form(client)
    files = {"file_id_card": ("身份证.png", png_bytes(), "image/png")}
    assert (await submit(client, key, form=form_of(h), files=files, action="draft")).status_code == 303
    material = (await library_of(h.person.id))[0]
    assert (await factories.post(client, f"/me/materials/{material.id}/delete")).status_code == 303
    draft = await Case.objects().where(Case.idempotency_key == key).first()
    assert draft.state == "draft" and not await CaseMaterial.exists().where(CaseMaterial.case == draft.id)


async def test_the_access_log_shows_an_officers_look_and_takes_one_dispute(client) -> None:
    h = await hall()
    case = await filed_case(client, h)
    await factories.login(client, h.clerk.mobile)
    assert (await client.get(f"/office/cases/{case.case_no}")).status_code == 200
    access = await DataAccess.objects().where(DataAccess.holder_person == h.person.id).first()

    await factories.login(client, h.citizen.mobile)
    page = await client.get("/me/access-log")
    assert h.clerk.display_name in page.text and h.hall.name in page.text
    assert f'href="/cases/{case.case_no}"' in page.text and "办理该办件" in page.text and "共1条记录" in page.text

    url = f"/me/access-log/{access.id}/dispute"
    empty = await factories.post(client, url, {"reason": "  "})
    assert empty.status_code == 422 and "请说明" in empty.text
    too_long = await factories.post(client, url, {"reason": "为" * 501})
    assert too_long.status_code == 422 and "500" in too_long.text and "为" * 501 in too_long.text
    raised = await factories.post(client, url, {"reason": "我没有在该窗口办理业务"})
    assert raised.status_code == 303 and raised.headers["location"] == f"/me/access-log?page=1#access-{access.id}"
    page = await client.get("/me/access-log")
    assert "已提出异议 · 待答复" in page.text and "我没有在该窗口办理业务" in page.text
    assert f'action="{url}"' not in page.text

    again = await factories.post(client, url, {"reason": "再问一次"})
    assert again.status_code == 409 and "已经对这次查看提出过异议" in again.text
    disputes = await AccessDispute.select().where(AccessDispute.access == access.id)
    assert [(d["state"], d["raised_by"]) for d in disputes] == [("open", h.citizen.id)]
    assert await AuditEvent.count().where(AuditEvent.action == "access.dispute") == 1

    await AccessDispute.update({AccessDispute.state: "answered", AccessDispute.answer: "系统受理时自动调阅。"}).where(
        AccessDispute.access == access.id)
    assert "系统受理时自动调阅。" in (await client.get("/me/access-log")).text

    stranger, _ = await factories.citizen(name="王五")
    await factories.login(client, stranger.mobile)
    assert h.clerk.display_name not in (await client.get("/me/access-log")).text
    assert (await factories.post(client, url, {"reason": "看看"})).status_code == 404
    assert await AuditEvent.exists().where(AuditEvent.action == "access.denied",
                                           AuditEvent.subject_type == "data_access", AuditEvent.actor_id == stranger.id)


async def test_the_export_holds_every_file_the_pages_list(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    await factories.login(client, h.citizen.mobile)
    materials_page = (await client.get("/me/materials")).text
    wallet_page = (await client.get("/me/certificates")).text
    listed_materials = {int(i) for i in re.findall(r'href="/me/materials/(\d+)/file"', materials_page)}
    listed_certificates = set(re.findall(r'href="/certificates/(\d+)\.pdf"', wallet_page))
    assert len(listed_materials) == 3 and listed_certificates == {cert["cert_no"]}

    response = await client.get("/me/export")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="yiwang-export-{local_today():%Y%m%d}.zip"')
    assert response.headers["cache-control"] == "private, no-store"
    assert int(response.headers["content-length"]) == len(response.content)
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        names = set(zf.namelist())
        page = json.loads(zf.read("page.json"))
        assert names == {"page.json", *page["files"]}
        assert {m["file"] for m in page["materials"]} | {c["file"] for c in page["certificates"]} == set(
            page["files"])
        assert {m["id"] for m in page["materials"]} == listed_materials
        assert {c["cert_no"] for c in page["certificates"]} == listed_certificates
        for m in page["materials"]:
            assert m["file"].startswith(f"materials/{m['id']}-")
            assert hashlib.sha256(zf.read(m["file"])).hexdigest() == m["sha256"]
        pdf = zf.read(f"certificates/{cert['cert_no']}.pdf")
        assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == cert["pdf_sha256"]

    assert page["profile"]["id_number"] == h.person.id_number  # their own data: not masked
    (case,) = page["cases"]
    assert case["state"] == "approved" and [s["action"] for s in case["steps"]] == [
        "submit", "accept", "review", "approve"]
    assert case["form_data"]["address"] == "珠海市香洲区凤凰北路18号"
    assert {a["officer"] for a in page["access_log"]} == {h.clerk.display_name}
    assert page["notifications"] and page["account"]["mobile"] == h.citizen.mobile
    assert await AuditEvent.exists().where(AuditEvent.action == "page.export", AuditEvent.actor_id == h.citizen.id)
    assert not list((get_settings().var_dir / "tmp").iterdir())  # the zip was an unnamed temporary file


async def test_pages_need_a_login_and_officers_have_none(client) -> None:
    h = await hall()
    for url in ("/me/materials", "/me/access-log", "/me/export"):
        assert (await client.get(url, follow_redirects=False)).headers["location"].startswith("/login")
    await factories.login(client, h.clerk.mobile)
    for url in ("/me/materials", "/me/access-log", "/me/export"):
        assert (await client.get(url, follow_redirects=False)).headers["location"] == "/office"
