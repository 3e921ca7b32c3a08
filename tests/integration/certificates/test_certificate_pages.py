"""The certificate pages as their users see them: the holder's wallet and download, the public verify page and
its file check, the issuing department's revocation, expiry, and reuse of a certificate in a second filing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import jobs
from app.audit.tables import AuditEvent, DataAccess
from app.certificates.tables import Certificate
from app.filestore import get_store
from app.filings.tables import Case, CaseMaterial, Material
from app.filings.workflow import local_today
from app.notify.tables import Notification
from app.registry.validators import mask_name
from tests import factories
from tests.filing_fixture import PDF_BYTES, REUSE_ITEM, apply_form, hall, submit
from tests.integration.certificates.test_certificates import approved_certificate

pytestmark = pytest.mark.anyio


async def downloads(cert_no: str, outcome: str = "ok") -> int:
    return await AuditEvent.count().where(AuditEvent.action == "certificate.download",
                                          AuditEvent.subject_key == cert_no, AuditEvent.outcome == outcome)


async def test_the_holder_finds_it_in_the_wallet_and_downloads_it_others_cannot(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    await factories.login(client, h.citizen.mobile)
    wallet = await client.get("/me/certificates")
    assert "户口迁移证明" in wallet.text and cert["cert_no"] in wallet.text and "有效" in wallet.text

    url = f"/certificates/{cert['cert_no']}.pdf"
    pdf = await client.get(url)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == get_store().get(cert["pdf_sha256"])
    assert pdf.headers["etag"] == f'"{cert["pdf_sha256"]}"' and "private" in pdf.headers["cache-control"]
    again = await client.get(url, headers={"If-None-Match": pdf.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert await downloads(cert["cert_no"]) == 2  # each download is audited, the revalidated one too

    stranger, _person = await factories.citizen(name="李四")
    await factories.login(client, stranger.mobile)
    assert (await client.get(url)).status_code == 404
    assert cert["cert_no"] not in (await client.get("/me/certificates")).text
    assert await downloads(cert["cert_no"], "denied") == 1

    await factories.login(client, h.other_reviewer.mobile)  # another department's officer
    assert (await client.get(url)).status_code == 404
    await factories.login(client, h.approver.mobile)  # the issuing department: allowed, and on the access log
    assert (await client.get(url)).status_code == 200
    logged = await DataAccess.select().where(DataAccess.officer_id == h.approver.id,
                                             DataAccess.what.like(f"%{cert['cert_no']}%")).first()
    assert logged is not None and logged["holder_person"] == h.person.id


async def test_verify_page_shows_valid_then_revoked_with_the_reason(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    client.cookies.clear()  # no login needed
    page = await client.get(f"/verify/{cert['cert_no']}")
    assert page.status_code == 200 and "此证照有效" in page.text
    assert mask_name(h.person.name) in page.text and h.person.name not in page.text

    await factories.login(client, h.approver.mobile)
    office = await client.get(f"/office/certificates/{cert['cert_no']}")
    assert "吊销此证照" in office.text
    empty = await factories.post(client, f"/office/certificates/{cert['cert_no']}/revoke", {"reason": " "})
    assert empty.status_code == 422 and "请填写吊销的理由" in empty.text
    assert (await Certificate.select(Certificate.state).where(Certificate.id == cert["id"]).first())["state"] \
        == "issued"
    done = await factories.post(client, f"/office/certificates/{cert['cert_no']}/revoke",
                                {"reason": "申请人提供虚假材料"})
    assert done.status_code == 303

    client.cookies.clear()
    page = await client.get(f"/verify/{cert['cert_no']}")
    assert "此证照已被吊销" in page.text and "申请人提供虚假材料" in page.text
    await factories.login(client, h.citizen.mobile)
    assert "已吊销" in (await client.get("/me/certificates")).text
    assert await Notification.count().where(Notification.user == h.citizen.id,
                                            Notification.link == f"/verify/{cert['cert_no']}") == 1


async def test_another_departments_officer_cannot_revoke(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    await factories.login(client, h.other_reviewer.mobile)
    assert (await client.get(f"/office/certificates/{cert['cert_no']}")).status_code == 403
    response = await factories.post(client, f"/office/certificates/{cert['cert_no']}/revoke", {"reason": "无"})
    assert response.status_code == 403
    assert (await Certificate.select(Certificate.state).where(Certificate.id == cert["id"]).first())["state"] \
        == "issued"


async def test_dropping_a_file_on_the_verify_page(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    original = get_store().get(cert["pdf_sha256"])
    client.cookies.clear()
    await client.get("/verify")  # the CSRF cookie

    async def check(url: str, data: bytes) -> str:
        response = await factories.post(client, url, files={"file": ("证照.pdf", data, "application/pdf")})
        return response.text

    assert "未经改动的原件" in await check(f"/verify/{cert['cert_no']}", original)
    found = await check("/verify", original)  # without the number: found by the file itself
    assert "未经改动的原件" in found and cert["cert_no"] in found
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 0x01
    assert "已被改动" in await check(f"/verify/{cert['cert_no']}", bytes(altered))
    assert cert["cert_no"] in await check("/verify", bytes(altered))  # named by its signature: altered
    assert "不是本服务大厅签发" in await check("/verify", PDF_BYTES)
    refused = await factories.post(client, "/verify", files={"file": ("a.pdf", b"<html>", "application/pdf")})
    assert refused.status_code == 422 and "请选择证照的PDF文件" in refused.text
    assert await AuditEvent.count().where(AuditEvent.action == "certificate.check_file") == 5


async def test_an_expired_certificate_says_so_and_the_holder_is_told_once(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    await Certificate.update({Certificate.valid_until: local_today() - timedelta(days=1)}).where(
        Certificate.id == cert["id"])
    assert "此证照已过有效期" in (await client.get(f"/verify/{cert['cert_no']}")).text
    assert (await jobs.run_all())["certificates.expired"] == 1
    assert (await jobs.run_all())["certificates.expired"] == 0
    told = await Notification.select().where(Notification.user == h.citizen.id,
                                             Notification.link == "/me/certificates").order_by(Notification.id)
    assert "已过有效期" in told[-1]["title"]
    await factories.login(client, h.citizen.mobile)
    assert "已过期" in (await client.get("/me/certificates")).text


async def test_a_certificate_stands_in_for_the_material_in_the_next_filing(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    await factories.login(client, h.citizen.mobile)
    page = await client.get(f"/services/{REUSE_ITEM}/apply")
    assert "户口迁移证明" in page.text and "免提交" in page.text
    materials_before = await Material.count()
    key = await apply_form(client, REUSE_ITEM)
    response = await submit(client, key, form={}, code=REUSE_ITEM)  # no upload at all
    assert response.status_code == 303, response.text
    case = await Case.objects().where(Case.idempotency_key == key).first()
    attached = await CaseMaterial.select(CaseMaterial.id, CaseMaterial.reused, CaseMaterial.material).where(
        CaseMaterial.case == case.id)
    assert [(a["reused"], a["material"]) for a in attached] == [(True, cert["material"])]
    assert await Material.count() == materials_before  # no copy

    await factories.login(client, h.clerk.mobile)  # the front desk opens it: on the holder's access log
    opened = await client.get(f"/office/cases/{case.case_no}/materials/{attached[0]['id']}")
    assert opened.status_code == 200 and opened.content.startswith(b"%PDF")
    assert await DataAccess.count().where(DataAccess.officer_id == h.clerk.id, DataAccess.case_no == case.case_no,
                                          DataAccess.what == "户口迁移证明") == 1
