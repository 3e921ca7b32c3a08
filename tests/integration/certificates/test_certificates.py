"""Certificates: issued with the approval, rendered to a real signed PDF, checked, revoked; WeasyPrint's fetcher."""

from __future__ import annotations

import base64
import io
import logging
import re
from datetime import date

import pytest
from pypdf import PdfReader

from app.certificates import pdf as certificate_pdf
from app.certificates.services import by_number, check_file, revoke, signature_ok
from app.certificates.tables import Certificate
from app.errors import Forbidden
from app.filestore import get_store
from app.filings.tables import Material
from tests import factories
from tests.filing_fixture import hall, png_bytes
from tests.integration.filings.test_filing import as_current, filed_case, officer_act

pytestmark = pytest.mark.anyio


async def approved_certificate(client, h) -> dict:
    case = await filed_case(client, h)
    for officer, action in ((h.clerk, "accept"), (h.reviewer, "review"), (h.approver, "approve")):
        await factories.login(client, officer.mobile)
        assert (await officer_act(client, case.case_no, action, "同意")).status_code == 303
    row = await Certificate.select().where(Certificate.case == case.id).first()
    assert row is not None
    return await by_number(row["cert_no"])


async def test_approval_issues_a_signed_pdf_certificate(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    assert cert["state"] == "issued" and cert["holder_name"] == h.person.name
    assert re.fullmatch(r"\d{19}", cert["cert_no"]) and cert["valid_until"] is not None
    data = get_store().get(cert["pdf_sha256"])
    assert data.startswith(b"%PDF") and len(data) == cert["pdf_size"] < 300_000

    reader = PdfReader(io.BytesIO(data))
    text = re.sub(r"\s", "", reader.pages[0].extract_text())  # the title is letter-spaced
    assert h.person.name in text and cert["cert_no"] in text and "户口迁移证明" in text
    fonts = [f["/FontDescriptor"] for font in reader.pages[0]["/Resources"]["/Font"].values()
             for f in font.get_object()["/DescendantFonts"]]
    assert fonts and all(re.match(r"^/[A-Z]{6}\+", str(d["/FontName"])) for d in fonts)  # subset
    assert all(any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3")) for d in fonts)  # embedded

    assert await signature_ok(data)
    flipped = bytearray(data)
    flipped[len(flipped) // 3] ^= 0x01
    assert not await signature_ok(bytes(flipped))
    assert (await check_file(cert, data)).verdict == "original"
    assert (await check_file(cert, bytes(flipped))).verdict == "altered"

    # The certificate is in the holder's library as the material its type stands for.
    material = await Material.select().where(Material.id == cert["material"]).first()
    assert material["holder_person"] == h.person.id and material["sha256"] == cert["pdf_sha256"]


async def test_numbers_count_up_per_type_and_year(client) -> None:
    h = await hall(certificate=True)
    first = await approved_certificate(client, h)
    second = await approved_certificate(client, h)
    assert int(second["cert_no"][-6:]) == int(first["cert_no"][-6:]) + 1


async def test_revocation_by_the_issuing_department_only(client) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)
    with pytest.raises(Forbidden):
        await revoke(cert, await as_current(h.other_reviewer.id), "错误", ip="127.0.0.1")
    await revoke(cert, await as_current(h.approver.id), "申请人提供虚假材料", ip="127.0.0.1")
    revoked = await by_number(cert["cert_no"])
    assert revoked["state"] == "revoked" and revoked["revoked_reason"] == "申请人提供虚假材料"
    material = await Material.select(Material.deleted_at).where(Material.id == cert["material"]).first()
    assert material["deleted_at"] is not None  # no longer stands in for an upload


HUGE_DATA_URL = "data:image/png;base64," + base64.b64encode(png_bytes(size=(2000, 2000)) + b"\0" * 8_000_000).decode()
REFUSED_URLS = (
    "file:///etc/passwd", "FILE:///etc/passwd", "file:/etc/passwd", "file://localhost/etc/passwd",
    "http://example.com/x.css", "https://127.0.0.1/", "ftp://127.0.0.1/x", "//example.com/x.css",
    "data:text/plain,hello", HUGE_DATA_URL,
    certificate_pdf.ASSET_BASE + "../app/settings.py", certificate_pdf.ASSET_BASE + "%2e%2e/pyproject.toml",
    certificate_pdf.ASSET_BASE + "..%2f..%2fapp/settings.py", certificate_pdf.ASSET_BASE + "/etc/passwd",
    certificate_pdf.ASSET_BASE + "css/../../app/settings.py", certificate_pdf.ASSET_BASE + "img/",
    certificate_pdf.ASSET_BASE.replace("/static/", "/static/../app/") + "settings.py",
    certificate_pdf.ASSET_BASE.replace("https://", "https://evil.example/?") + "css/app.css",
    certificate_pdf.FONT_BASE + "../../../../etc/passwd", certificate_pdf.FONT_BASE + "x.otf",
)


def test_the_fetcher_serves_only_our_static_files() -> None:
    fetcher = certificate_pdf._fetcher()
    assert fetcher.fetch(certificate_pdf.ASSET_BASE + "img/emblem.svg").read().startswith(b"<svg")
    for url in REFUSED_URLS:
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)


def test_a_template_reaching_outside_renders_without_it(caplog) -> None:
    log = logging.getLogger("yiwang.certificates")  # the app's logger does not propagate to the root
    log.addHandler(caplog.handler)
    html = ('<html><head><style>@import url("file:///etc/passwd"); '
            '@font-face { font-family: x; src: url(file:///usr/share/fonts/truetype/dejavu/DejaVuSans.ttf); } '
            'body { background: url("/static/../app/settings.py"); }</style>'
            '<link rel="stylesheet" href="file:///etc/passwd"><link rel="stylesheet" href="../app/settings.py">'
            '</head><body><p>证照</p><img src="file:///etc/passwd"><img src="http://example.com/a.png">'
            f'<img src="{HUGE_DATA_URL}"><img src="/static/../pyproject.toml"><object data="file:///etc/hosts">'
            '</object><iframe src="file:///etc/passwd"></iframe><img src="img/emblem.svg"></body></html>')
    try:
        out = certificate_pdf.render_pdf(html)
    finally:
        log.removeHandler(caplog.handler)
    text = PdfReader(io.BytesIO(out)).pages[0].extract_text()
    assert "证照" in text and "root:" not in text
    assert len(out) < 1_000_000  # the 8 MB data: image was not embedded
    refused = " ".join(r.getMessage() for r in caplog.records if "refused" in r.getMessage())
    for outside in ("file:///etc/passwd", "file:///usr/share/fonts", "http://example.com/a.png", "data:image/png",
                    "yiwang.invalid/app/settings.py", "yiwang.invalid/pyproject.toml", "file:///etc/hosts"):
        assert outside in refused, outside


async def test_the_compact_font_prints_common_characters_and_a_rare_one_falls_back(client) -> None:
    from app.certificates.services import certificate_html

    department = {"name": "珠海市公安局", "code": "ZH-POLICE"}
    cert = {"cert_no": "4404002026001000001", "holder_name": "陈㛃", "issued_on": date(2026, 11, 2),
            "valid_until": None, "fields": [["迁移原因", "购房落户"]]}
    data = certificate_pdf.render_pdf(certificate_html(cert, {"code": "MIGRATION_CERT_E", "name": "户口迁移证明"},
                                                       department))
    page = PdfReader(io.BytesIO(data)).pages[0]
    text = re.sub(r"\s", "", page.extract_text())
    assert "陈㛃" in text and "购房落户" in text  # 㛃 is outside GB 2312: printed from the full system font
    names = [str(f["/FontDescriptor"]["/FontName"]) for font in page["/Resources"]["/Font"].values()
             for f in font.get_object()["/DescendantFonts"]]
    assert any("Yiwang-Serif-SC" in n for n in names) and any("Noto-Serif-CJK-SC" in n for n in names), names
    assert len(data) < 300_000
