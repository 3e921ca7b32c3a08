"""The certificate journey in Chromium: the holder downloads the signed PDF, scans its QR code to the verify
page, drops the file there, and the certificate stands in for the material in the next application."""

from __future__ import annotations

import anyio
import pytest
import zxingcpp
from PIL import Image

from app.certificates.services import signature_ok
from app.settings import get_settings
from tests import factories
from tests.filing_fixture import REUSE_ITEM, hall
from tests.integration.certificates.test_certificates import approved_certificate

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


@pytest.fixture
def public_url(live_server, monkeypatch):
    """Certificates rendered in this test point their QR code at the live server."""
    monkeypatch.setenv("YIWANG_PUBLIC_URL", live_server)
    get_settings.cache_clear()
    yield live_server
    get_settings.cache_clear()


async def test_download_scan_verify_and_reuse_in_chromium(db, client, public_url, browser, artifacts, tmp_path):
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    page = await browser.new_page(viewport={"width": 375, "height": 812})
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))

    await page.goto(public_url + "/login")
    await page.get_by_label("手机号码").fill(h.citizen.mobile)
    await page.get_by_label("密码").fill(factories.PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(lambda url: "/login" not in url)
    await page.goto(public_url + "/me/certificates")
    await page.screenshot(path=artifacts / "wallet-phone.png", full_page=True, caret="initial")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="下载PDF").first.click()
    saved = tmp_path / "certificate.pdf"
    await (await download_info.value).save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF") and await signature_ok(data)

    # Scan the QR code off the printed page, as a phone camera would, and follow it.
    await anyio.run_process(["/usr/bin/pdftoppm", "-r", "150", "-png", "-singlefile", saved, tmp_path / "page"])
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    urls = [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert urls == [f"{public_url}/verify/{cert['cert_no']}"]
    await page.goto(urls[0])
    await page.get_by_text("此证照有效。").wait_for()
    assert h.person.name not in await page.inner_text("main")  # masked
    await page.get_by_label("证照PDF文件").set_input_files(saved)
    await page.get_by_role("button", name="核验").click()
    await page.get_by_text("该文件是签发部门出具的未经改动的原件。").wait_for()
    await page.screenshot(path=artifacts / "verify-phone.png", full_page=True, caret="initial")

    # The next application needs that certificate: it is attached by itself, nothing to upload.
    await page.goto(f"{public_url}/services/{REUSE_ITEM}/apply")
    slot = page.locator(".material-slot", has_text="户口迁移证明")
    await slot.get_by_text("免提交").wait_for()
    await page.get_by_role("button", name="提交申请").click()
    await page.get_by_text("申请已提交").wait_for()
    await page.screenshot(path=artifacts / "reused-case-phone.png", full_page=True, caret="initial")
    assert problems == []
