"""The S3 file store against a real S3-compatible server process (moto's): the store itself, then uploads,
certificate PDFs, downloads, the export zip and the verify-by-upload with every file in the bucket."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import zipfile

import pytest

from app.filestore import S3Store, get_store
from app.filings.tables import CaseMaterial, Material
from tests import factories
from tests.filing_fixture import PDF_BYTES, hall, png_bytes
from tests.integration.certificates.test_certificates import approved_certificate
from tests.servers import S3_KEYS, make_bucket, s3_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    with s3_server(tmp_path_factory.mktemp("s3")) as (url, _process):
        yield url


@pytest.fixture
def s3(s3_endpoint, settings_env, tmp_path) -> S3Store:
    """The app on a bucket of its own; the local materials folder is one that must stay unmade."""
    bucket = f"yiwang-{secrets.token_hex(4)}"
    make_bucket(s3_endpoint, bucket)
    settings_env(YIWANG_STORAGE="s3", YIWANG_S3_ENDPOINT=s3_endpoint, YIWANG_S3_BUCKET=bucket,
                 YIWANG_MATERIALS_DIR=str(tmp_path / "local-materials"), **S3_KEYS)
    get_store.cache_clear()
    store = get_store()
    assert isinstance(store, S3Store)
    yield store
    get_store.cache_clear()


def keys(store: S3Store) -> set[str]:
    return {o["Key"] for o in store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])}


def test_the_s3_store_keeps_each_file_once_under_its_digest(s3, tmp_path) -> None:
    sha = hashlib.sha256(PDF_BYTES).hexdigest()
    assert not s3.exists(sha)
    for read in (s3.get, s3.open):
        with pytest.raises(FileNotFoundError):
            read(sha)
    s3.put(sha, PDF_BYTES)
    assert s3.exists(sha) and s3.get(sha) == PDF_BYTES
    file = tmp_path / "again.pdf"
    file.write_bytes(PDF_BYTES)
    s3.put(sha, file)  # the same bytes from a file: taken (the file is gone), still one object
    assert not file.exists() and keys(s3) == {sha}
    with s3.open(sha) as body:
        assert body.read(5) == b"%PDF-" and body.read() == PDF_BYTES[5:]
    with pytest.raises(ValueError):
        s3.put("../" + sha[3:], PDF_BYTES)
    assert keys(s3) == {sha}


async def test_uploads_certificates_downloads_export_and_verify_on_s3(client, s3, tmp_path) -> None:
    h = await hall(certificate=True)
    cert = await approved_certificate(client, h)  # applies with two uploads, then the three officers
    materials = await Material.select(Material.id, Material.sha256, Material.content_type)
    assert {m["sha256"] for m in materials} == keys(s3)  # the uploads and the signed PDF, all in the bucket
    assert hashlib.sha256(png_bytes()).hexdigest() in keys(s3) and cert["pdf_sha256"] in keys(s3)
    assert not (tmp_path / "local-materials").exists()

    attached = await CaseMaterial.select(CaseMaterial.id, CaseMaterial.case.case_no.as_alias("case_no"),
                                         CaseMaterial.material.sha256.as_alias("sha256")).first()
    opened = await client.get(f"/office/cases/{attached['case_no']}/materials/{attached['id']}")  # the approver
    assert opened.status_code == 200 and opened.content == s3.get(attached["sha256"])
    assert int(opened.headers["content-length"]) == len(opened.content)

    await factories.login(client, h.citizen.mobile)
    pdf = await client.get(f"/certificates/{cert['cert_no']}.pdf")
    assert pdf.status_code == 200 and pdf.content == s3.get(cert["pdf_sha256"])
    png = next(m for m in materials if m["content_type"] == "image/png")
    mine = await client.get(f"/me/materials/{png['id']}/file")
    assert mine.status_code == 200 and mine.content == png_bytes()

    export = await client.get("/me/export")
    with zipfile.ZipFile(io.BytesIO(export.content)) as zf:
        page = json.loads(zf.read("page.json"))
        assert len(page["files"]) == 4  # two uploads, the certificate and its copy in the library
        for name in page["files"]:
            assert hashlib.sha256(zf.read(name)).hexdigest() in keys(s3)
        assert zf.read(f"certificates/{cert['cert_no']}.pdf") == pdf.content

    client.cookies.clear()
    await client.get("/verify")
    checked = await factories.post(client, "/verify", files={"file": ("证照.pdf", pdf.content, "application/pdf")})
    assert "未经改动的原件" in checked.text and cert["cert_no"] in checked.text
